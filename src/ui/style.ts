/**
 * ANSI styling for the human renderers. Colour only on a TTY and never when NO_COLOR is set
 * (https://no-color.org), so piped output and CI logs stay plain text.
 */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  /** A stable colour per module id, so interleaved output stays readable. */
  module(id: string, s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const MODULE_COLOURS = [36, 35, 34, 32, 33, 96, 95, 94];

export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string): string => s;
    return { bold: id, dim: id, red: id, yellow: id, green: id, cyan: id, module: (_m, s) => s };
  }
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    green: wrap(32, 39),
    cyan: wrap(36, 39),
    module: (m, s) => {
      let h = 0;
      for (const c of m) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      return wrap(MODULE_COLOURS[h % MODULE_COLOURS.length] ?? 36, 39)(s);
    },
  };
}

/** Colour decision shared by every renderer: a TTY, and NO_COLOR unset or empty. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms - m * 60_000) / 1000)}s`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** `HH:MM:SS.mmm` (UTC) for --timestamps. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

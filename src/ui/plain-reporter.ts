/**
 * The human renderer: pack-style phase headers (`===> DETECTING`) closed by their elapsed time, module
 * output prefixed `[module-id] line`, warnings and info lines, and the final summary, all on stderr
 * (docs/architecture.md, "Conventions": the UI shows warnings and progress). Docker's own build chatter (intermediate container ids) and
 * debug events only with `verbose`; `quiet` keeps warnings only; `timestamps` prefixes every line.
 * tty-reporter.ts adds a spinner on top of this for waits that print nothing.
 */
import type { KilnEvent, Reporter } from '../ports.js';
import { formatPullLines } from './pull-lines.js';
import { formatSummary } from './summary.js';
import { formatClock, formatDuration, makeStyle, type Style } from './style.js';

export interface Writable {
  write(text: string): unknown;
}

export interface PlainReporterOptions {
  /** Where to write (default process.stderr). */
  out?: Writable;
  verbose?: boolean;
  quiet?: boolean;
  /** Prefix every line with the time of day (UTC, HH:MM:SS.mmm). */
  timestamps?: boolean;
  color?: boolean;
  now?: () => number;
}

/** Lines of `docker build` output that only say which intermediate container or image was used. */
const DOCKER_CHATTER = /^(\s*---> (Running in |Using cache|[0-9a-f]{12}$)|Removing intermediate container |\[Warning\] One or more build-args \[[^\]]*\] were not consumed)/;

export function isDockerChatter(line: string): boolean {
  return DOCKER_CHATTER.test(line);
}

function layerVerb(decision: Extract<KilnEvent, { type: 'layer' }>['decision']): string {
  return decision === 'reused' ? 'Reusing' : decision === 'added' ? 'Adding' : decision === 'cached' ? 'Caching' : 'Restoring';
}

/** One event as the lines people see (none when it is hidden at this verbosity). */
export function formatEventLines(e: KilnEvent, verbose: boolean, style: Style): string[] {
  switch (e.type) {
    case 'phase-start':
      return [style.cyan(style.bold(`===> ${e.phase.toUpperCase()}`))];
    case 'phase-end':
      return [style.dim(`     ${e.phase.toLowerCase()} took ${formatDuration(e.elapsedMs)}`)];
    case 'module-line':
      if (!verbose && isDockerChatter(e.line)) return [];
      return [`${style.module(e.module, `[${e.module}]`)} ${e.line}`];
    case 'info':
      return [e.message];
    case 'warning':
      return [style.yellow(`Warning: ${e.message}`)];
    case 'debug':
      return verbose ? [style.dim(e.message)] : [];
    case 'layer':
      return [`${layerVerb(e.decision)} layer '${e.layer}'`];
    case 'wait-start':
      return [`${e.message}...`];
    case 'wait-end':
      return [];
    case 'result':
      return ['', ...formatSummary(e.result, style)];
    case 'pull-start':
    case 'pull-progress':
    case 'pull-end':
      return formatPullLines(e, style);
  }
}

/** Kept for callers of the first version: the plain text of one event, if shown. */
export function formatEvent(e: KilnEvent, verbose = false): string | undefined {
  const lines = formatEventLines(e, verbose, makeStyle(false));
  return lines.length > 0 ? lines.join('\n') : undefined;
}

export function createPlainReporter(opts: PlainReporterOptions = {}): Reporter {
  const out = opts.out ?? process.stderr;
  const style = makeStyle(opts.color ?? false);
  const now = opts.now ?? Date.now;
  return {
    emit(event) {
      if (opts.quiet === true && event.type !== 'warning') return;
      const lines = formatEventLines(event, opts.verbose ?? false, style);
      if (lines.length === 0) return;
      const prefix = opts.timestamps === true ? `${style.dim(formatClock(now()))} ` : '';
      out.write(lines.map((l) => `${prefix}${l}\n`).join(''));
    },
  };
}

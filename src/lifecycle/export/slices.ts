/**
 * App slices (buildpack.md, "launch.toml (TOML)", "Slice Layers", "Phase #6: Export"): each `[[slices]]` entry becomes one app layer with the
 * app paths its globs match; one final layer has the rest. Globs follow Go's filepath.Match against
 * paths relative to <app> ('*' and '?' stop at '/', '[...]' classes, '\' escapes; no '**'), so an
 * absolute pattern never matches. A matched directory takes its whole subtree; a path already taken
 * by an earlier slice stays there. Slice layers also carry the directories above their paths; the
 * final layer keeps every directory and every file no slice took. Every slice yields a layer, even
 * an empty one.
 */
import type { Slice } from '../../cnb/models.js';

/** Go filepath.Match as a RegExp; undefined for a malformed pattern (Go's ErrBadPattern: no match). */
export function globToRegExp(pattern: string): RegExp | undefined {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      i++;
      if (i >= pattern.length) return undefined;
      re += escapeRe(pattern[i] as string);
    } else if (c === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls += '^';
        j++;
      }
      let first = true;
      while (j < pattern.length && (pattern[j] !== ']' || first)) {
        first = false;
        let ch = pattern[j] as string;
        if (ch === '\\') {
          j++;
          if (j >= pattern.length) return undefined;
          ch = pattern[j] as string;
        }
        cls += ch === '-' && pattern[j - 1] !== '\\' ? '-' : escapeRe(ch);
        j++;
      }
      if (j >= pattern.length || cls === '' || cls === '^') return undefined;
      // Character classes never match the separator in filepath.Match.
      re += cls.startsWith('^') ? `[${cls}/]` : `(?!/)[${cls}]`;
      i = j;
    } else re += escapeRe(c);
  }
  try {
    return new RegExp(`^${re}$`, 's');
  } catch {
    return undefined;
  }
}

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

export interface AppEntry {
  /** Relative to <app>, '/'-separated, no leading './'. */
  path: string;
  isDir: boolean;
}

export interface SlicePlan {
  /** One exclude predicate per slice (for normaliseTarStream's `exclude`), in slice order. */
  sliceExcludes: ((rel: string) => boolean)[];
  /** Exclude predicate of the final app layer. */
  finalExclude: (rel: string) => boolean;
}

function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** Decides which slice (if any) takes each app path. */
export function planSlices(slices: Slice[], entries: AppEntry[]): SlicePlan {
  const patterns = slices.map((s) => s.paths.map(globToRegExp).filter((r): r is RegExp => r !== undefined));
  const matches = (i: number, path: string): boolean => (patterns[i] ?? []).some((re) => re.test(path));
  const owner = new Map<string, number>();
  for (const e of entries) {
    for (let i = 0; i < slices.length; i++) {
      const hit = matches(i, e.path) || ancestors(e.path).some((a) => matches(i, a));
      if (hit) {
        owner.set(e.path, i);
        break;
      }
    }
  }
  const keep: Set<string>[] = slices.map(() => new Set<string>());
  for (const [path, i] of owner) {
    keep[i]?.add(path);
    for (const a of ancestors(path)) keep[i]?.add(a);
  }
  const isDir = new Map(entries.map((e) => [e.path, e.isDir]));
  return {
    sliceExcludes: keep.map((set) => (rel: string) => !set.has(rel)),
    finalExclude: (rel: string) => owner.has(rel) && isDir.get(rel) !== true,
  };
}

/**
 * A tiny decoder toolkit shared by every spec/ parser. It walks `unknown` TOML values with a key path,
 * records error issues (wrong type, missing key) and warning issues for keys nobody read (unknown keys
 * are reported, never silently dropped), and finds the line of a key path in the TOML text so issues
 * can point at it.
 */
import type { ParseResult, SpecIssue } from './models.js';
import { parseToml, type TomlTable } from './toml.js';

/** Where issues go, and how to find lines for key paths. */
export class DecodeContext {
  readonly issues: SpecIssue[] = [];
  private readonly lines: Map<string, number>;

  constructor(
    readonly file: string,
    text = '',
  ) {
    this.lines = indexKeyLines(text);
  }

  /** The line of a key path, or of its nearest ancestor that has one. */
  lineOf(keyPath: string): number | undefined {
    let p = keyPath;
    for (;;) {
      const line = this.lines.get(p);
      if (line !== undefined) return line;
      const parent = parentPath(p);
      if (parent === undefined) return undefined;
      p = parent;
    }
  }

  error(keyPath: string, message: string, code?: SpecIssue['code']): void {
    this.add('error', keyPath, message, code);
  }

  warn(keyPath: string, message: string): void {
    this.add('warning', keyPath, message);
  }

  hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }

  /** value is returned only when no error was recorded. */
  result<T>(value: T): ParseResult<T> {
    return this.hasErrors() ? { issues: this.issues } : { value, issues: this.issues };
  }

  private add(severity: SpecIssue['severity'], keyPath: string, message: string, code?: SpecIssue['code']): void {
    const line = this.lineOf(keyPath);
    this.issues.push({
      severity,
      file: this.file,
      keyPath,
      ...(line !== undefined ? { line } : {}),
      message,
      ...(code !== undefined ? { code } : {}),
    });
  }
}

/**
 * Parses the text and hands the root table to `decode`. TOML syntax errors end the parse with one issue.
 * Every parser in spec/ is this plus a decode function.
 */
export function decodeToml<T>(text: string, file: string, decode: (root: TableReader, ctx: DecodeContext) => T): ParseResult<T> {
  const parsed = parseToml(text, file);
  if (parsed.value === undefined) return { issues: parsed.issues };
  const ctx = new DecodeContext(file, text);
  const root = new TableReader(ctx, '', parsed.value);
  const value = decode(root, ctx);
  root.finish();
  return ctx.result(value);
}

export function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

function parentPath(p: string): string | undefined {
  if (p === '') return undefined;
  if (p.endsWith(']')) return p.slice(0, p.lastIndexOf('['));
  const dot = p.lastIndexOf('.');
  return dot < 0 ? '' : p.slice(0, dot);
}

/** "a string", "an array" ... for messages like "must be a string, not an array". */
export function describe(v: unknown): string {
  if (v instanceof Date) return 'a date';
  if (Array.isArray(v)) return 'an array';
  if (v === null || v === undefined) return 'nothing';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a float';
    case 'object':
      return 'a table';
    default:
      return typeof v;
  }
}

export function isTable(v: unknown): v is TomlTable {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

interface StringOpts {
  /** Also reject the empty string. */
  nonEmpty?: boolean;
}

/**
 * Reads the keys of one table. Every getter marks its key as read; `finish()` warns about the rest.
 * Getters return a safe default after recording an error, so decoding continues and collects every issue.
 */
export class TableReader {
  private readonly seen = new Set<string>();

  constructor(
    readonly ctx: DecodeContext,
    readonly path: string,
    readonly data: TomlTable,
  ) {}

  keyPath(key: string): string {
    return joinPath(this.path, key);
  }

  has(key: string): boolean {
    return this.data[key] !== undefined;
  }

  /** Marks a key as read and returns its raw value. */
  raw(key: string): unknown {
    this.seen.add(key);
    return this.data[key];
  }

  /** Marks keys as known without reading them (e.g. keys the spec tells us to ignore). */
  ignore(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  optString(key: string, opts: StringOpts = {}): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      this.ctx.error(this.keyPath(key), `must be a string, not ${describe(v)}`);
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.ctx.error(this.keyPath(key), 'must not be empty');
      return undefined;
    }
    return v;
  }

  /** A string defaulting to "" when absent. */
  string(key: string, opts: StringOpts = {}): string {
    return this.optString(key, opts) ?? '';
  }

  /** A string that must be present (and, with nonEmpty, not blank). */
  reqString(key: string, opts: StringOpts = {}): string {
    if (this.data[key] === undefined) {
      this.seen.add(key);
      this.ctx.error(this.keyPath(key), 'is required');
      return '';
    }
    return this.optString(key, opts) ?? '';
  }

  optBool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.ctx.error(this.keyPath(key), `must be a boolean, not ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  bool(key: string, dflt = false): boolean {
    return this.optBool(key) ?? dflt;
  }

  /** An array of strings; absent => []. */
  stringArray(key: string): string[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    return decodeStringArray(this.ctx, this.keyPath(key), v);
  }

  /** A sub-table; absent => undefined. The caller must call finish() on it. */
  optTable(key: string): TableReader | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!isTable(v)) {
      this.ctx.error(this.keyPath(key), `must be a table, not ${describe(v)}`);
      return undefined;
    }
    return new TableReader(this.ctx, this.keyPath(key), v);
  }

  /** A free-form table (e.g. [metadata]): not checked, never warned about; absent => {}. */
  freeTable(key: string): Record<string, unknown> {
    const v = this.raw(key);
    if (v === undefined) return {};
    if (!isTable(v)) {
      this.ctx.error(this.keyPath(key), `must be a table, not ${describe(v)}`);
      return {};
    }
    return v;
  }

  /**
   * An array of tables ([[key]] or an inline array of inline tables), each decoded by `each`
   * (which need not call finish(); it is called here). Absent => [].
   */
  tableArray<T>(key: string, each: (t: TableReader, index: number) => T): T[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    const path = this.keyPath(key);
    if (!Array.isArray(v)) {
      this.ctx.error(path, `must be an array of tables, not ${describe(v)}`);
      return [];
    }
    const out: T[] = [];
    v.forEach((item: unknown, i: number) => {
      const itemPath = `${path}[${i}]`;
      if (!isTable(item)) {
        this.ctx.error(itemPath, `must be a table, not ${describe(item)}`);
        return;
      }
      const r = new TableReader(this.ctx, itemPath, item);
      out.push(each(r, i));
      r.finish();
    });
    return out;
  }

  /** Warns once for every key nobody read. */
  finish(): void {
    for (const key of Object.keys(this.data)) {
      if (!this.seen.has(key)) this.ctx.warn(this.keyPath(key), 'unknown key (ignored)');
    }
  }
}

export function decodeStringArray(ctx: DecodeContext, path: string, v: unknown): string[] {
  if (!Array.isArray(v)) {
    ctx.error(path, `must be an array of strings, not ${describe(v)}`);
    return [];
  }
  const out: string[] = [];
  v.forEach((x: unknown, i: number) => {
    if (typeof x === 'string') out.push(x);
    else ctx.error(`${path}[${i}]`, `must be a string, not ${describe(x)}`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Line index: a light scan of the TOML text (not a second parser) that maps key paths such as
// "order[1].group[0].id" to 1-based lines. Good enough for pointing at a line; when a path is not found
// the nearest ancestor's line is used, and when nothing is found the issue simply carries no line.

const HEADER = /^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const KEY = /^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=/;

function splitDotted(s: string): string[] {
  const out: string[] = [];
  const re = /\s*("([^"]*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*(\.|$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && m[0] !== '') out.push(m[2] ?? m[3] ?? m[1] ?? '');
  return out;
}

export function indexKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  const set = (p: string, n: number): void => {
    if (!lines.has(p)) lines.set(p, n);
  };
  // Resolves header segments, turning each array-of-tables prefix into its current element.
  const resolve = (segs: string[]): string => {
    let p = '';
    for (const s of segs) {
      p = joinPath(p, s);
      const count = arrayCounts.get(p);
      if (count !== undefined) p = `${p}[${count - 1}]`;
    }
    return p;
  };
  let table = '';
  let multiline: string | undefined;
  // Open brackets of a multi-line array value: its continuation lines are neither headers nor keys.
  let depth = 0;
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const n = i + 1;
    if (multiline !== undefined) {
      if (rawLine.includes(multiline)) multiline = undefined;
      return;
    }
    if (depth > 0) {
      depth += bracketBalance(rawLine);
      return;
    }
    const header = HEADER.exec(rawLine);
    if (header) {
      const segs = splitDotted(header[2] ?? '');
      if (header[1] === '[[') {
        const parent = resolve(segs.slice(0, -1));
        const arr = joinPath(parent, segs[segs.length - 1] ?? '');
        const count = (arrayCounts.get(arr) ?? 0) + 1;
        arrayCounts.set(arr, count);
        set(arr, n);
        table = `${arr}[${count - 1}]`;
      } else {
        table = resolve(segs);
      }
      set(table, n);
      return;
    }
    const key = KEY.exec(rawLine);
    if (key) {
      const segs = splitDotted(key[1] ?? '');
      let p = table;
      for (const s of segs) {
        p = joinPath(p, s);
        set(p, n);
      }
      const rest = rawLine.slice(key[0].length);
      for (const q of ['"""', "'''"]) {
        const at = rest.indexOf(q);
        if (at >= 0 && !rest.slice(at + 3).includes(q)) multiline = q;
      }
      if (multiline === undefined) depth = Math.max(0, bracketBalance(rest));
    }
  });
  return lines;
}

/** '[' and '{' minus ']' and '}' outside simple strings and comments (enough to follow array values). */
function bracketBalance(line: string): number {
  let balance = 0;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') break;
    else if (c === '[' || c === '{') balance++;
    else if (c === ']' || c === '}') balance--;
  }
  return balance;
}

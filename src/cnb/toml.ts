/**
 * The one place that knows the TOML library (@iarna/toml 2.2.5, TOML 0.5). Everything it returns is
 * plain data typed `unknown` until a decoder (decode.ts) has checked it.
 */
import TOML from '@iarna/toml';
import type { ParseResult } from './models.js';

/** A TOML document as parsed: a table whose values are not yet checked. */
export type TomlTable = Record<string, unknown>;

/**
 * Parses TOML text. A syntax error becomes one error issue carrying the parser's 1-based line; the
 * message keeps only the parser's first sentence (its code frame is noise in our one-line issues).
 */
export function parseToml(text: string, file: string): ParseResult<TomlTable> {
  try {
    return { value: toPlain(TOML.parse(text)) as TomlTable, issues: [] };
  } catch (e) {
    const err = e as { message?: unknown; line?: unknown; fromTOML?: unknown };
    const raw = typeof err.message === 'string' ? err.message : String(e);
    const firstLine = raw.split('\n')[0] ?? raw;
    const message = `invalid TOML: ${firstLine.replace(/ at row \d+, col \d+, pos \d+:?$/, '')}`;
    // @iarna/toml reports a 0-based line.
    const line = typeof err.line === 'number' ? err.line + 1 : undefined;
    return { issues: [{ severity: 'error', file, keyPath: '', ...(line !== undefined ? { line } : {}), message }] };
  }
}

/** Serialises a table. `undefined` and `null` values are dropped (TOML has no null). */
export function stringifyToml(value: Record<string, unknown>): string {
  return TOML.stringify(dropEmpty(value) as Parameters<typeof TOML.stringify>[0]);
}

/**
 * @iarna/toml returns null-prototype objects tagged with symbols; copy into ordinary objects so values
 * compare, spread and JSON-serialise like any other data.
 */
function toPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Date) return v;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
    return out;
  }
  return v;
}

function dropEmpty(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined && x !== null).map(dropEmpty);
  if (v instanceof Date) return v;
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) out[k] = dropEmpty(x);
    return out;
  }
  return v;
}

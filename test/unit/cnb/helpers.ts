import type { ParseResult, SpecIssue } from '../../../src/cnb/models.js';

/** The value of a result that must have no errors (warnings allowed). */
export function ok<T>(r: ParseResult<T>): T {
  const errors = r.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0 || r.value === undefined) throw new Error(`unexpected errors: ${JSON.stringify(errors)}`);
  return r.value;
}

export function errors(r: ParseResult<unknown>): SpecIssue[] {
  return r.issues.filter((i) => i.severity === 'error');
}

export function warnings(r: ParseResult<unknown>): SpecIssue[] {
  return r.issues.filter((i) => i.severity === 'warning');
}

/** Dedent a template literal so inline TOML fixtures can be indented in the test source. */
export function toml(strings: TemplateStringsArray, ...vals: unknown[]): string {
  const raw = strings.reduce((acc, s, i) => acc + s + (i < vals.length ? String(vals[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}

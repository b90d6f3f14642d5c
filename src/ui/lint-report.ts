/**
 * Output of `kiln buildpack|extension lint` and `new`: one line per finding, compiler style
 * (`file:line: severity: message [rule] (spec section)`), then a count; `--json` gives the same as data.
 */
import type { LintFinding } from '../image/dockerfile-lint.js';
import { makeStyle, wantsColor } from './style.js';

export interface LintOutput {
  kind: string;
  dir: string;
  findings: LintFinding[];
}

type Out = { write(s: string): unknown; isTTY?: boolean };

function counts(findings: readonly LintFinding[]): Record<'error' | 'warning' | 'info', number> {
  const c = { error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity] += 1;
  return c;
}

export function renderLintReport(r: LintOutput, opts: { json?: boolean; out?: Out } = {}): void {
  const out = opts.out ?? process.stdout;
  const c = counts(r.findings);
  if (opts.json === true) {
    out.write(`${JSON.stringify({ ok: c.error === 0, kind: r.kind, dir: r.dir, counts: c, findings: r.findings }, null, 2)}\n`);
    return;
  }
  const s = makeStyle(wantsColor(out));
  const paint = { error: s.red, warning: s.yellow, info: s.cyan };
  for (const f of r.findings) {
    const where = f.line !== undefined ? `${f.file}:${f.line}` : f.file;
    out.write(`${where}: ${paint[f.severity](f.severity)}: ${f.message} ${s.dim(`[${f.rule}] (${f.spec})`)}\n`);
  }
  const summary = `${r.kind} ${r.dir}: ${c.error} error(s), ${c.warning} warning(s), ${c.info} note(s)`;
  out.write(`${c.error === 0 ? s.green(summary) : s.red(summary)}\n`);
}

export function renderNewModule(r: { kind: string; id: string; dir: string; files: string[] }, opts: { json?: boolean; out?: Out } = {}): void {
  const out = opts.out ?? process.stdout;
  if (opts.json === true) out.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
  else out.write(`created ${r.kind} ${r.id} in ${r.dir}: ${r.files.join(', ')}\nnext: kiln ${r.kind} lint ${r.dir}\n`);
}

/**
 * Results of `kiln buildpack|extension lint` and `new` (through ui/command-output.ts): one line per
 * finding, compiler style (`file:line: severity: message [rule] (spec section)`), then a count; the
 * JSON document has the same as data.
 */
import type { LintFinding } from '../image/dockerfile-lint.js';
import type { Style } from './style.js';

export interface LintOutput {
  kind: string;
  dir: string;
  findings: LintFinding[];
}

function counts(findings: readonly LintFinding[]): Record<'error' | 'warning' | 'info', number> {
  const c = { error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity] += 1;
  return c;
}

export function lintReportJson(r: LintOutput): unknown {
  const c = counts(r.findings);
  return { ok: c.error === 0, kind: r.kind, dir: r.dir, counts: c, findings: r.findings };
}

export function lintReportHuman(r: LintOutput, s: Style): string {
  const c = counts(r.findings);
  const paint = { error: s.red, warning: s.yellow, info: s.cyan };
  const lines = r.findings.map((f) => {
    const where = f.line !== undefined ? `${f.file}:${f.line}` : f.file;
    return `${where}: ${paint[f.severity](f.severity)}: ${f.message} ${s.dim(`[${f.rule}] (${f.spec})`)}\n`;
  });
  const summary = `${r.kind} ${r.dir}: ${c.error} error(s), ${c.warning} warning(s), ${c.info} note(s)`;
  return `${lines.join('')}${c.error === 0 ? s.green(summary) : s.red(summary)}\n`;
}

export interface NewModuleOutput {
  kind: string;
  id: string;
  dir: string;
  files: string[];
}

export function newModuleJson(r: NewModuleOutput): unknown {
  return { ok: true, ...r };
}

export function newModuleHuman(r: NewModuleOutput): string {
  return `created ${r.kind} ${r.id} in ${r.dir}: ${r.files.join(', ')}\nnext: kiln ${r.kind} lint ${r.dir}\n`;
}

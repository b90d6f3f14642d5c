/**
 * Output of `kiln generate` (issue 20 point 2): per extension, each Dockerfile with the image it applies
 * to and its build args, then its text; `--json` gives the report as data (printed by ui/command-output.ts).
 */
import type { GenerateReport } from '../app/generate-report.js';
import type { Style } from './style.js';

export function generateReportJson(r: GenerateReport, written?: string): unknown {
  return { ok: true, ...r, ...(written !== undefined ? { output: written } : {}) };
}

export function generateReportHuman(r: GenerateReport, s: Style, written?: string): string {
  let text = '';
  const out = { write: (line: string): void => void (text += line) };
  if (r.extensions.length === 0) out.write('no extension of the chosen group generated anything (the group has no extensions)\n');
  for (const e of r.extensions) {
    out.write(`${s.bold(`${e.id}@${e.version}`)} (from ${e.source})\n`);
    if (e.dockerfiles.length === 0) out.write('  no Dockerfile\n');
    for (const d of e.dockerfiles) {
      out.write(`  ${s.cyan(`${d.kind}.Dockerfile`)} -> ${d.applied ? `applied to ${d.appliesTo}` : 'not applied'}${d.note !== undefined ? ` (${d.note})` : ''}\n`);
      out.write(`  context: ${d.context === 'app' ? 'the app' : `${d.context}/`}\n`);
      out.write(`  build args: ${d.args.map((a) => `${a.name}=${a.value}`).join(' ')}\n`);
      for (const line of d.text.replace(/\n$/, '').split('\n')) out.write(`  ${s.dim('|')} ${line}\n`);
    }
  }
  out.write(`run image: ${r.runImage}${r.runImageSwitched ? ' (switched by an extension)' : ''}\n`);
  if (written !== undefined) out.write(`written to ${written}\n`);
  return text;
}

/**
 * `kiln generate --output DIR` (issue 20 point 2): each extension's Dockerfiles and extend-config.toml
 * under DIR/<escaped id>/ (the layout of <layers>/generated/ in platform.md, "`generator`"). DIR must not
 * exist or be empty, so nothing of the user's is overwritten.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { escapeId } from '../cnb/paths.js';
import { extendConfigToml, type GenerateReport } from './generate-report.js';

export async function writeGenerateOutput(report: GenerateReport, dir: string): Promise<string> {
  const root = resolve(dir);
  const existing = await readdir(root).catch(() => []);
  if (existing.length > 0) {
    throw new KilnError({ action: 'write the generated files', cause: `${dir} exists and is not empty`, hint: 'choose a new or empty directory for --output', exitCode: ExitCode.usage, subject: '--output' });
  }
  for (const e of report.extensions) {
    const name = escapeId(e.id);
    // Module ids are checked when the builder is read; a name that is not a plain dir entry is refused all the same.
    if (name === '' || name === '.' || name === '..') throw new KilnError({ action: 'write the generated files', cause: `extension id "${e.id}" is not usable as a directory name`, exitCode: ExitCode.generic, subject: e.id });
    const d = join(root, name);
    await mkdir(d, { recursive: true });
    for (const f of e.dockerfiles) await writeFile(join(d, `${f.kind}.Dockerfile`), f.text);
    if (e.extendConfig.build.length + e.extendConfig.run.length > 0) await writeFile(join(d, 'extend-config.toml'), extendConfigToml(e.extendConfig));
  }
  await mkdir(root, { recursive: true });
  return root;
}

/**
 * `kiln extension lint DIR --app APP` (issue 20 point 3): what bin/generate emits for that app, linted
 * with the same Dockerfile rules as the files under generate/ (image/dockerfile-lint.ts). The extension
 * runs as `kiln generate --extension DIR` would run it (generate-app.ts: the builder's session, detect
 * and generate, nothing built, nothing left behind); findings name the emitted file as
 * `<dir>/bin/generate -> build.Dockerfile` with the line in that file.
 */
import { join, relative } from 'node:path';
import { lintBuildDockerfile, lintRunDockerfile, type LintFinding } from '../image/dockerfile-lint.js';
import type { GenerateReport } from './generate-report.js';

/** Findings for the emitted files of extension `id` in a generate report. */
export function emittedFindings(report: GenerateReport, id: string, dir: string): LintFinding[] {
  const ext = report.extensions.find((e) => e.id === id);
  const where = relative('.', join(dir, 'bin/generate')) || 'bin/generate';
  if (ext === undefined) {
    return [{ file: where, severity: 'info', rule: 'not-in-group', message: 'the extension did not take part for this app (its detect failed, or another group won): nothing was emitted', spec: 'image_extension.md, "Detection"' }];
  }
  if (ext.source !== 'bin/generate') return [];
  return ext.dockerfiles.flatMap((d) => {
    const file = `${where} -> ${d.kind}.Dockerfile`;
    return d.kind === 'build' ? lintBuildDockerfile(d.text, file) : lintRunDockerfile(d.text, file);
  });
}

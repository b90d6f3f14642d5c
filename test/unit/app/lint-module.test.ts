/**
 * `kiln extension lint` / `kiln buildpack lint` rules on fixtures (issue 20 point 3): each finding has
 * file:line, severity, rule and spec section.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintModule } from '../../../src/app/lint-module.js';
import type { LintFinding } from '../../../src/image/dockerfile-lint.js';

const fixtures = join(import.meta.dirname, '../../fixtures/lint');

function find(findings: LintFinding[], rule: string, file: string): LintFinding[] {
  return findings.filter((f) => f.rule === rule && f.file.endsWith(file));
}

describe('kiln extension lint', () => {
  it('finds each Dockerfile, descriptor and executable rule with file:line', async () => {
    const { findings } = await lintModule('extension', join(fixtures, 'ext-bad'));
    const at = (rule: string, file: string): { line?: number; severity: string; spec: string }[] => find(findings, rule, file).map((f) => ({ ...(f.line !== undefined ? { line: f.line } : {}), severity: f.severity, spec: f.spec }));
    const dockerfileSpec = 'image_extension.md, "Dockerfile Requirements"';
    expect(at('build-id-default', 'generate/run.Dockerfile')).toEqual([{ line: 3, severity: 'warning', spec: dockerfileSpec }]);
    expect(at('run-left-as-root', 'generate/run.Dockerfile')).toEqual([{ line: 4, severity: 'error', spec: dockerfileSpec }]);
    expect(at('not-persisted', 'generate/run.Dockerfile')).toEqual([{ line: 5, severity: 'warning', spec: dockerfileSpec }]);
    expect(at('instruction-not-recommended', 'generate/run.Dockerfile')).toEqual([{ line: 6, severity: 'warning', spec: dockerfileSpec }]);
    expect(at('rebasable-advice', 'generate/run.Dockerfile')).toEqual([{ line: 2, severity: 'info', spec: dockerfileSpec }]);
    expect(at('build-dockerfile', 'generate/build.Dockerfile')).toEqual([{ line: 2, severity: 'error', spec: dockerfileSpec }]);
    expect(at('extend-config', 'generate/extend-config.toml')).toEqual([{ line: 6, severity: 'error', spec: 'image_extension.md, "extend-config.toml (TOML)"' }]);
    expect(at('context-folders', 'generate/context')).toEqual([{ severity: 'error', spec: 'image_extension.md, "Context Folders"' }]);
    expect(at('no-targets', 'extension.toml')).toEqual([{ severity: 'warning', spec: 'image_extension.md, "extension.toml (TOML)"' }]);
    expect(at('not-executable', 'bin/detect').map((f) => f.severity)).toEqual(['error']);
    expect(at('no-interpreter', 'bin/detect')).toEqual([{ line: 1, severity: 'error', spec: 'image_extension.md, "Image Extension Interface"' }]);
    expect(find(findings, 'run-left-as-root', 'run.Dockerfile')[0]?.file).toBe(join('test/fixtures/lint/ext-bad/generate/run.Dockerfile'));
  });

  it('warns on a run image switch that also extends, a second stage and a Dockerfile that is never applied', async () => {
    const { findings } = await lintModule('extension', join(fixtures, 'ext-switch'));
    expect(find(findings, 'switch-and-extend', 'generate/run.Dockerfile').map((f) => [f.line, f.severity])).toEqual([[1, 'warning']]);
    expect(find(findings, 'rebasable-advice', 'run.Dockerfile')).toEqual([]);
    expect(find(findings, 'build-dockerfile', 'generate/build.Dockerfile').map((f) => [f.line, f.severity])).toEqual([[3, 'error']]);
    expect(find(findings, 'unknown-dockerfile', 'generate/extra.Dockerfile').map((f) => f.severity)).toEqual(['warning']);
    expect(find(findings, 'no-targets', 'extension.toml')).toEqual([]);
  });

  it('refuses a buildpack directory with a pointer to the right command', async () => {
    await expect(lintModule('extension', join(fixtures, 'bp-bad'))).rejects.toThrow(/holds a buildpack\.toml, not an extension\.toml/);
  });
});

describe('kiln buildpack lint', () => {
  it('finds an unsupported api on its line and a missing bin/build', async () => {
    const { findings } = await lintModule('buildpack', join(fixtures, 'bp-bad'));
    const api = findings.filter((f) => f.file.endsWith('buildpack.toml') && f.severity === 'error');
    expect(api.map((f) => f.line)).toEqual([1]);
    expect(api[0]?.message).toContain('0.99');
    expect(find(findings, 'executable-missing', 'bin/build').map((f) => f.severity)).toEqual(['error']);
    expect(find(findings, 'executable-missing', 'bin/detect')).toEqual([]);
  });
});

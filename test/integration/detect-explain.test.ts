/**
 * `kiln detect --explain` on a busybox builder whose first group fails (kiln-test/never exits 100) and
 * whose second passes, run in-process through cli/main.ts; and the CLI-level check of `kiln build
 * --json` on the same builder: a successful build (events on stderr, the summary on stdout) and a
 * failing one (exit 20, an error event and ok:false).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, runId, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/detect-explain:${testName('b')}`;
const appTag = `kiln-test/detect-explain-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('explain') };
const savedLabels = process.env.KILN_LABELS;
const savedNoColor = process.env.NO_COLOR;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true));
  try {
    const code = await main(['node', 'kiln', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

beforeAll(async () => {
  process.env.KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
  process.env.NO_COLOR = '1';
  await makeTestBuilder(engine, {
    buildpacks: ['first', 'second', 'never'].map((b) => join(fixtures, 'buildpacks', b)),
    extensions: [],
    orderToml: [
      '[[order]]',
      '[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"',
      '[[order.group]]\nid = "kiln-test/never"\nversion = "0.1.0"',
      '[[order]]',
      '[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"',
      '[[order.group]]\nid = "kiln-test/second"\nversion = "2.0.0"',
      '',
    ].join('\n'),
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
});

afterAll(async () => {
  if (savedLabels === undefined) delete process.env.KILN_LABELS;
  else process.env.KILN_LABELS = savedLabels;
  if (savedNoColor === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = savedNoColor;
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
});

describe('kiln detect --explain', () => {
  it('shows group 1 failing on kiln-test/never (exit 100) and group 2 passing with its plan entries, building nothing', async () => {
    const r = await cli(['detect', '--explain', '--builder', builderTag, '--path', join(fixtures, 'apps/simple')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Order resolution for ${join(fixtures, 'apps/simple')} with ${builderTag}`);
    expect(lines).toContain('├── group 1: fail — non-optional kiln-test/never@0.1.0 failed (exit 100)');
    expect(lines).toContain('│   ├── ✓ buildpack kiln-test/first@1.0.0 (pass, exit 0)');
    expect(lines).toContain('│   └── ✗ buildpack kiln-test/never@0.1.0 (fail, exit 100)');
    expect(lines).toContain('└── group 2: pass');
    expect(lines).toContain('    ├── ✓ buildpack kiln-test/first@1.0.0 (pass, exit 0)');
    expect(lines).toContain('    │       provides greeter → required by kiln-test/first');
    expect(lines).toContain('    │       requires greeter ← provided by kiln-test/first');
    expect(lines).toContain('    └── ✓ buildpack kiln-test/second@2.0.0 (pass, exit 0)');
    expect(lines.at(-1)).toBe('Result: group 2 passes (later groups are not tried)');
    expect(await leftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('honours --descriptor as kiln build does: the project group replaces the order, and it fails the same way (exit 20)', async () => {
    const descriptor = join(fixtures, 'apps/never-project.toml');
    const r = await cli(['detect', '--explain', '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '--descriptor', descriptor]);
    expect(r.code).toBe(20);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toContain('└── group 1: fail — non-optional kiln-test/never@0.1.0 failed (exit 100)');
    expect(lines.some((l) => l.includes('group 2'))).toBe(false);
    const missing = await cli(['detect', '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '--descriptor', join(fixtures, 'apps/no-such-project.toml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-project.toml');
    expect(await leftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('kiln build --json: events on stderr and the summary on stdout; a failing build exits 20 with an error event and ok:false', async () => {
    const ok = await cli(['build', appTag, '--json', '--builder', builderTag, '--path', join(fixtures, 'apps/simple')]);
    expect(ok.code).toBe(0);
    const events = ok.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; module?: string });
    const starts = events.filter((e) => e.type === 'phase-start').map((e) => e.phase);
    expect(starts.filter((p) => p === 'detecting' || p === 'building' || p === 'exporting')).toEqual(['detecting', 'building', 'exporting']);
    expect(events.filter((e) => e.type === 'phase-end').map((e) => e.phase)).toEqual(starts);
    expect(events.some((e) => e.type === 'module-line' && e.module === 'kiln-test/first')).toBe(true);
    expect(events.some((e) => e.type === 'layer')).toBe(true);
    const result = JSON.parse(ok.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ ok: true, image: appTag, buildpacks: ['kiln-test/first@1.0.0', 'kiln-test/second@2.0.0'], extensions: [] });
    expect(result.imageId).toBe((await engine.inspectImage(appTag))?.id);

    const bad = await cli(['build', `${appTag}-never`, '--json', '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '--descriptor', join(fixtures, 'apps/never-project.toml')]);
    expect(bad.code).toBe(20);
    const last = JSON.parse(bad.stderr.trimEnd().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', action: 'detect', exitCode: 20 });
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { action: 'detect', exitCode: 20 } });
    expect(await engine.inspectImage(`${appTag}-never`)).toBeUndefined();
    // Only the build cache volumes stay on purpose (fast rebuilds); afterAll removes them by label.
    const left = await leftovers(engine, fileLabel);
    expect({ ...left, volumes: left.volumes.filter((v) => !v.startsWith('kiln-cache-')) }).toEqual({ containers: [], images: [], volumes: [] });
  });
});

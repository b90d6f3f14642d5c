/**
 * `kiln inspect --json` and `kiln sbom download` on an image built with an SBOM-writing buildpack and a
 * run.Dockerfile extension (issue 7): the JSON fields (run image, extended by which extension, buildpacks,
 * processes, rebasable, layer roles, SBOM) and SBOM files byte-equal to what the buildpack wrote.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import type { AppImageSummary } from '../../src/app/inspect-app.js';
import { main } from '../../src/cli/main.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import type { ImageInfo } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/inspect-builder:${testName('b')}`;
const appTag = `kiln-test/inspect-app:${testName('a')}`;
const CDX = '{"bomFormat":"CycloneDX","specVersion":"1.4","layer":"lib"}\n';
const SPDX = '{"spdxVersion":"SPDX-2.3","name":"launch \\u00e9"}\n';
let tmp = '';
let app: ImageInfo;

const BUILD = `#!/bin/sh
set -eu
mkdir -p "$CNB_LAYERS_DIR/lib"
echo lib > "$CNB_LAYERS_DIR/lib/file"
printf '[types]\\nlaunch = true\\n' > "$CNB_LAYERS_DIR/lib.toml"
cp "$CNB_BUILDPACK_DIR/sbom/lib.cdx.json" "$CNB_LAYERS_DIR/lib.sbom.cdx.json"
cp "$CNB_BUILDPACK_DIR/sbom/launch.spdx.json" "$CNB_LAYERS_DIR/launch.sbom.spdx.json"
cat > "$CNB_LAYERS_DIR/launch.toml" <<'TOML'
[[processes]]
type = "web"
command = ["echo", "sbom app"]
default = true
TOML
`;

/** stdout of an in-process CLI run, and its exit code. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    const code = await main(['node', 'kiln', ...args]);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-inspect-test-'));
  const bp = join(tmp, 'sbom-bp');
  await mkdir(join(bp, 'bin'), { recursive: true });
  await mkdir(join(bp, 'sbom'));
  await writeFile(join(bp, 'buildpack.toml'), 'api = "0.10"\n\n[buildpack]\nid = "kiln-test/sbom"\nversion = "1.2.3"\nhomepage = "https://example.test/sbom"\nsbom-formats = ["application/vnd.cyclonedx+json", "application/spdx+json"]\n');
  await writeFile(join(bp, 'bin', 'detect'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await writeFile(join(bp, 'bin', 'build'), BUILD, { mode: 0o755 });
  await writeFile(join(bp, 'sbom', 'lib.cdx.json'), CDX);
  await writeFile(join(bp, 'sbom', 'launch.spdx.json'), SPDX);
  const ext = join(tmp, 'ext');
  await mkdir(join(ext, 'generate'), { recursive: true });
  await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n\n[extension]\nid = "kiln-test/inspect-ext"\nversion = "0.1.0"\n');
  await writeFile(join(ext, 'generate', 'run.Dockerfile'), 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN echo ext > /ext-file\nUSER 1001:1000\nLABEL io.buildpacks.rebasable=false\n');
  for (const d of [tmp, bp, ext]) await chmod(d, 0o755);
  await makeTestBuilder(engine, {
    buildpacks: [bp],
    extensions: [ext],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/sbom"\nversion = "1.2.3"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/inspect-ext"\nversion = "0.1.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
  let n = 0;
  await buildApp(
    { engine, reporter: { emit: () => undefined }, ids: { newId: () => `is${Date.now().toString(36)}${n++}` } },
    { image: appTag, builder: builderTag, path: join(fixtures, 'apps/simple'), env: {}, volumes: [], labels: testLabels() },
  );
  app = (await engine.inspectImage(appTag)) as ImageInfo;
}, 240_000);

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('kiln inspect', () => {
  it('--json: run image (extended, by which extension), buildpacks, processes, rebasable, layer roles, SBOM', async () => {
    const { code, out } = await cli('inspect', appTag, '--json');
    expect(code).toBe(0);
    const s = JSON.parse(out) as AppImageSummary;
    const run = (await engine.inspectImage(bases().run)) as ImageInfo;
    expect(s.image).toBe(appTag);
    expect(s.id).toBe(app.id);
    expect(s.runImage).toEqual({ image: bases().run, mirrors: [], reference: run.id, topLayer: run.layers.at(-1), extended: true, extensionLayers: 1 });
    expect(s.extensions).toEqual([{ id: 'kiln-test/inspect-ext', version: '0.1.0' }]);
    expect(s.rebasable).toBe(false);
    expect(s.buildpacks).toEqual([{ id: 'kiln-test/sbom', version: '1.2.3', homepage: 'https://example.test/sbom', layers: ['lib'] }]);
    expect(s.processes).toEqual([{ type: 'web', command: ['echo', 'sbom app'], args: [], default: true, buildpackId: 'kiln-test/sbom' }]);
    expect(s.defaultProcess).toBe('web');
    expect(s.layers.map((l) => l.diffId)).toEqual(app.layers);
    const roles = s.layers.map((l) => l.role);
    expect(roles.slice(0, run.layers.length).every((r) => r === 'run-image')).toBe(true);
    expect(roles.slice(run.layers.length)).toEqual(['extension', 'buildpack', 'sbom', 'app', 'launcher', 'config', 'process-types']);
    expect(s.layers.find((l) => l.role === 'buildpack')?.owner).toBe('kiln-test/sbom:lib');
    expect(s.sbom.present).toBe(true);
    expect(app.layers).toContain(s.sbom.diffId);
  });

  it('text output names the same facts', async () => {
    const { code, out } = await cli('inspect', appTag);
    expect(code).toBe(0);
    expect(out).toContain(`Run image: ${bases().run}`);
    expect(out).toContain('extended: yes (1 extension layer(s))');
    expect(out).toContain('Rebasable: no');
    expect(out).toContain('kiln-test/inspect-ext@0.1.0');
    expect(out).toContain('kiln-test/sbom@1.2.3 layers: lib');
    expect(out).toContain('web (default): echo sbom app');
    expect(out).toContain('SBOM: yes');
  });
});

describe('kiln sbom download', () => {
  it('writes the launch SBOM files byte-equal to what the buildpack wrote', async () => {
    const dir = join(tmp, 'out');
    const { code, out } = await cli('sbom', 'download', appTag, '--output-dir', dir);
    expect(code).toBe(0);
    const cdx = join(dir, 'layers/sbom/launch/kiln-test_sbom/lib/sbom.cdx.json');
    const spdx = join(dir, 'layers/sbom/launch/kiln-test_sbom/sbom.spdx.json');
    expect(out.trim().split('\n').sort()).toEqual([cdx, spdx].sort());
    expect(await readFile(cdx)).toEqual(Buffer.from(CDX));
    expect(await readFile(spdx)).toEqual(Buffer.from(SPDX));
  });

  it('an image without an SBOM layer fails clearly', async () => {
    const { code } = await cli('sbom', 'download', bases().run, '--output-dir', join(tmp, 'none'));
    expect(code).toBe(72);
  });
});

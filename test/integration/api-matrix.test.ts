/**
 * Every Buildpack API kiln accepts builds (issue 15 point 5): `kiln builder create` then `kiln build` on
 * the busybox stack with one buildpack of each API 0.7 .. 0.12 (0.7/0.8 with [[stacks]], legacy string
 * and `direct` process commands; 0.9+ command arrays; 0.10+ [[targets]]; SBOM files; exec.d) and one
 * extension of each API 0.7 .. 0.12 (the lifecycle runs extensions of every API it supports, pack's
 * acceptance fixtures have a 0.7 one), among them ones with bin/ only, with a static generate/ dir only
 * and with nothing but extension.toml (image_extension.md: bin/detect and bin/generate are optional).
 * The 0.7 extension also switches the run image (FROM another image, then RUN), the later ones extend
 * its result. An extension of an API kiln does not support is refused by `builder create` (exit 12), so
 * no builder that can never build is made. The app's io.buildpacks.build.metadata lists api and homepage
 * of each (point 9); the launcher's CNB_PROCESS_TYPE warning and its no-process error are checked in the
 * real image (point 10). Fixtures are written by this file into a temp dir.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createBuilder } from '../../src/app/create-builder.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import type { KilnEvent } from '../../src/ports.js';
import { getBusyboxImages, useBusyboxImages } from '../helpers/busybox-images.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const bases = useBusyboxImages(engine, { name: 'apis' });
const BUILDPACK_APIS = ['0.7', '0.8', '0.9', '0.10', '0.11', '0.12'];
const EXTENSION_APIS = BUILDPACK_APIS;
const tag = (what: string): string => `kiln-test/api-${what}:${testName('m')}`;
const builderTag = tag('builder');
const appTag = tag('app');
const slug = (api: string): string => api.replace('.', '-');
let tmp = '';
/** The run image the 0.7 extension switches to (platform.md detector: run-image selection). */
let altRun = '';

async function file(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

/** The launch.toml process of one buildpack, in the format its API knows (buildpack.md "launch.toml"). */
function processToml(api: string): string {
  const type = `p${slug(api)}`;
  const say = `echo ${type} V=$V${slug(api).replace('-', '_')}`;
  if (api === '0.7') return `[[processes]]\ntype = "${type}"\ncommand = "${say}"\n`; // shell process (no direct)
  if (api === '0.8') return `[[processes]]\ntype = "${type}"\ncommand = "/bin/sh"\nargs = ["-c", "${say}"]\ndirect = true\n`;
  const dflt = api === '0.12' ? 'default = true\n' : '';
  return `[[processes]]\ntype = "${type}"\ncommand = ["/bin/sh", "-c", "${say}; cat /ext-files/* 2>/dev/null | sort"]\n${dflt}`;
}

async function buildpack(api: string): Promise<string> {
  const dir = join(tmp, `bp-${slug(api)}`);
  const legacy = api === '0.7' || api === '0.8';
  await file(
    join(dir, 'buildpack.toml'),
    `api = "${api}"\n\n[buildpack]\nid = "kiln-test/bp-${slug(api)}"\nversion = "1.0.0"\nhomepage = "https://example.com/bp"\nsbom-formats = ["application/vnd.cyclonedx+json"]\n\n` +
      (legacy ? '[[stacks]]\nid = "*"\n' : api === '0.9' ? '' : '[[targets]]\nos = "linux"\n'),
  );
  await file(join(dir, 'bin/detect'), '#!/bin/sh\nexit 0\n', 0o755);
  const v = `V${slug(api).replace('-', '_')}`;
  await file(
    join(dir, 'bin/build'),
    [
      '#!/bin/sh',
      'set -eu',
      'layers="$1"',
      // The 0.12 extension's build.Dockerfile extended the image this runs in.
      ...(api === '0.12' ? ['test -f /ext-build-0-12 || { echo "build.Dockerfile of ext-0-12 not applied"; exit 1; }'] : []),
      'mkdir -p "$layers/l/env.launch" "$layers/l/exec.d"',
      `printf 'from-${api}' > "$layers/l/env.launch/${v}.default"`,
      `printf '[types]\\nlaunch = true\\n' > "$layers/l.toml"`,
      `printf '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1}' > "$layers/l.sbom.cdx.json"`,
      `printf '#!/bin/sh\\necho EXECD_${v}=yes >&3\\n' > "$layers/l/exec.d/a"`,
      'chmod 0755 "$layers/l/exec.d/a"',
      `cat > "$layers/launch.toml" <<'TOML'`,
      processToml(api).trimEnd(),
      'TOML',
      '',
    ].join('\n'),
    0o755,
  );
  return dir;
}

/** The 0.7 extension switches the run image and extends it; the later ones extend its result. */
const runDockerfile = (api: string): string =>
  `ARG base_image\nFROM ${api === '0.7' ? altRun : '${base_image}'}\nUSER root\nRUN mkdir -p /ext-files && echo run-ext-${api} > /ext-files/${slug(api)}\nUSER 1001:1000\n`;

/**
 * 0.7: bin/ with the positional output dir, switching the run image; 0.8 and 0.10: static generate/ only; 0.9: bin/ only; 0.11:
 * extension.toml only; 0.12: bin/generate plus detect/plan.toml.
 */
async function extension(api: string): Promise<string> {
  const dir = join(tmp, `ext-${slug(api)}`);
  await file(join(dir, 'extension.toml'), `api = "${api}"\n\n[extension]\nid = "kiln-test/ext-${slug(api)}"\nversion = "1.0.0"\nhomepage = "https://example.com/ext"\n`);
  if (api === '0.7' || api === '0.9') {
    await file(join(dir, 'bin/detect'), '#!/bin/sh\nexit 0\n', 0o755);
    await file(join(dir, 'bin/generate'), `#!/bin/sh\ncat > "$1/run.Dockerfile" <<'EOF'\n${runDockerfile(api)}EOF\n`, 0o755);
  } else if (api === '0.8' || api === '0.10') {
    await file(join(dir, 'generate/run.Dockerfile'), runDockerfile(api));
  } else if (api === '0.12') {
    await file(join(dir, 'detect/plan.toml'), '[[provides]]\nname = "nothing-needed"\n\n[[or]]\n');
    await file(
      join(dir, 'bin/generate'),
      `#!/bin/sh\ncat > "$CNB_OUTPUT_DIR/build.Dockerfile" <<'EOF'\nARG base_image\nFROM \${base_image}\nARG user_id\nUSER root\nRUN echo built > /ext-build-0-12\nUSER \${user_id}\nEOF\ncat > "$CNB_OUTPUT_DIR/run.Dockerfile" <<'EOF'\n${runDockerfile(api)}EOF\n`,
      0o755,
    );
  }
  return dir;
}

function builderToml(bps: string[], exts: string[], extraExt?: string): string {
  const lines = [`[build]\nimage = "${bases().build}"\n\n[[run.images]]\nimage = "${bases().run}"\n`];
  for (const d of bps) lines.push(`[[buildpacks]]\nuri = "${d}"\n`);
  for (const d of [...exts, ...(extraExt !== undefined ? [extraExt] : [])]) lines.push(`[[extensions]]\nuri = "${d}"\n`);
  lines.push('[[order]]');
  for (const api of BUILDPACK_APIS) lines.push(`[[order.group]]\nid = "kiln-test/bp-${slug(api)}"\nversion = "1.0.0"\n`);
  lines.push('[[order-extensions]]');
  for (const api of EXTENSION_APIS) lines.push(`[[order-extensions.group]]\nid = "kiln-test/ext-${slug(api)}"\nversion = "1.0.0"\n`);
  return lines.join('\n');
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-api-matrix-'));
  await chmod(tmp, 0o755);
  altRun = (await getBusyboxImages(engine, { name: 'apis-alt' })).run;
  const bps = await Promise.all(BUILDPACK_APIS.map(buildpack));
  const exts = await Promise.all(EXTENSION_APIS.map(extension));
  await file(join(tmp, 'builder.toml'), builderToml(bps, exts));
  await createBuilder(engine, { imageName: builderTag, configPath: join(tmp, 'builder.toml'), labels: testLabels(), kilnVersion: '0.1.0' });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('Buildpack API matrix (0.7 .. 0.12) on the busybox stack', () => {
  it('builds with a buildpack of every API and an extension of every extension API, the bare one included', async () => {
    const app = join(tmp, 'app');
    await file(join(app, 'hello.txt'), 'hi\n');
    const events: KilnEvent[] = [];
    let n = 0;
    const out = await buildApp(
      { engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `m${Date.now().toString(36)}${n++}` } },
      { image: appTag, builder: builderTag, path: app, env: {}, volumes: [], labels: testLabels() },
    );
    expect(out.group.map((g) => g.id)).toEqual(BUILDPACK_APIS.map((a) => `kiln-test/bp-${slug(a)}`));
    // The bare extension (extension.toml only) passes detect and contributes nothing.
    expect(out.groupExtensions.map((e) => e.id)).toEqual(EXTENSION_APIS.map((a) => `kiln-test/ext-${slug(a)}`));
    expect(out.runImage).toBe(altRun);
    const labels = (await engine.inspectImage(appTag))?.config.labels ?? {};
    expect((JSON.parse(labels['io.buildpacks.lifecycle.metadata'] ?? '{}') as { runImage?: { image?: string } }).runImage?.image).toBe(altRun);
    // io.buildpacks.build.metadata lists id, version, homepage and api of each (platform.md schema, point 9).
    const label = labels['io.buildpacks.build.metadata'] ?? '{}';
    const md = JSON.parse(label) as { buildpacks: unknown[]; extensions: unknown[] };
    expect(md.buildpacks).toEqual(BUILDPACK_APIS.map((api) => ({ id: `kiln-test/bp-${slug(api)}`, version: '1.0.0', homepage: 'https://example.com/bp', api })));
    expect(md.extensions).toEqual(EXTENSION_APIS.map((api) => ({ id: `kiln-test/ext-${slug(api)}`, version: '1.0.0', homepage: 'https://example.com/ext', api })));
    const dflt = await run('docker', ['run', '--rm', '--network', 'none', appTag]);
    expect(dflt.stdout.trim().split('\n')).toEqual(['p0-12 V=from-0.12', 'run-ext-0.10', 'run-ext-0.12', 'run-ext-0.7', 'run-ext-0.8', 'run-ext-0.9']);
    for (const api of ['0.7', '0.8', '0.9', '0.10', '0.11']) {
      const p = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', `p${slug(api)}`, appTag]);
      expect(p.stdout.split('\n')[0]).toBe(`p${slug(api)} V=from-${api}`);
    }
    // CNB_PROCESS_TYPE is ignored with the lifecycle's warning; a bare launcher never names a process
    // "launcher" (issue 15 point 10).
    const withType = await run('docker', ['run', '--rm', '--network', 'none', '-e', 'CNB_PROCESS_TYPE=p0-7', appTag]);
    expect(withType.stdout.split('\n')[0]).toBe('p0-12 V=from-0.12');
    expect(withType.stderr).toContain("run with ENTRYPOINT 'p0-7' (docker run --entrypoint p0-7 ...)");
    const bare = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'launcher', appTag]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bare.code).toBe(82);
    expect(bare.stderr).toContain('when there is no default process a command is required: run the image with --entrypoint <process type> (defined: p0-10, p0-11, p0-12, p0-7, p0-8, p0-9)');
    // exec.d of every API ran at launch (buildpack.md "exec.d").
    const env = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'launcher', appTag, 'env']);
    for (const api of BUILDPACK_APIS) expect(env.stdout).toContain(`EXECD_V${slug(api).replace('-', '_')}=yes`);
  });

  it('builder create refuses an extension of an API the lifecycle does not run (0.6) with exit 12 and tags nothing', async () => {
    const old = join(tmp, 'ext-old');
    await file(join(old, 'extension.toml'), 'api = "0.6"\n\n[extension]\nid = "kiln-test/ext-old"\nversion = "1.0.0"\n');
    await file(join(old, 'generate/run.Dockerfile'), runDockerfile('0.6'));
    await file(join(tmp, 'old.toml'), builderToml([], [], old).replace(/\[\[order\]\][\s\S]*$/, '[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/ext-old"\n'));
    const t = tag('old');
    const err: unknown = await createBuilder(engine, { imageName: t, configPath: join(tmp, 'old.toml'), labels: testLabels(), kilnVersion: '0.1.0' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.buildpackApi);
    expect((err as KilnError).message).toContain('extension.toml');
    expect((err as KilnError).message).toContain('Buildpack API 0.6 is not supported (supported: 0.7, 0.8, 0.9, 0.10, 0.11, 0.12)');
    expect(await engine.inspectImage(t)).toBeUndefined();
  });
});

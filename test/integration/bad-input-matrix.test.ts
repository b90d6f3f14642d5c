/**
 * The bad-input matrix (issue 8): one table of cases across builder.toml, buildpack.toml, extension.toml,
 * project.toml, launch.toml, layer toml, build.toml, extend-config.toml, Dockerfiles, CLI flags, missing
 * images and files, an empty app dir, failing/erroring/hanging detect, build and generate, and a generate
 * that writes garbage. Each case runs the CLI in-process (main(), stderr captured) with a per-case
 * KILN_LABELS label and asserts: the documented exit code, a message naming the file or module, and no
 * container, volume or image left with the case's label, nor the tag it would have written.
 * docs/reliability.md lists every case id (asserted at the end).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { imageRefProblem } from '../../src/image/image-ref.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';
import { runCli, sessionLeftovers } from '../fixtures/bad-input/run-cli.js';
import { MATRIX_CASES, type MatrixCase, type MatrixEnv } from '../fixtures/bad-input/matrix-cases.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/bad-input');
const bases = useBusyboxImages(engine, { name: 'matrix' });
const builderTag = `kiln-test/matrix-builder:${testName('b')}`;
const CASE_LABEL = 'io.kiln.test.case';
let tmp = '';

const BUILDER_TOML = `description = "matrix"

[[buildpacks]]
uri = "BP_DIR"

[[extensions]]
uri = "EXT_DIR"

[[order]]
[[order.group]]
id = "kiln-test/matrix"
version = "1.0.0"

[[order-extensions]]
[[order-extensions.group]]
id = "kiln-test/matrix-ext"
version = "1.0.0"

[build]
image = "BUILD_IMAGE"

[[run.images]]
image = "RUN_IMAGE"
`;

let n = 0;
const menv: MatrixEnv = {
  builder: builderTag,
  app: join(fixtures, 'app'),
  emptyApp: '',
  tmp: '',
  appTag: (id) => `kiln-test/matrix-app-${id}:${runId}`,
  builderToml: async (name, edit = (t) => t) => {
    const text = BUILDER_TOML.replace('BP_DIR', join(fixtures, 'matrix-bp'))
      .replace('EXT_DIR', join(fixtures, 'matrix-ext'))
      .replace('BUILD_IMAGE', bases().build)
      .replace('RUN_IMAGE', bases().run);
    return menv.file(`${name}-builder.toml`, edit(text));
  },
  moduleCopy: async (name, descriptor, drop) => {
    const dir = join(tmp, `${name}-${++n}`);
    await cp(join(fixtures, name), dir, { recursive: true });
    await writeFile(join(dir, name === 'matrix-bp' ? 'buildpack.toml' : 'extension.toml'), descriptor);
    if (drop !== undefined) await rm(join(dir, drop), { force: true });
    return dir;
  },
  file: async (name, text) => {
    const p = join(tmp, name);
    await writeFile(p, text);
    return p;
  },
  inImage: async (image, script) => {
    const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', '--label', `io.kiln.test=${runId}`, '--entrypoint', '', image, 'sh', '-c', script], { encoding: 'buffer' });
    return stdout;
  },
  volumeExists: (name) => engine.volumeExists(name),
};

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-matrix-'));
  menv.tmp = tmp;
  menv.emptyApp = join(tmp, 'empty-app');
  await mkdir(menv.emptyApp);
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'matrix-bp')],
    extensions: [join(fixtures, 'matrix-ext')],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/matrix"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/matrix-ext"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    uid: bases().uid,
    gid: bases().gid,
    baseImage: bases().build,
  });
});

afterAll(async () => {
  for (const c of MATRIX_CASES) await engine.removeImage(menv.appTag(c.id), { force: true }).catch(() => undefined);
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, { [CASE_LABEL]: runId });
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

/** The tag a case would write: the app image for builds, the builder for `builder create`. */
function tagOf(c: MatrixCase, args: string[]): string | undefined {
  const i = args[0] === 'build' ? 1 : args[0] === 'builder' && args[1] === 'create' ? 2 : -1;
  const t = i > 0 ? args[i] : undefined;
  // A name outside the reference grammar is never written (and the engine refuses to look it up).
  return t === undefined || t.startsWith('-') || t.includes('@') || c.id === 'flag-image-invalid-name' || imageRefProblem(t) !== undefined ? undefined : t;
}

const BEGIN = '<!-- matrix:begin -->';
const END = '<!-- matrix:end -->';

async function writeDocTable(): Promise<void> {
  const path = join(root, 'docs/reliability.md');
  const doc = await readFile(path, 'utf8');
  const rows = MATRIX_CASES.map((c) => `| \`${c.id}\` | ${c.area} | ${c.message.map((m) => `\`${m}\``).join(', ')} | ${c.exit} | 0 |`);
  const table = [BEGIN, '| case | area | message contains | exit code | leftovers |', '| --- | --- | --- | --- | --- |', ...rows, END].join('\n');
  await writeFile(path, doc.slice(0, doc.indexOf(BEGIN)) + table + doc.slice(doc.indexOf(END) + END.length));
}

describe('bad-input matrix', () => {
  it('has at least 40 cases with unique ids', () => {
    expect(MATRIX_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(MATRIX_CASES.map((c) => c.id)).size).toBe(MATRIX_CASES.length);
  });

  it.each(MATRIX_CASES.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const args = await c.args(menv);
    const labels = { 'io.kiln.test': runId, [CASE_LABEL]: runId, 'io.kiln.test.case-id': c.id };
    const { code, out } = await runCli(args, { KILN_LABELS: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') });
    const tag = tagOf(c, args);
    // KILN_MATRIX_DUMP=<dir> keeps each case's output for reading the messages.
    if (process.env.KILN_MATRIX_DUMP !== undefined) await writeFile(join(process.env.KILN_MATRIX_DUMP, `${c.id}.txt`), `exit ${code}\n${out}`);
    try {
      expect(code, `exit code; output:\n${out}`).toBe(c.exit);
      for (const m of c.message) expect(out).toContain(m);
      for (const m of c.absent ?? []) expect(out).not.toContain(m);
      expect(await sessionLeftovers(engine, { 'io.kiln.test.case-id': c.id })).toEqual({ containers: [], images: [], volumes: [] });
      if (tag !== undefined && c.exit !== 0) expect(await engine.inspectImage(tag)).toBeUndefined();
      await c.after?.(menv);
    } finally {
      if (tag !== undefined) await engine.removeImage(tag, { force: true }).catch(() => undefined);
    }
  });

  it('docs/reliability.md lists every case with its exit code', async () => {
    // KILN_WRITE_DOC=1 regenerates the table between the markers from MATRIX_CASES.
    if (process.env.KILN_WRITE_DOC === '1') await writeDocTable();
    const doc = await readFile(join(root, 'docs/reliability.md'), 'utf8');
    for (const c of MATRIX_CASES) expect(doc).toMatch(new RegExp(`\\| \`${c.id}\` \\|[^\\n]*\\| ${c.exit} \\| 0 \\|`));
  });
});

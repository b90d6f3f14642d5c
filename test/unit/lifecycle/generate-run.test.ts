/**
 * runGenerate against a recording fake engine (orchestration tests implement
 * the ContainerEngine port, docs/architecture.md "Layers"):
 * the container spec of bin/generate (CNB user, read-only app, env, argv) and the files it writes.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError } from '../../../src/errors.js';
import { makeTar, readTarFiles } from '../../../src/image/tar-files.js';
import { runGenerate } from '../../../src/lifecycle/generate.js';
import { PRELUDE_SCRIPT } from '../../../src/lifecycle/container/module-env.js';
import type { BuilderInfo } from '../../../src/lifecycle/read-builder.js';
import type { ContainerEngine, ImageInfo, KilnEvent, RunSpec } from '../../../src/ports.js';

const IMAGE: ImageInfo = {
  id: 'sha256:builder',
  repoTags: [],
  repoDigests: [],
  os: 'linux',
  architecture: 'amd64',
  layers: [],
  config: { env: ['PATH=/bin', 'SECRET=x', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1001'], user: '1000:1001', workingDir: '', entrypoint: null, cmd: null, labels: {} },
  size: 0,
  created: '',
};

function builder(hasGenerate: boolean): BuilderInfo {
  const descriptor = { kind: 'extension' as const, api: '0.10', id: 'test/ext', version: '1.0.0', name: '', homepage: '', description: '', keywords: [], licenses: [], targets: [], metadata: {} };
  const files = new Map<string, Buffer>(hasGenerate ? [] : [['generate/run.Dockerfile', Buffer.from('FROM other/run:1\n')]]);
  return {
    image: 'builder',
    info: IMAGE,
    user: { uid: 1000, gid: 1001 },
    env: IMAGE.config.env,
    order: { order: [], orderExtensions: [] },
    runImages: [{ image: 'other/run:1', mirrors: [] }],
    buildpacks: new Map(),
    extensions: new Map([['test/ext@1.0.0', { kind: 'extension', descriptor, dir: '/cnb/extensions/test_ext/1.0.0', files, hasDetect: false, hasGenerate }]]),
    buildConfigEnv: [],
  };
}

class FakeEngine {
  runs: RunSpec[] = [];
  puts: { dest: string; files: Map<string, Buffer> }[] = [];
  exitCode = 0;
  output: Buffer | undefined;
  engine(): ContainerEngine {
    const no = (): never => {
      throw new Error('not used');
    };
    return {
      ping: async () => undefined,
      runContainer: async (spec) => {
        this.runs.push(spec);
        spec.onLine?.('stdout', 'hello from generate');
        return { exitCode: this.exitCode };
      },
      createContainer: async () => 'helper',
      removeContainer: async () => undefined,
      putArchive: async (_id, dest, tar) => {
        this.puts.push({ dest, files: await readTarFiles(tar as Buffer) });
      },
      getArchive: async () => Readable.from([this.output ?? (await makeTar([{ path: 'test_ext', type: 'directory' }]))]),
      buildImage: no,
      loadImage: no,
      importImage: no,
      saveImage: no,
      inspectImage: async () => IMAGE,
      tagImage: no,
      removeImage: no,
      createVolume: no,
      removeVolume: no,
      volumeExists: no,
      listContainers: no,
      listVolumes: no,
      listImages: no,
    };
  }
}

const volumes = { app: 'app', layers: 'layers', platform: 'platform', scratch: 'scratch' };
const plan = { entries: [{ providers: [{ id: 'test/ext', version: '1.0.0', extension: true }], requires: [{ name: 'tool', metadata: {} }] }] };

describe('runGenerate with a fake engine', () => {
  it('runs bin/generate as the CNB user with the app read-only, the spec env and argv', async () => {
    const fake = new FakeEngine();
    fake.output = await makeTar([
      { path: 'test_ext', type: 'directory' },
      { path: 'test_ext/build.Dockerfile', content: 'ARG base_image\nFROM ${base_image}\nRUN true\n' },
    ]);
    const events: KilnEvent[] = [];
    const ctx = { engine: fake.engine(), reporter: { emit: (e: KilnEvent) => events.push(e) }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'id' } };
    const r = await runGenerate(ctx, { builder: builder(true), volumes, groupExtensions: [{ id: 'test/ext', version: '1.0.0', api: '0.10' }], plan, platformEnv: { USER_VAR: 'u' }, runImage: { image: 'run:1' }, target: { os: 'linux', arch: 'arm64' } });
    const run = fake.runs[0] as RunSpec;
    expect(run.user).toBe('1000:1001');
    expect(run.workingDir).toBe('/workspace');
    expect(run.network).toBe('none');
    expect(run.mounts).toContainEqual({ type: 'volume', source: 'app', target: '/workspace', readOnly: true });
    expect(run.mounts).toContainEqual({ type: 'volume', source: 'platform', target: '/platform', readOnly: true });
    expect(run.cmd[2]).toBe(PRELUDE_SCRIPT);
    expect(run.cmd.slice(run.cmd.indexOf('kiln-prelude') + 1, run.cmd.indexOf('env'))).toEqual([
      '2', '/layers/generated/test_ext', '/kiln/generate/test_ext', '1', '/kiln/generate/test_ext/plan.toml', '444', '[[entries]]\nname = "tool"\n', '',
    ]);
    expect(run.cmd.slice(run.cmd.indexOf('env'))).toEqual([
      'env', '-u', 'CNB_GROUP_ID', '-u', 'CNB_USER_ID', '-u', 'OLDPWD', '-u', 'PWD', '-u', 'SECRET', '-u', 'SHLVL', '-u', '_',
      '/cnb/extensions/test_ext/1.0.0/bin/generate', '/layers/generated/test_ext', '/platform', '/kiln/generate/test_ext/plan.toml',
    ]);
    expect(run.env).toEqual({
      PATH: '/bin',
      USER_VAR: 'u',
      CNB_EXTENSION_DIR: '/cnb/extensions/test_ext/1.0.0',
      CNB_PLATFORM_DIR: '/platform',
      CNB_BP_PLAN_PATH: '/kiln/generate/test_ext/plan.toml',
      CNB_OUTPUT_DIR: '/layers/generated/test_ext',
      CNB_TARGET_OS: 'linux',
      CNB_TARGET_ARCH: 'arm64',
    });
    expect(run.labels).toEqual({ 'io.kiln.session': 's' });
    expect(events).toContainEqual({ type: 'module-line', module: 'test/ext', stream: 'stdout', line: 'hello from generate' });
    // The generate container makes the plan file (read-only text) and the output dir before bin/generate:
    // the prelude's parameters, checked exactly above.
    expect(run.cmd.slice(3, 6)).toEqual(['kiln-prelude', '2', '/layers/generated/test_ext']);
    expect(r.extensions[0]?.buildDockerfile).toContain('RUN true');
    expect(r.plan.entries).toEqual([]);
  });

  it('non-zero exit is 91', async () => {
    const fake = new FakeEngine();
    fake.exitCode = 7;
    const ctx = { engine: fake.engine(), reporter: { emit: () => undefined }, labels: {}, ids: { newId: () => 'id' } };
    const err = await runGenerate(ctx, { builder: builder(true), volumes, groupExtensions: [{ id: 'test/ext', version: '1.0.0', api: '0.10' }], plan, platformEnv: {}, runImage: { image: 'run:1' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.generateFailed);
    expect((err as KilnError).message).toMatch(/exited with code 7/);
  });

  it('a static generate/ dir is used (and copied into <generated>) without running anything', async () => {
    const fake = new FakeEngine();
    const ctx = { engine: fake.engine(), reporter: { emit: () => undefined }, labels: {}, ids: { newId: () => 'id' } };
    const r = await runGenerate(ctx, { builder: builder(false), volumes, groupExtensions: [{ id: 'test/ext', version: '1.0.0', api: '0.10' }], plan, platformEnv: {}, runImage: { image: 'run:1' } });
    expect(fake.runs).toEqual([]);
    expect(fake.puts.flatMap((p) => [...p.files.keys()])).toContain('generated/test_ext/run.Dockerfile');
    expect(r.runImage).toMatchObject({ image: 'other/run:1', switched: true, extend: false, inRunToml: true });
    expect(r.warnings).toEqual([]);
  });

  it('warns when the run image an extension switched to is not in run.toml (platform.md detector)', async () => {
    const fake = new FakeEngine();
    const events: KilnEvent[] = [];
    const ctx = { engine: fake.engine(), reporter: { emit: (e: KilnEvent) => events.push(e) }, labels: {}, ids: { newId: () => 'id' } };
    const b = { ...builder(false), runImages: [{ image: 'run:1', mirrors: ['mirror/run:1'] }] };
    const r = await runGenerate(ctx, { builder: b, volumes, groupExtensions: [{ id: 'test/ext', version: '1.0.0', api: '0.10' }], plan, platformEnv: {}, runImage: { image: 'run:1' } });
    expect(r.runImage).toMatchObject({ image: 'other/run:1', switched: true, inRunToml: false });
    expect(r.extendBuild).toBe(false); // no build.Dockerfile: the builder image is not extended
    const warning = "run image other/run:1 chosen by an extension is not listed in the builder's run.toml";
    expect(r.warnings).toEqual([warning]);
    expect(events).toContainEqual({ type: 'warning', message: warning });
  });
});

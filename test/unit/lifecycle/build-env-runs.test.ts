/**
 * runDetects and runBuild against a recording fake engine (orchestration tests implement the
 * ContainerEngine port, docs/architecture.md "Layers"): the container spec of each module (CNB user, network, mounts, exact env via `env -u`, argv),
 * plans read back, env layered from one buildpack's build layer into the next, exit 51/52.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { makeTar, readTarFiles, type TarFileEntry } from '../../../src/image/tar-files.js';
import { runBuild } from '../../../src/lifecycle/build.js';
import { candidateModules, detectKey, runDetects } from '../../../src/lifecycle/detect.js';
import { PRELUDE_SCRIPT } from '../../../src/lifecycle/container/module-env.js';
import type { BuilderBuildpack, BuilderInfo } from '../../../src/lifecycle/read-builder.js';
import type { ContainerEngine, ImageInfo, RunSpec } from '../../../src/ports.js';
import type { BuildpackDescriptor } from '../../../src/cnb/models.js';

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

function bp(id: string, api = '0.10', clearEnv = false): BuilderBuildpack {
  const descriptor: BuildpackDescriptor = {
    kind: 'buildpack', api, id, version: '1', name: '', homepage: '', description: '', keywords: [], licenses: [], targets: [], metadata: {},
    clearEnv, sbomFormats: [], execEnv: [], order: [], stacks: [],
  };
  return { kind: 'buildpack', descriptor, dir: `/cnb/buildpacks/${id.replace('/', '_')}/1`, files: new Map(), hasDetect: true, hasBuild: true };
}

function builder(...bps: BuilderBuildpack[]): BuilderInfo {
  return {
    image: 'builder',
    info: IMAGE,
    user: { uid: 1000, gid: 1001 },
    env: IMAGE.config.env,
    order: { order: [{ group: bps.map((b) => ({ id: b.descriptor.id, version: '1', optional: false })) }], orderExtensions: [] },
    runImages: [],
    buildpacks: new Map(bps.map((b) => [`${b.descriptor.id}@1`, b])),
    extensions: new Map(),
    buildConfigEnv: [],
  };
}

class FakeEngine {
  runs: RunSpec[] = [];
  puts: { dest: string; files: Map<string, Buffer> }[] = [];
  /** Exit code per executable path. */
  exits = new Map<string, number>();
  /** Tar entries returned by getArchive, keyed by the last path element asked for. */
  archives = new Map<string, TarFileEntry[]>();
  engine(): ContainerEngine {
    const no = (): never => {
      throw new Error('not used');
    };
    return {
      ping: async () => undefined,
      runContainer: async (spec) => {
        this.runs.push(spec);
        const exe = spec.cmd.find((c) => c.startsWith('/cnb/')) ?? spec.cmd[0] ?? '';
        return { exitCode: this.exits.get(exe) ?? 0 };
      },
      createContainer: async () => 'helper',
      removeContainer: async () => undefined,
      putArchive: async (_id, dest, tar) => {
        this.puts.push({ dest, files: await readTarFiles(tar as Buffer) });
      },
      getArchive: async (_id, path) => Readable.from([await makeTar(this.archives.get(path.split('/').pop() ?? '') ?? [])]),
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
const ctxOf = (f: FakeEngine) => ({ engine: f.engine(), reporter: { emit: () => undefined }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'x' } });

describe('runDetects', () => {
  it('runs bin/detect as the CNB user with exactly the allowed env and reads the plan back', async () => {
    const f = new FakeEngine();
    f.archives.set('detect', [{ path: 'detect/buildpack/acme_a/1/plan.toml', content: '[[provides]]\nname = "x"\n[[requires]]\nname = "x"\n' }]);
    const b = builder(bp('acme/a'));
    const results = await runDetects(ctxOf(f), { builder: b, volumes, platformEnv: { USER_VAR: 'u', PATH: '/user/bin' } }, candidateModules(b, b.order));
    const r = results.get(detectKey('buildpack', 'acme/a', '1'));
    expect(r?.status).toBe('pass');
    expect(r?.plan?.provides).toEqual([{ name: 'x' }]);
    const spec = f.runs[0] as RunSpec;
    expect(spec.user).toBe('1000:1001');
    expect(spec.network).toBe('none');
    expect(spec.workingDir).toBe('/workspace');
    // sh -c makes the empty plan file first (the prelude), then execs env, which drops the image's and
    // the shell's own variables.
    expect(spec.cmd.slice(0, 2)).toEqual(['sh', '-c']);
    // The prelude's values are parameters (path, mode, content of the plan file), never script text.
    expect(spec.cmd[2]).toBe(PRELUDE_SCRIPT);
    expect(spec.cmd.slice(spec.cmd.indexOf('kiln-prelude') + 1, spec.cmd.indexOf('env')).join('\0')).toContain(['/kiln/detect/buildpack/acme_a/1/plan.toml', '644', ''].join('\0'));
    expect(spec.cmd.slice(spec.cmd.indexOf('env'))).toEqual([
      'env', '-u', 'CNB_GROUP_ID', '-u', 'CNB_USER_ID', '-u', 'OLDPWD', '-u', 'PWD', '-u', 'SECRET', '-u', 'SHLVL', '-u', '_',
      '/cnb/buildpacks/acme_a/1/bin/detect', '/platform', '/kiln/detect/buildpack/acme_a/1/plan.toml',
    ]);
    expect(spec.env).toEqual({
      PATH: '/user/bin:/bin',
      USER_VAR: 'u',
      CNB_BUILDPACK_DIR: '/cnb/buildpacks/acme_a/1',
      CNB_PLATFORM_DIR: '/platform',
      CNB_BUILD_PLAN_PATH: '/kiln/detect/buildpack/acme_a/1/plan.toml',
    });
    expect(spec.mounts?.find((m) => m.target === '/platform')?.readOnly).toBe(true);
    expect(spec.labels).toEqual({ 'io.kiln.session': 's' });
    // The empty plan file is made by the container itself (as the CNB user): nothing goes in through the archive API.
    expect(f.puts).toEqual([]);
  });

  it('adds --volume mounts and --network to module containers', async () => {
    const f = new FakeEngine();
    const b = builder(bp('acme/a'));
    const extra = [{ type: 'bind' as const, source: '/host/data', target: '/data', readOnly: true }];
    await runDetects(ctxOf(f), { builder: b, volumes: { ...volumes, extra }, platformEnv: {}, network: 'host' }, candidateModules(b, b.order));
    expect(f.runs[0]?.mounts).toContainEqual(extra[0]);
    expect(f.runs[0]?.network).toBe('host');
  });

  it('classifies exit 100 as fail, other codes and bad plans as error', async () => {
    const f = new FakeEngine();
    f.exits.set('/cnb/buildpacks/acme_a/1/bin/detect', 100);
    f.exits.set('/cnb/buildpacks/acme_b/1/bin/detect', 7);
    f.archives.set('detect', [{ path: 'detect/buildpack/acme_c/1/plan.toml', content: '[[requires]]\nname = "x"\nversion = "1"\n' }]);
    const b = builder(bp('acme/a'), bp('acme/b'), bp('acme/c'));
    const results = await runDetects(ctxOf(f), { builder: b, volumes, platformEnv: {} }, candidateModules(b, b.order));
    expect([...results.values()].map((r) => [r.id, r.status])).toEqual([['acme/a', 'fail'], ['acme/b', 'error'], ['acme/c', 'error']]);
  });
});

describe('runBuild', () => {
  const layerOfA: TarFileEntry[] = [
    { path: 'acme_a', type: 'directory' },
    { path: 'acme_a/tool.toml', content: '[types]\nbuild = true\n' },
    { path: 'acme_a/tool', type: 'directory' },
    { path: 'acme_a/tool/bin', type: 'directory' },
    { path: 'acme_a/tool/env.build', type: 'directory' },
    { path: 'acme_a/tool/env.build/FOO', content: 'from-a' },
    { path: 'acme_a/tool/env.build/USER_VAR', content: 'from-a' },
  ];

  it('layers the first buildpack\'s build layer into the second\'s env, with user env still winning', async () => {
    const f = new FakeEngine();
    f.archives.set('acme_a', layerOfA);
    const b = builder(bp('acme/a'), bp('acme/b'));
    const plan = [{ providers: [{ id: 'acme/a', version: '1' }], requires: [{ name: 'x', metadata: { v: '1' } }] }];
    await runBuild(ctxOf(f), { builder: b, image: IMAGE.id, imageEnv: IMAGE.config.env, volumes, group: [{ id: 'acme/a', version: '1' }, { id: 'acme/b', version: '1' }], plan, platformEnv: { USER_VAR: 'user' } });
    const [first, second] = f.runs.filter((r) => r.cmd.some((c) => c.endsWith('/bin/build')));
    expect(first?.cmd.slice(-4)).toEqual(['/cnb/buildpacks/acme_a/1/bin/build', '/layers/acme_a', '/platform', '/kiln/build/acme_a/plan.toml']);
    expect(first?.env?.PATH).toBe('/bin');
    expect(first?.env?.CNB_LAYERS_DIR).toBe('/layers/acme_a');
    expect(second?.env?.PATH).toBe('/layers/acme_a/tool/bin:/bin');
    expect(second?.env?.FOO).toBe('from-a');
    expect(second?.env?.USER_VAR).toBe('user');
    // The build container writes the buildpack plan of acme/a, read-only, before bin/build (the prelude).
    expect(first?.cmd[2]).toBe(PRELUDE_SCRIPT);
    const cmd = first?.cmd ?? [];
    const prelude = cmd.slice(cmd.indexOf('kiln-prelude') + 1, cmd.indexOf('env'));
    expect(prelude.slice(0, 2)).toEqual(['2', '/layers/acme_a']);
    const at = prelude.indexOf('/kiln/build/acme_a/plan.toml');
    expect(prelude[at + 1]).toBe('444');
    expect(prelude[at + 2]).toContain('name = "x"');
  });

  it('a failing bin/build is exit 51 naming the buildpack', async () => {
    const f = new FakeEngine();
    f.exits.set('/cnb/buildpacks/acme_a/1/bin/build', 2);
    const b = builder(bp('acme/a'));
    const err = await runBuild(ctxOf(f), { builder: b, image: IMAGE.id, imageEnv: IMAGE.config.env, volumes, group: [{ id: 'acme/a', version: '1' }], plan: [], platformEnv: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(51);
    expect((err as KilnError).message).toContain('acme/a');
  });

  it('clear-env buildpacks do not get user env', async () => {
    const f = new FakeEngine();
    const b = builder(bp('acme/a', '0.10', true));
    await runBuild(ctxOf(f), { builder: b, image: IMAGE.id, imageEnv: IMAGE.config.env, volumes, group: [{ id: 'acme/a', version: '1' }], plan: [], platformEnv: { USER_VAR: 'user' } });
    expect(f.runs[0]?.env?.USER_VAR).toBeUndefined();
  });
});

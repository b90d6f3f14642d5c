import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError } from '../../../src/errors.js';
import { readTarFiles } from '../../../src/image/tar-files.js';
import { collectOutput, extendStepsFor, type GenerateResult, type GeneratedExtension, type OutputEntry } from '../../../src/lifecycle/generate.js';

const ext = { id: 'test/ext', version: '1.0.0', api: '0.10' };
const f = (path: string, text: string): OutputEntry => ({ path, type: 'file', content: Buffer.from(text), mode: 0o644 });
const d = (path: string): OutputEntry => ({ path, type: 'directory', content: Buffer.alloc(0), mode: 0o755 });
const BUILD = 'ARG base_image\nFROM ${base_image}\nRUN echo hi\n';

async function fails(entries: OutputEntry[]): Promise<KilnError> {
  const e = await collectOutput(ext, entries, '/layers/generated/test_ext', []).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(KilnError);
  return e as KilnError;
}

describe('collectOutput', () => {
  it('collects Dockerfiles, args and contexts', async () => {
    const warnings: string[] = [];
    const out = await collectOutput(
      ext,
      [f('build.Dockerfile', BUILD), f('run.Dockerfile', 'FROM ${base_image}\nUSER 1001\n'), f('extend-config.toml', '[[build.args]]\nname = "v"\nvalue = "1"\n'), d('context'), f('context/a.txt', 'a'), d('context/sub'), f('context/sub/b', 'b')],
      '/out',
      warnings,
    );
    expect(out.buildDockerfile).toBe(BUILD);
    expect(out.run).toEqual({ extends: true, fromLine: 1 });
    expect(out.args).toEqual({ build: [{ name: 'v', value: '1' }], run: [] });
    expect(out.contexts.build).toBeUndefined();
    expect([...(await readTarFiles(out.contexts.shared ?? Buffer.alloc(0))).keys()].sort()).toEqual(['a.txt', 'sub/b']);
    expect(warnings).toEqual([]);
  });

  it('a second global ARG fails with exit 92 naming the file and line', async () => {
    const e = await fails([f('build.Dockerfile', 'ARG base_image\nARG x\nFROM ${base_image}\n')]);
    expect(e.exitCode).toBe(ExitCode.generateError);
    expect(e.message).toContain('/layers/generated/test_ext/build.Dockerfile:2:');
  });

  it('run.Dockerfile with a second FROM fails', async () => {
    const e = await fails([f('run.Dockerfile', 'FROM ${base_image}\nRUN x\nFROM busybox\n')]);
    expect(e.message).toContain('run.Dockerfile:3:');
  });

  it('reserved args in extend-config.toml fail', async () => {
    const e = await fails([f('extend-config.toml', '[[run.args]]\nname = "build_id"\nvalue = "1"\n')]);
    expect(e.exitCode).toBe(92);
    expect(e.message).toMatch(/reserved/);
  });

  it('context/ with context.run/ fails', async () => {
    const e = await fails([f('context/a', 'a'), f('context.run/b', 'b')]);
    expect(e.message).toMatch(/context\//);
  });

  it('unusual instructions only warn, with the line', async () => {
    const warnings: string[] = [];
    await collectOutput(ext, [f('build.Dockerfile', 'ARG base_image\nFROM ${base_image}\nEXPOSE 80\n')], '/o', warnings);
    expect(warnings).toEqual([expect.stringContaining('/o/build.Dockerfile:3:')]);
  });

  it('FROM-only run.Dockerfile is a switch without extension', async () => {
    const out = await collectOutput(ext, [f('run.Dockerfile', 'FROM some/image:tag\n')], '/o', []);
    expect(out.run).toEqual({ switchesTo: 'some/image:tag', extends: false, fromLine: 1 });
  });
});

function gen(over: Partial<GeneratedExtension> & { id: string }): GeneratedExtension {
  return { version: '1', source: 'bin/generate', ignored: false, args: { build: [{ name: 'b', value: '1' }], run: [{ name: 'r', value: '2' }] }, contexts: {}, plan: [], ...over };
}

describe('extendStepsFor', () => {
  const shared = Buffer.from('shared');
  const runCtx = Buffer.from('run');
  const result: GenerateResult = {
    extensions: [
      gen({ id: 'a', buildDockerfile: 'B', runDockerfile: 'R', run: { extends: true, fromLine: 1 }, contexts: { shared, run: runCtx }, ignored: false }),
      gen({ id: 'b', runDockerfile: 'R2', run: { extends: true, fromLine: 1 }, ignored: true }),
      gen({ id: 'c', runDockerfile: 'FROM x', run: { switchesTo: 'x', extends: false, fromLine: 1 } }),
      gen({ id: 'd', buildDockerfile: 'B2', contexts: {} }),
    ],
    runImage: { image: 'x', switched: true, extend: true, ignored: ['b'], inRunToml: true },
    extendBuild: true,
    plan: { entries: [] },
    warnings: [],
  };
  it('build steps in group order with build args and context.build/ > context/ > app', () => {
    const steps = extendStepsFor(result, 'build');
    expect(steps.map((s) => s.extensionId)).toEqual(['a', 'd']);
    expect(steps[0]?.context).toBe(shared);
    expect(steps[0]?.args).toEqual([{ name: 'b', value: '1' }]);
    expect(steps[1]?.context).toBeUndefined();
  });
  it('run steps skip ignored and switch-only files and prefer context.run/', () => {
    const steps = extendStepsFor(result, 'run');
    expect(steps.map((s) => s.extensionId)).toEqual(['a']);
    expect(steps[0]?.context).toBe(runCtx);
    expect(steps[0]?.args).toEqual([{ name: 'r', value: '2' }]);
  });
});

describe('collectOutput: outputs that reach outside (issue 14)', () => {
  const link = (path: string, linkname: string): OutputEntry => ({ path, type: 'symlink', content: Buffer.alloc(0), mode: 0o777, linkname });

  it('a build.Dockerfile, run.Dockerfile or extend-config.toml that is a symlink is refused with exit 92 naming the extension', async () => {
    for (const name of ['build.Dockerfile', 'run.Dockerfile', 'extend-config.toml']) {
      const e = await fails([link(name, '/etc/passwd')]);
      expect(e.exitCode).toBe(ExitCode.generateError);
      expect(e.message).toContain('test/ext');
      expect(e.message).toContain(`/layers/generated/test_ext/${name} is a symlink (to /etc/passwd), not a regular file`);
    }
  });

  it('ADD <url> and COPY --from= are refused with file:line unless allowed', async () => {
    const e = await fails([f('run.Dockerfile', 'FROM ${base_image}\nADD https://example.com/x /x\n')]);
    expect(e.exitCode).toBe(ExitCode.generateError);
    expect(e.message).toContain('/layers/generated/test_ext/run.Dockerfile:2: ADD https://example.com/x');
    const c = await fails([f('build.Dockerfile', `${BUILD}COPY --from=busybox /bin/sh /sh\n`)]);
    expect(c.message).toContain('build.Dockerfile:4: COPY --from=busybox');
    const ok = await collectOutput(ext, [f('run.Dockerfile', 'FROM ${base_image}\nADD https://example.com/x /x\n')], '/o', [], { allowRemote: true });
    expect(ok.runDockerfile).toContain('ADD https://');
  });
});

/**
 * What `kiln generate` reports (issue 20 point 2): per extension, each Dockerfile with the image it
 * applies to and its build args in the lifecycle's order; switches and superseded files say so; --output
 * writes the files under the escaped id.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGenerateOutput } from '../../../src/app/generate-output.js';
import { FRESH_BUILD_ID, generateReport } from '../../../src/app/generate-report.js';
import type { GenerateResult } from '../../../src/lifecycle/generate.js';

const gen: GenerateResult = {
  extensions: [
    {
      id: 'acme/tools',
      version: '1.0.0',
      source: 'bin/generate',
      buildDockerfile: 'ARG base_image\nFROM ${base_image}\nRUN true\n',
      runDockerfile: 'ARG base_image\nFROM ${base_image}\nRUN true\n',
      run: { extends: true, fromLine: 2 },
      ignored: true,
      args: { build: [{ name: 'PKG', value: 'curl' }], run: [] },
      contexts: { build: Buffer.from('') },
      plan: [],
    },
    {
      id: 'acme/switch',
      version: '2.0.0',
      source: 'generate/',
      runDockerfile: 'FROM other/run:1\n',
      run: { extends: false, switchesTo: 'other/run:1', fromLine: 1 },
      ignored: false,
      args: { build: [], run: [] },
      contexts: {},
      plan: [],
    },
  ],
  runImage: { image: 'other/run:1', switched: true, extend: false, ignored: [], inRunToml: false } as unknown as GenerateResult['runImage'],
  extendBuild: true,
  plan: { entries: [] } as unknown as GenerateResult['plan'],
  warnings: ['a warning'],
};

const images = {
  builder: { ref: 'kiln/builder:1', id: 'sha256:b', user: '1000:1000' },
  run: { ref: 'kiln/run:1', id: 'sha256:r', user: '1001:1000' },
  switchedUser: '2000:2000',
};

describe('generateReport', () => {
  it('names the image each Dockerfile applies to and its build args', () => {
    const r = generateReport(gen, images);
    expect(r.runImage).toBe('other/run:1');
    expect(r.runImageSwitched).toBe(true);
    const [tools, sw] = r.extensions;
    expect(tools?.dockerfiles.map((d) => [d.kind, d.appliesTo, d.applied, d.context])).toEqual([
      ['build', 'kiln/builder:1', true, 'context.build'],
      ['run', 'other/run:1', false, 'app'],
    ]);
    expect(tools?.dockerfiles[0]?.args).toEqual([
      { name: 'base_image', value: 'sha256:b' },
      { name: 'build_id', value: FRESH_BUILD_ID },
      { name: 'user_id', value: '1000' },
      { name: 'group_id', value: '1000' },
      { name: 'PKG', value: 'curl' },
    ]);
    expect(tools?.dockerfiles[1]?.note).toContain('superseded');
    expect(sw?.dockerfiles[0]).toMatchObject({ applied: false, switchesTo: 'other/run:1', note: 'switches the run image to other/run:1; nothing else to apply' });
    expect(sw?.dockerfiles[0]?.args.find((a) => a.name === 'user_id')?.value).toBe('2000');
  });

  it('writes each extension\'s files under its escaped id, and refuses a non-empty directory', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'kiln-gen-out-'));
    try {
      await writeGenerateOutput(generateReport(gen, images), join(tmp, 'out'));
      expect((await readdir(join(tmp, 'out'))).sort()).toEqual(['acme_switch', 'acme_tools']);
      expect(await readFile(join(tmp, 'out/acme_tools/build.Dockerfile'), 'utf8')).toContain('RUN true');
      expect(await readFile(join(tmp, 'out/acme_tools/extend-config.toml'), 'utf8')).toBe('[[build.args]]\nname = "PKG"\nvalue = "curl"\n');
      expect(await readFile(join(tmp, 'out/acme_switch/run.Dockerfile'), 'utf8')).toBe('FROM other/run:1\n');
      await writeFile(join(tmp, 'full'), 'x');
      await expect(writeGenerateOutput(generateReport(gen, images), tmp)).rejects.toThrow(/not empty/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

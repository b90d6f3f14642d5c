/**
 * Issue 14 point 4: no name, path or value from a module is ever shell text. Every `sh -c` script kiln
 * runs is fixed; names go in as positional parameters. Checked two ways: the script text does not change
 * with the values (and holds none of them), and the scripts run with real `sh` on names that would run
 * code if they were interpolated.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENAME_SCRIPT } from '../../../src/lifecycle/build.js';
import { layerNameProblem, postProcess } from '../../../src/lifecycle/build-post.js';
import { saveScript } from '../../../src/lifecycle/cache/cache-volume.js';
import { fingerprintScript, parseFingerprints, probeScript } from '../../../src/lifecycle/cache/fingerprint.js';
import { copyScript } from '../../../src/lifecycle/export/commit.js';
import { moduleCommand, PRELUDE_SCRIPT } from '../../../src/lifecycle/container/module-env.js';
import { shArgv, type ShScript } from '../../../src/lifecycle/container/sh-script.js';
import { KilnError } from '../../../src/errors.js';

const run = promisify(execFile);
/** Names that run code (or break quoting) when pasted into a shell string. */
const HOSTILE = ['$(touch PWNED)', '`touch PWNED`', "a'b;touch PWNED;'", 'a"$(touch PWNED)"b', 'x;touch PWNED', '-n'];
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-sh-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function sh(s: ShScript, cwd: string): Promise<string> {
  const [exe, ...args] = shArgv(s, 'kiln-test');
  const { stdout } = await run(exe ?? 'sh', args, { cwd });
  return stdout;
}

async function pwned(where: string): Promise<boolean> {
  // A file named exactly PWNED (made by `touch PWNED` run as code); the names themselves only contain it.
  return (await readdir(where, { recursive: true })).some((f) => f === 'PWNED' || f.endsWith('/PWNED'));
}

describe('every kiln sh script is fixed text; values are parameters', () => {
  const big = (name: string) => ({ volumePath: `bp/${name}`, placement: { prefix: `/layers/bp/${name}`, uid: 1, gid: 2, parents: [{ path: `/l/${name}`, uid: 1, gid: 2, mode: 0o755 }] } });
  const cases: [string, (name: string) => ShScript][] = [
    ['save (cache/cache-volume.ts)', (n) => saveScript([{ buildpackId: `bp/${n}`, name: n, keep: true }, { buildpackId: 'bp', name: n, keep: false }])],
    ['fingerprints', (n) => fingerprintScript([`/layers/${n}`])],
    ['fingerprint probe', (n) => probeScript(`/s/${n}`, [`/layers/${n}`], `/w/${n}`)],
    ['commit copy', (n) => copyScript(big(n) as Parameters<typeof copyScript>[0])],
    ['prelude', (n) => ({ script: moduleCommand([], {}, `/cnb/${n}`, [n], { dirs: [`/layers/${n}`], files: [{ path: `/p/${n}`, content: n, mode: 0o444 }], doneFile: `/d/${n}` })[2] ?? '', args: [] })],
  ];
  for (const [what, make] of cases) {
    it(`${what}: the script is the same for any name and holds none of them`, () => {
      const plain = make('plain').script;
      for (const n of HOSTILE) {
        const s = make(n);
        expect(s.script).toBe(plain);
        expect(s.script).not.toContain('PWNED');
      }
    });
  }

  it('the prelude makes dirs and files with hostile names and contents exactly, and runs nothing else', async () => {
    const root = join(dir, 'prelude');
    await mkdir(root);
    for (const [i, n] of HOSTILE.entries()) {
      const cmd = moduleCommand([], {}, 'true', [], { dirs: [join(root, `d${i}`, n)], files: [{ path: join(root, `f${i}-${n.replace(/\//g, '')}`), content: `${n}\n%s\\n`, mode: 0o444 }], doneFile: join(root, `done${i}`) });
      expect(cmd[2]).toBe(PRELUDE_SCRIPT);
      await run(cmd[0] ?? 'sh', cmd.slice(1), { cwd: root });
      expect(await readFile(join(root, `f${i}-${n.replace(/\//g, '')}`), 'utf8')).toBe(`${n}\n%s\\n`);
      expect((await readdir(join(root, `d${i}`)))).toEqual([n]);
    }
    expect(await pwned(root)).toBe(false);
  });

  it('ignored layers are renamed by name, whatever the name; nothing runs', async () => {
    const root = join(dir, 'rename');
    await mkdir(root);
    for (const n of HOSTILE) await mkdir(join(root, n));
    await sh({ script: RENAME_SCRIPT, args: HOSTILE.map((n) => join(root, n)) }, root);
    expect((await readdir(root)).sort()).toEqual(HOSTILE.map((n) => `${n}.ignore`).sort());
    expect(await pwned(root)).toBe(false);
  });

  it('fingerprints see layer dirs with hostile names, and run nothing', async () => {
    const root = join(dir, 'layers');
    await mkdir(root);
    for (const n of HOSTILE) {
      await mkdir(join(root, n));
      await writeFile(join(root, n, 'f'), n);
      await writeFile(join(root, `${n}.toml`), '');
    }
    const paths = HOSTILE.map((n) => join(root, n));
    const fps = parseFingerprints((await sh(fingerprintScript(paths), root)).split('\n'));
    expect([...fps.keys()].sort()).toEqual([...paths].sort());
    await writeFile(join(dir, 'marker'), '');
    const probed = parseFingerprints((await sh(probeScript(join(dir, 'marker'), [root], root), root)).split('\n'));
    expect([...probed.keys()].sort()).toEqual([...paths, root].sort());
    expect(await pwned(dir)).toBe(false);
  });
});

describe('layer names (issue 14)', () => {
  it('".", "..", the empty name, quotes, backslashes and control characters are refused', () => {
    for (const n of ['', '.', '..', 'a"b', "a'b", 'a`b', 'a\\b', 'a\nb', 'a\tb']) expect(layerNameProblem(n), JSON.stringify(n)).toBeDefined();
    for (const n of ['web', 'node_modules', 'jdk-17.0', 'python@3.11', '$(not-run)', 'a b']) expect(layerNameProblem(n), n).toBeUndefined();
  });

  it('postProcess fails with exit 52 naming the buildpack and the layer', () => {
    const base = { id: 'acme/node', version: '1.0.0', api: '0.10', sbomFormats: [] as string[], layersDir: '/layers/acme_node', plan: [] };
    for (const [n, file] of [['..', '...toml'], ["it's", "it's.toml"]] as const) {
      let err: unknown;
      try {
        postProcess({ ...base, entries: [{ path: file, type: 'file', mode: 0o644, uid: 1, gid: 1, content: Buffer.from('[types]\nlaunch = true\n') }] });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).exitCode).toBe(52);
      expect((err as KilnError).message).toContain('acme/node');
      expect((err as KilnError).message).toContain(`layer ${JSON.stringify(n)} (/layers/acme_node/${file})`);
    }
  });
});

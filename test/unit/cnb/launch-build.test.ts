import { describe, expect, it } from 'vitest';
import { parseBuildFile } from '../../../src/cnb/build-file.js';
import { parseExtendConfig } from '../../../src/cnb/extend-config.js';
import { parseLaunchFile } from '../../../src/cnb/launch-file.js';
import { errors, ok, toml, warnings } from './helpers.js';

const L = 'launch.toml';

describe('parseLaunchFile', () => {
  it('refuses the reserved process types launcher, . and .. (issue 14: the launcher could not start them)', () => {
    for (const type of ['launcher', '.', '..']) {
      const r = parseLaunchFile(`[[processes]]\ntype = "${type}"\ncommand = ["true"]\ndefault = true\n`, L, '0.10');
      expect(errors(r).map((e) => `${e.keyPath}: ${e.message}`)).toEqual([expect.stringMatching(new RegExp(`processes\\[0\\]\\.type: .*reserved`))]);
    }
    expect(errors(parseLaunchFile('[[processes]]\ntype = "launcher-web"\ncommand = ["true"]\n', L, '0.10'))).toEqual([]);
  });

  it('reads labels, processes and slices for API >= 0.9', () => {
    const r = parseLaunchFile(
      toml`
        [[labels]]
        key = "org.example.foo"
        value = "bar"
        [[processes]]
        type = "web"
        command = ["node", "server.js"]
        args = ["--port", "8080"]
        default = true
        working-dir = "/workspace/sub"
        exec-env = ["production"]
        [[processes]]
        type = "worker.v2_x-y"
        command = ["node"]
        [[slices]]
        paths = ["public/*"]
      `,
      L,
      '0.12',
    );
    expect(r.issues).toEqual([]);
    expect(ok(r)).toEqual({
      labels: [{ key: 'org.example.foo', value: 'bar' }],
      processes: [
        { type: 'web', command: ['node', 'server.js'], args: ['--port', '8080'], direct: true, default: true, workingDir: '/workspace/sub', execEnv: ['production'] },
        { type: 'worker.v2_x-y', command: ['node'], args: [], direct: true, default: false },
      ],
      slices: [{ paths: ['public/*'] }],
    });
  });

  it('accepts a string command for API >= 0.9 as one element, with a warning', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "web"\ncommand = "node server.js"\n', L, '0.9');
    expect(ok(r).processes[0]?.command).toEqual(['node server.js']);
    expect(warnings(r)).toMatchObject([{ keyPath: 'processes[0].command', line: 3 }]);
  });

  it('rejects direct for API >= 0.9 (edge case 44)', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "web"\ncommand = ["x"]\ndirect = true\n', L, '0.10');
    expect(errors(r)).toMatchObject([{ file: L, keyPath: 'processes[0].direct', line: 4, message: expect.stringContaining('not allowed') }]);
  });

  it('reads string commands and direct for API < 0.9', () => {
    const p = ok(parseLaunchFile('[[processes]]\ntype = "web"\ncommand = "npm start"\nargs = ["x"]\n[[processes]]\ntype = "d"\ncommand = "/bin/app"\ndirect = true\n', L, '0.8'));
    expect(p.processes).toEqual([
      { type: 'web', command: ['npm start'], args: ['x'], direct: false, default: false },
      { type: 'd', command: ['/bin/app'], args: [], direct: true, default: false },
    ]);
    const r = parseLaunchFile('[[processes]]\ntype = "web"\ncommand = ["npm"]\n', L, '0.8');
    expect(errors(r)).toMatchObject([{ keyPath: 'processes[0].command', line: 3, message: 'must be a string for Buildpack API 0.8, not an array' }]);
  });

  it('ignores working-dir below 0.8 and exec-env below 0.12 with warnings', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "w"\ncommand = "x"\nworking-dir = "/a"\nexec-env = ["p"]\n', L, '0.7');
    expect(ok(r).processes[0]).toEqual({ type: 'w', command: ['x'], args: [], direct: false, default: false });
    expect(warnings(r).map((i) => i.keyPath)).toEqual(['processes[0].working-dir', 'processes[0].exec-env']);
  });

  it('rejects two default processes (edge case 43)', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "a"\ncommand = ["x"]\ndefault = true\n[[processes]]\ntype = "b"\ncommand = ["y"]\ndefault = true\n', L, '0.12');
    expect(errors(r)).toMatchObject([{ keyPath: 'processes[1].default', line: 8, message: expect.stringContaining('second default') }]);
  });

  it('rejects bad process types, missing and empty commands', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "we/b"\ncommand = []\n[[processes]]\ntype = "x:y"\n[[processes]]\ncommand = ["a"]\n', L, '0.12');
    expect(errors(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['processes[0].type', 2],
      ['processes[0].command', 3],
      ['processes[1].type', 5],
      ['processes[1].command', 4],
      ['processes[2].type', 6],
    ]);
  });

  it('warns about duplicate types and unknown keys; refuses an invalid API', () => {
    const r = parseLaunchFile('[[processes]]\ntype = "a"\ncommand = ["x"]\n[[processes]]\ntype = "a"\ncommand = ["y"]\nfoo = 1\n', L, '0.12');
    expect(warnings(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['processes[1].type', 5],
      ['processes[1].foo', 7],
    ]);
    expect(errors(parseLaunchFile('', L, 'x'))).toHaveLength(1);
  });
});

describe('parseBuildFile', () => {
  it('reads unmet names', () => {
    expect(ok(parseBuildFile('[[unmet]]\nname = "node"\n', 'build.toml'))).toEqual({ unmet: [{ name: 'node' }] });
    expect(ok(parseBuildFile('', 'build.toml'))).toEqual({ unmet: [] });
  });

  it('rejects empty names', () => {
    expect(errors(parseBuildFile('[[unmet]]\nname = ""\n', 'build.toml'))).toMatchObject([{ keyPath: 'unmet[0].name', line: 2, message: 'must not be empty' }]);
  });
});

describe('parseExtendConfig', () => {
  const E = 'extend-config.toml';
  it('reads build and run args', () => {
    expect(ok(parseExtendConfig('[[build.args]]\nname = "A"\nvalue = "1"\n[[run.args]]\nname = "B"\nvalue = "2"\n', E))).toEqual({
      build: { args: [{ name: 'A', value: '1' }] },
      run: { args: [{ name: 'B', value: '2' }] },
    });
    expect(ok(parseExtendConfig('', E))).toEqual({ build: { args: [] }, run: { args: [] } });
  });

  it('rejects the reserved names build_id, user_id, group_id (edge case 23)', () => {
    const r = parseExtendConfig('[[build.args]]\nname = "build_id"\nvalue = "1"\n[[run.args]]\nname = "user_id"\n[[run.args]]\nname = "group_id"\n', E);
    expect(errors(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['build.args[0].name', 2],
      ['run.args[0].name', 5],
      ['run.args[1].name', 7],
    ]);
    expect(errors(r)[0]?.message).toContain('reserved');
  });

  it('warns about unknown keys', () => {
    expect(warnings(parseExtendConfig('[build]\nfoo = 1\n', E))).toMatchObject([{ keyPath: 'build.foo', line: 2 }]);
  });
});

describe('parseBuildFile unknown keys', () => {
  it('warns about them', () => {
    expect(warnings(parseBuildFile('[[unmet]]\nname = "a"\nwhy = "x"\n', 'build.toml'))).toMatchObject([{ keyPath: 'unmet[0].why', line: 3 }]);
  });
});

/**
 * Runs the launcher script with the host's /bin/sh (and busybox sh when a cached static busybox is
 * there) against a temp-dir layout written by processTableFiles, so the script and the table agree.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LaunchProcess } from '../../../src/lifecycle/export/config-metadata.js';
import { LAUNCHER_SCRIPT } from '../../../src/lifecycle/launcher/launcher-script.js';
import { processTableFiles, userArgsMode } from '../../../src/lifecycle/launcher/process-table.js';
import type { GroupMember } from '../../../src/cnb/models.js';

const group: GroupMember[] = [
  { id: 'test/one', version: '1.0.0', api: '0.10' },
  { id: 'test/old', version: '0.1.0', api: '0.8' },
];

function proc(p: Partial<LaunchProcess> & { type: string; command: string[] }): LaunchProcess {
  return { args: [], direct: true, default: false, buildpackId: 'test/one', ...p };
}

const processes: LaunchProcess[] = [
  proc({ type: 'web', command: ['hello'], args: ['world', "it's  spaced"] }),
  proc({ type: 'multi', command: ['printf', '[%s]\\n', 'fixed'], args: ['dflt'] }),
  proc({ type: 'env', command: ['env'] }),
  proc({ type: 'cwd', command: ['pwd'], workingDir: '/WORKDIR' }),
  proc({ type: 'legacy', command: ['echo'], args: ['a'], buildpackId: 'test/old' }),
  proc({ type: 'shell', command: ['echo shell:$GREETING'], direct: false, buildpackId: 'test/old' }),
];

let root: string;
let layers: string;
let app: string;
let launcher: string;

async function put(path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-launcher-'));
  layers = join(root, 'layers');
  app = join(root, 'workspace');
  await mkdir(app, { recursive: true });
  await mkdir(join(root, 'sub'), { recursive: true });
  const table = processTableFiles(
    group,
    processes.map((p) => (p.workingDir === '/WORKDIR' ? { ...p, workingDir: join(root, 'sub') } : p)),
    app,
  );
  for (const d of table.dirs) await mkdir(join(layers, 'config', d), { recursive: true });
  for (const f of table.files) await put(join(layers, 'config', f.path), f.content);
  const l1 = join(layers, 'test_one', 'a-layer');
  await put(join(l1, 'bin', 'hello'), '#!/bin/sh\necho "hello $* greeting=$GREETING"\n', 0o755);
  await put(join(l1, 'env.launch', 'GREETING'), 'hi');
  await put(join(l1, 'env', 'LIST.append'), 'one');
  await put(join(l1, 'env', 'TRAIL'), 'line\n');
  await put(join(l1, 'env.launch', 'web', 'ONLY_WEB'), 'yes');
  const l2 = join(layers, 'test_one', 'b-layer');
  await put(join(l2, 'env', 'LIST.append'), 'two');
  await put(join(l2, 'env', 'LIST.delim'), ',');
  await put(join(l2, 'env', 'DEF.default'), 'layer-default');
  await put(join(l2, 'env', 'PRE.prepend'), 'front');
  await put(join(l2, 'env', 'BAD-NAME'), 'skipped');
  await mkdir(join(l2, 'lib'));
  await put(join(l2, 'profile.d', 'greet.sh'), 'export FROM_PROFILE=profiled\n');
  await put(join(l2, 'exec.d', 'gen'), '#!/bin/sh\necho \'EXECD = "from \\"exec.d\\""\' >&3\n', 0o755);
  await put(join(layers, 'test_old', 'x', 'env.launch', 'OLD'), 'old');
  launcher = join(root, 'launcher');
  await put(launcher, LAUNCHER_SCRIPT, 0o755);
  await mkdir(join(root, 'process'));
  for (const p of processes) await symlink(launcher, join(root, 'process', p.type));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(shell: string, argv: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      shell,
      argv,
      {
        env: {
          PATH: `/cnb/process:/cnb/lifecycle:${process.env.PATH ?? '/usr/bin:/bin'}`,
          CNB_LAYERS_DIR: layers,
          CNB_APP_DIR: app,
          CNB_PLATFORM_API: '0.13',
          CNB_DEPRECATION_MODE: 'quiet',
          DEF: '',
          PRE: 'back',
          ...env,
        },
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const busybox = join(process.env.KILN_CACHE_DIR ?? join(homedir(), '.cache', 'kiln'), 'busybox', 'root', 'bin', 'busybox');
const shells: [string, string[]][] = [['/bin/sh', []]];
if (existsSync(busybox)) shells.push([busybox, ['sh']]);

describe('userArgsMode', () => {
  it('replaces for API >= 0.9 and multi-entry commands, appends for single-entry API < 0.9', () => {
    expect(userArgsMode(processes[0] as LaunchProcess, group)).toBe('replace');
    expect(userArgsMode(processes[4] as LaunchProcess, group)).toBe('append');
    expect(userArgsMode(proc({ type: 'x', command: ['a', 'b'], buildpackId: 'test/old' }), group)).toBe('replace');
  });
});

describe.each(shells)('launcher script on %s', (shellPath, shellArgs) => {
  // `sh <path>` sets $0 to <path>, the /cnb/process/<type> symlink, as the kernel would.
  const go = (argv0: string, args: string[], env?: Record<string, string>): Promise<Run> => run(shellPath, [...shellArgs, argv0, ...args], env);

  it('runs the process named by the symlink, with its default args and env.launch env', async () => {
    const r = await go(join(root, 'process', 'web'), []);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("hello world it's  spaced greeting=hi\n");
    expect(r.code).toBe(0);
  });

  it('user args replace the process args', async () => {
    const r = await go(join(root, 'process', 'web'), ['a b', "c'd"]);
    expect(r.stdout).toBe("hello a b c'd greeting=hi\n");
  });

  it('keeps command[1:] and replaces only args for multi-entry commands', async () => {
    expect((await go(join(root, 'process', 'multi'), [])).stdout).toBe('[fixed]\n[dflt]\n');
    expect((await go(join(root, 'process', 'multi'), ['u'])).stdout).toBe('[fixed]\n[u]\n');
  });

  it('appends user args for single-entry commands of API < 0.9 buildpacks', async () => {
    expect((await go(join(root, 'process', 'legacy'), ['b'])).stdout).toBe('a b\n');
  });

  it('builds the env from launch layers (buildpack.md, "Environment Variable Modification Rules") and removes the platform vars', async () => {
    const r = await go(join(root, 'process', 'env'), []);
    const env = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
    );
    expect(env.get('GREETING')).toBe('hi');
    expect(env.get('LIST')).toBe('one,two');
    expect(env.get('DEF')).toBe('layer-default');
    expect(env.get('PRE')).toBe('frontback');
    expect(env.get('OLD')).toBe('old');
    expect(env.get('EXECD')).toBe('from "exec.d"');
    expect(env.has('ONLY_WEB')).toBe(false);
    expect(env.has('BAD-NAME')).toBe(false);
    expect(env.has('FROM_PROFILE')).toBe(false);
    for (const k of ['CNB_LAYERS_DIR', 'CNB_APP_DIR', 'CNB_PLATFORM_API', 'CNB_DEPRECATION_MODE']) expect(env.has(k)).toBe(false);
    const path = env.get('PATH') ?? '';
    expect(path.startsWith(`${join(layers, 'test_one', 'a-layer', 'bin')}:`)).toBe(true);
    expect(path.split(':')).not.toContain('/cnb/process');
    expect(path.split(':')).not.toContain('/cnb/lifecycle');
    expect(env.get('LD_LIBRARY_PATH')).toBe(join(layers, 'test_one', 'b-layer', 'lib'));
    // A trailing newline in an env file is part of the value (buildpack.md, "Environment Variable Modification Rules").
    expect(r.stdout).toContain('TRAIL=line\n\n');
  });

  it('applies env.launch/<type> only for that process', async () => {
    const r = await go(join(root, 'process', 'web'), [], {});
    expect(r.code).toBe(0);
    const e = await go(launcher, ['--', 'sh', '-c', 'echo "[$ONLY_WEB]"']);
    expect(e.stdout).toBe('[]\n');
  });

  it('cds to the process working dir, else the app dir', async () => {
    expect((await go(join(root, 'process', 'cwd'), [])).stdout).toBe(`${join(root, 'sub')}\n`);
    expect((await go(launcher, ['--', 'pwd'])).stdout).toBe(`${app}\n`);
  });

  it('launcher -- cmd args is a direct exec without profile.d', async () => {
    const r = await go(launcher, ['--', 'printf', '%s|', '$HOME', 'a b']);
    expect(r.stdout).toBe('$HOME|a b|');
  });

  it('launcher <cmd> is a shell process with profile.d', async () => {
    const r = await go(launcher, ['echo $FROM_PROFILE $GREETING']);
    expect(r.stdout).toBe('profiled hi\n');
  });

  it('runs legacy direct=false processes through the shell', async () => {
    expect((await go(join(root, 'process', 'shell'), [])).stdout).toBe('shell:hi\n');
  });

  it('fails with 82 when there is nothing to run, in the lifecycle\'s words, naming the types and --entrypoint, never a process "launcher"', async () => {
    const r = await go(launcher, []);
    expect(r.code).toBe(82);
    expect(r.stderr).toBe(
      'kiln launcher: when there is no default process a command is required: run the image with --entrypoint <process type> (defined: cwd, env, legacy, multi, shell, web) or give a command\n',
    );
    expect(r.stderr).not.toContain("'launcher'");
  });

  it('ignores CNB_PROCESS_TYPE with the lifecycle\'s warning naming --entrypoint (Platform API 0.13, issue 15 point 10)', async () => {
    const r = await go(join(root, 'process', 'web'), [], { CNB_PROCESS_TYPE: 'env' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("hello world it's  spaced greeting=hi\n");
    expect(r.stderr.split('\n')).toEqual([
      'kiln launcher: warning: CNB_PROCESS_TYPE is not supported in Platform API 0.13',
      "kiln launcher: warning: run with ENTRYPOINT 'env' (docker run --entrypoint env ...) to invoke the 'env' process type",
      '',
    ]);
    const bare = await go(launcher, [], { CNB_PROCESS_TYPE: 'web' });
    expect(bare.code).toBe(82);
    expect(bare.stderr).toContain("warning: run with ENTRYPOINT 'web' (docker run --entrypoint web ...)");
    expect(bare.stderr).toContain('when there is no default process a command is required');
  });

  it('passes the exit code of the process through', async () => {
    expect((await go(launcher, ['--', 'sh', '-c', 'exit 7'])).code).toBe(7);
  });
});

/**
 * Issue 21 point 1: `kiln --version` and `kiln --help` load only the command-line shell (commander and
 * the command definitions), never dockerode, ora, tar, TOML or the lifecycle. Runs `node bin/kiln.js`
 * (needs `npm run build` first, as CI does) with a loader hook that records every module it resolves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../../..');
const hook = join(root, 'test/fixtures/startup/record-loads.mjs');

async function loadsOf(args: string[]): Promise<{ stdout: string; loaded: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-startup-'));
  const log = join(dir, 'loads.txt');
  try {
    const { stdout } = await promisify(execFile)('node', ['--import', hook, 'bin/kiln.js', ...args], { cwd: root, env: { ...process.env, KILN_TEST_LOAD_LOG: log } }).catch((e: { stdout: string }) => e);
    return { stdout, loaded: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Pure flag checkers the command definitions use as option parsers (the reference grammar, the Dockerfile
// remote-source rule, the registry host of a name, DOCKER_HOST's kind) are fine: they import nothing heavy.
// Whether the daemon is local depends on the Docker context (issue 19): docker/daemon-locality.ts and the
// context reader import only Node built-ins; the connection and the ssh transport stay in `heavy`.
const pure = /\/dist\/(image\/(image-ref|registry-host|dockerfile|dockerfile-remote)|docker\/(daemon-locality|context-store))\.js$/;
const heavy = [/node_modules\/(dockerode|docker-modem|ssh2|protobufjs|ora|tar-fs|tar-stream|@iarna\/toml)\//, /\/dist\/(app\/build-app|lifecycle|docker|image|builder|stacks)\//, /\/dist\/ui\/(tty-reporter|cli-output)\.js/];

describe('start-up loads only what a command uses', () => {
  for (const args of [['--version'], ['--help'], ['build', '--help']]) {
    it(`kiln ${args.join(' ')} loads no docker client, spinner, tar or lifecycle module`, async () => {
      const { stdout, loaded } = await loadsOf(args);
      expect(stdout).toMatch(args[0] === '--version' ? /^\d+\.\d+\.\d+/ : /Usage: kiln/);
      // `kiln --version` and `kiln --help` alone are answered by bin/kiln.js without the program; a
      // command's help loads commander (and shows that the hook records loads).
      expect(loaded.some((u) => u.includes('commander'))).toBe(args[0] === 'build');
      expect(loaded.filter((u) => !pure.test(u) && heavy.some((re) => re.test(u)))).toEqual([]);
    });
  }
});

describe('a command loads what it uses, not the optional transports', () => {
  it('kiln build (output to a pipe) loads dockerode but not the spinner, ssh2 or gRPC', async () => {
    // A missing app dir fails before any daemon call, after the command's modules are loaded.
    const { loaded } = await loadsOf(['build', 'kiln-test/startup:1', '--builder', 'kiln-test/none:1', '--path', join(root, 'test/fixtures/startup/no-such-dir')]);
    expect(loaded.some((u) => /node_modules\/dockerode\//.test(u))).toBe(true);
    expect(loaded.filter((u) => /node_modules\/(ora|ssh2|@grpc\/grpc-js|@grpc\/proto-loader)\//.test(u))).toEqual([]);
  });
});

describe('the stand-ins for ssh2 and gRPC (src/docker/lazy-deps.ts)', () => {
  it('load the real modules when used: an ssh2 Client for ssh:// daemons, gRPC for sessions', async () => {
    const script = [
      "await import('./dist/docker/docker-engine.js');",
      "const { createRequire } = await import('node:module');",
      "const fromModem = createRequire(createRequire(import.meta.url + '/../node_modules/dockerode/').resolve('docker-modem'));",
      "const ssh = new (fromModem('ssh2').Client)();",
      "const fromDockerode = createRequire(createRequire(import.meta.url).resolve('dockerode'));",
      "console.log(typeof ssh.connect, typeof fromDockerode('@grpc/grpc-js').credentials.createInsecure);",
    ].join('\n');
    const { stdout } = await promisify(execFile)('node', ['--input-type=module', '-e', script], { cwd: root });
    expect(stdout.trim()).toBe('function function');
  });
});

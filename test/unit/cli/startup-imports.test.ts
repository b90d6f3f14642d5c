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
    const { stdout } = await promisify(execFile)('node', ['--import', hook, 'bin/kiln.js', ...args], { cwd: root, env: { ...process.env, KILN_TEST_LOAD_LOG: log } });
    return { stdout, loaded: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavy = [/node_modules\/(dockerode|docker-modem|ssh2|protobufjs|ora|tar-fs|tar-stream|@iarna\/toml)\//, /\/dist\/(app\/build-app|lifecycle|docker|image|builder|stacks)\//, /\/dist\/ui\/(tty-reporter|cli-output)\.js/];

describe('start-up loads only what a command uses', () => {
  for (const args of [['--version'], ['--help'], ['build', '--help']]) {
    it(`kiln ${args.join(' ')} loads no docker client, spinner, tar or lifecycle module`, async () => {
      const { stdout, loaded } = await loadsOf(args);
      expect(stdout).toMatch(args[0] === '--version' ? /^\d+\.\d+\.\d+/ : /Usage: kiln/);
      expect(loaded.some((u) => u.includes('commander'))).toBe(true);
      expect(loaded.filter((u) => heavy.some((re) => re.test(u)))).toEqual([]);
    });
  }
});

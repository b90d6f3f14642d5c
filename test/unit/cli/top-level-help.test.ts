/**
 * bin/kiln.js answers `kiln --help` and `kiln --version` alone without loading the program (issue 21:
 * start-up): the answers must be exactly the program's own (needs `npm run build`, as CI does).
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import { KILN_VERSION } from '../../../src/cli/version.js';

const root = resolve(__dirname, '../../..');
const kiln = (...args: string[]): Promise<{ stdout: string }> => promisify(execFile)('node', ['bin/kiln.js', ...args], { cwd: root });

describe('the fast answers of bin/kiln.js', () => {
  it('--help and -h print the program\'s own help text', async () => {
    const expected = buildProgram().helpInformation();
    expect((await kiln('--help')).stdout).toBe(expected);
    expect((await kiln('-h')).stdout).toBe(expected);
  });

  it('--version and -V print the version', async () => {
    expect((await kiln('--version')).stdout).toBe(`${KILN_VERSION}\n`);
    expect((await kiln('-V')).stdout).toBe(`${KILN_VERSION}\n`);
  });
});

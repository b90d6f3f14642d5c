/** Issue 16 point 4: the base-image contract is written once and checked by running its script. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_IMAGE_PROGRAMS, missingPrograms, missingProgramsScript, RUN_IMAGE_PROGRAMS } from '../../../src/cnb/base-image-contract.js';
import { shArgv } from '../../../src/lifecycle/container/sh-script.js';

describe('the base-image contract', () => {
  it('puts sh first and says who uses each program', () => {
    expect(BUILD_IMAGE_PROGRAMS[0]?.name).toBe('sh');
    expect(RUN_IMAGE_PROGRAMS.map((p) => p.name)).toEqual(expect.arrayContaining(['sh', 'cat']));
    expect(BUILD_IMAGE_PROGRAMS.map((p) => p.name)).toEqual(expect.arrayContaining(['md5sum', 'stat', 'find', 'cp']));
    for (const p of [...BUILD_IMAGE_PROGRAMS, ...RUN_IMAGE_PROGRAMS]) expect(p.usedBy).not.toBe('');
  });

  it('passes the program names as parameters, never as script text', () => {
    const s = missingProgramsScript('build');
    expect(s.args).toEqual(BUILD_IMAGE_PROGRAMS.map((p) => p.name));
    expect(missingProgramsScript('run').script).toBe(s.script);
    expect(s.script).not.toMatch(/md5sum|sha256sum|mktemp/);
  });

  it('reports exactly what is not on PATH (run with the host sh and a PATH holding only sh and cat)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-contract-'));
    try {
      for (const b of ['sh', 'cat']) symlinkSync(execFileSync('sh', ['-c', `command -v ${b}`]).toString().trim(), join(dir, b));
      const [exe, ...args] = shArgv(missingProgramsScript('run'), 'kiln-base-check');
      const out = execFileSync(join(dir, exe as string), args, { env: { PATH: dir } }).toString().split('\n');
      expect(missingPrograms('run', out).map((p) => p.name)).toEqual(['tr', 'sed']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

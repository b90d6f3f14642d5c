/** `--pids-limit` / `--memory` and their KILN_* variables (issue 14 point 7), and the defaults they override. */
import { describe, expect, it } from 'vitest';
import { limitsOf, parseMemory, parsePidsLimit } from '../../../src/cli/limit-flags.js';
import { DEFAULT_MEMORY_BYTES, DEFAULT_PIDS_LIMIT, dockerfileOomNote, effectiveLimits, formatBytes, moduleKilledError } from '../../../src/lifecycle/container/module-limits.js';

describe('limit flags', () => {
  it('parses sizes with and without units; 0 is no limit', () => {
    expect(parseMemory('512m')).toBe(512 * 1024 ** 2);
    expect(parseMemory('4g')).toBe(4 * 1024 ** 3);
    expect(parseMemory('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseMemory('8388608')).toBe(8 * 1024 ** 2);
    expect(parseMemory('0')).toBe(0);
    expect(() => parseMemory('lots')).toThrow(/--memory "lots"/);
    expect(() => parseMemory('1k')).toThrow(/6m/);
  });

  it('parses pids limits; tiny and non-numeric ones are refused with exit 3', () => {
    expect(parsePidsLimit('8192')).toBe(8192);
    expect(parsePidsLimit('0')).toBe(0);
    expect(() => parsePidsLimit('many')).toThrow(expect.objectContaining({ exitCode: 3 }));
    expect(() => parsePidsLimit('3')).toThrow(/at least 16/);
  });

  it('a flag wins over KILN_PIDS_LIMIT / KILN_MEMORY; nothing set gives nothing (the defaults apply later)', () => {
    expect(limitsOf({}, {})).toEqual({});
    expect(limitsOf({}, { KILN_PIDS_LIMIT: '100', KILN_MEMORY: '1g' })).toEqual({ pids: 100, memoryBytes: 1024 ** 3 });
    expect(limitsOf({ pidsLimit: '200', memory: '2g' }, { KILN_PIDS_LIMIT: '100', KILN_MEMORY: '1g' })).toEqual({ pids: 200, memoryBytes: 2 * 1024 ** 3 });
    expect(() => limitsOf({}, { KILN_MEMORY: 'x' })).toThrow(/KILN_MEMORY "x"/);
  });
});

describe('module limits', () => {
  it('defaults to 4096 pids and 4 GiB; 0 lifts a limit', () => {
    expect(effectiveLimits()).toEqual({ pids: DEFAULT_PIDS_LIMIT, memoryBytes: DEFAULT_MEMORY_BYTES });
    expect(DEFAULT_PIDS_LIMIT).toBe(4096);
    expect(DEFAULT_MEMORY_BYTES).toBe(4 * 1024 ** 3);
    expect(effectiveLimits({ pids: 0, memoryBytes: 64 * 1024 ** 2 })).toEqual({ memoryBytes: 64 * 1024 ** 2 });
  });

  it('names the limit that ended a run, with the phase exit code', () => {
    const oom = moduleKilledError('/cnb/buildpacks/x/1/bin/build (buildpack x@1)', 'memory', { memoryBytes: 32 * 1024 ** 2 }, 51);
    expect(oom.message).toBe('failed to run /cnb/buildpacks/x/1/bin/build (buildpack x@1): killed: out of memory (its limit is 32 MiB)');
    expect(oom.exitCode).toBe(51);
    expect(oom.hint).toContain('--memory');
    const pids = moduleKilledError('bin/detect', 'pids', { pids: 64 }, 21);
    expect(pids.causeText).toContain('killed: pids limit reached (64 processes and threads)');
    expect(pids.hint).toContain('--pids-limit');
    expect(formatBytes(1536 * 1024 ** 2)).toBe('1.5 GiB');
    expect(formatBytes(1000)).toBe('1000 bytes');
  });

  it('a Dockerfile RUN step killed with 137 under a memory limit is called a likely out-of-memory kill', () => {
    expect(dockerfileOomNote("The command '/bin/sh -c x' returned a non-zero code: 137", 1024 ** 3)).toContain('likely killed: out of memory');
    expect(dockerfileOomNote("The command '/bin/sh -c x' returned a non-zero code: 1", 1024 ** 3)).toBe('');
    expect(dockerfileOomNote('returned a non-zero code: 137', undefined)).toBe('');
  });
});

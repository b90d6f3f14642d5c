import { describe, expect, it } from 'vitest';
import { detectParallelOf, parseDetectParallel } from '../../../src/cli/detect-parallel.js';
import { ExitCode, KilnError } from '../../../src/errors.js';

describe('--detect-parallel', () => {
  it('takes a whole number from 1 to 64', () => {
    expect(parseDetectParallel('1')).toBe(1);
    expect(parseDetectParallel(' 8 ')).toBe(8);
  });

  it('refuses anything else with a usage error naming the flag or the variable', () => {
    for (const bad of ['0', '65', '-1', '2.5', 'four', '']) {
      const e = (() => {
        try {
          parseDetectParallel(bad);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).exitCode).toBe(ExitCode.usage);
      expect((e as KilnError).message).toContain(`--detect-parallel "${bad}" must be a whole number from 1 to 64`);
    }
    expect(() => detectParallelOf(undefined, { KILN_DETECT_PARALLEL: 'x' })).toThrow('KILN_DETECT_PARALLEL "x" must be a whole number');
  });

  it('prefers the flag over KILN_DETECT_PARALLEL, and leaves the default to the lifecycle when neither is set', () => {
    expect(detectParallelOf('2', { KILN_DETECT_PARALLEL: '6' })).toBe(2);
    expect(detectParallelOf(undefined, { KILN_DETECT_PARALLEL: '6' })).toBe(6);
    expect(detectParallelOf(undefined, {})).toBeUndefined();
    expect(detectParallelOf(undefined, { KILN_DETECT_PARALLEL: '' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parsePackageTarget } from '../../../src/cli/commands/package.js';
import { KilnError } from '../../../src/errors.js';

describe('kiln buildpack package --target', () => {
  it('reads os/arch/variant (arch defaults to amd64)', () => {
    expect(parsePackageTarget(undefined)).toBeUndefined();
    expect(parsePackageTarget(['linux'])).toEqual({ os: 'linux', arch: 'amd64' });
    expect(parsePackageTarget(['linux/arm64/v8'])).toEqual({ os: 'linux', arch: 'arm64', variant: 'v8' });
  });

  it('refuses several targets, distributions, other OSes and malformed values with a usage error naming --target', () => {
    for (const [v, cause] of [[['linux/amd64', 'linux/arm64'], '2 targets'], [['linux/amd64:ubuntu@22.04'], 'names a distribution'], [['windows/amd64'], 'not supported'], [['linux/a/b/c'], 'not os/arch/variant']] as const) {
      const e: unknown = (() => {
        try {
          return parsePackageTarget(v);
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).exitCode).toBe(3);
      expect((e as KilnError).action).toBe('read --target');
      expect((e as KilnError).causeText).toContain(cause);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError } from '../../../src/errors.js';
import {
  apiAtLeast,
  apiLessThan,
  compareApi,
  isSupportedBuildpackApi,
  normaliseApiVersion,
  parseApiVersion,
  PLATFORM_API,
} from '../../../src/cnb/api-version.js';
import type { SpecIssue } from '../../../src/cnb/models.js';
import { formatIssue, SpecError, throwOnErrors } from '../../../src/cnb/spec-error.js';

const issue = (over: Partial<SpecIssue>): SpecIssue => ({ severity: 'error', file: 'builder.toml', keyPath: '', message: 'bad', ...over });

describe('formatIssue', () => {
  it('includes line and key path when known', () => {
    expect(formatIssue(issue({ line: 12, keyPath: 'order[0].group[1].id', message: 'must be a string' }))).toBe(
      'builder.toml:12: order[0].group[1].id: must be a string',
    );
    expect(formatIssue(issue({ keyPath: 'build.image', message: 'is required' }))).toBe('builder.toml: build.image: is required');
    expect(formatIssue(issue({ line: 3, message: 'invalid TOML' }))).toBe('builder.toml:3: invalid TOML');
  });
});

describe('throwOnErrors', () => {
  it('returns the value when there are only warnings', () => {
    expect(throwOnErrors({ value: 5, issues: [issue({ severity: 'warning' })] }, 'read x')).toBe(5);
  });

  it('throws one SpecError listing every error issue, with the config exit code', () => {
    const r = { issues: [issue({ keyPath: 'a', message: 'one' }), issue({ severity: 'warning', message: 'w' }), issue({ keyPath: 'b', line: 2, message: 'two' })] };
    let caught: unknown;
    try {
      throwOnErrors(r, 'read builder.toml', 'fix it');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SpecError);
    expect(caught).toBeInstanceOf(KilnError);
    const e = caught as SpecError;
    expect(e.exitCode).toBe(ExitCode.config);
    expect(e.issues).toHaveLength(2);
    expect(e.action).toBe('read builder.toml');
    expect(e.hint).toBe('fix it');
    expect(e.causeText).toContain('builder.toml: a: one');
    expect(e.causeText).toContain('builder.toml:2: b: two');
    expect(e.message).toMatch(/^failed to read builder.toml: 2 problems/);
  });

  it('uses exit code 12 for an unsupported Buildpack API', () => {
    const e = new SpecError([issue({ code: 'unsupported-buildpack-api' })], 'read buildpack.toml');
    expect(e.exitCode).toBe(ExitCode.buildpackApi);
  });
});

describe('api versions', () => {
  it('parses and normalises', () => {
    expect(parseApiVersion('0.12')).toEqual({ major: 0, minor: 12 });
    expect(normaliseApiVersion('1')).toBe('1.0');
    expect(parseApiVersion('0.1.2')).toBeUndefined();
    expect(parseApiVersion('v0.9')).toBeUndefined();
    expect(parseApiVersion('0.09')).toBeUndefined();
  });

  it('compares numerically, not lexically', () => {
    expect(compareApi('0.10', '0.9')).toBeGreaterThan(0);
    expect(apiAtLeast('0.12', '0.12')).toBe(true);
    expect(apiAtLeast('0.8', '0.9')).toBe(false);
    expect(apiLessThan('0.8', '0.9')).toBe(true);
    expect(compareApi('1', '0.99')).toBeGreaterThan(0);
    expect(() => compareApi('x', '0.1')).toThrow(/invalid API version/);
  });

  it('supports buildpack APIs 0.7 to 0.12 and behaves as platform 0.13', () => {
    expect(['0.6', '0.7', '0.12', '0.13', 'x'].map(isSupportedBuildpackApi)).toEqual([false, true, true, false, false]);
    expect(PLATFORM_API).toBe('0.13');
  });
});

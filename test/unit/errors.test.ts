import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError, toKilnError } from '../../src/errors.js';
import { renderError } from '../../src/ui/render-error.js';

describe('error taxonomy', () => {
  it('renders failed to <action>: <cause>, a hint and the exit code', () => {
    const err = new KilnError({ action: 'read builder.toml', cause: 'bad key', hint: 'fix it', exitCode: ExitCode.config });
    expect(renderError(err, { color: false })).toBe('ERROR: failed to read builder.toml: bad key\nhint: fix it\nexit code 2\n');
  });
  it('wraps foreign errors and keeps KilnErrors', () => {
    const k = toKilnError(new Error('boom'), 'do x');
    expect(k.message).toBe('failed to do x: boom');
    expect(toKilnError(k, 'other')).toBe(k);
  });
});

/** Issue 14 point 5: credentials in URLs are redacted in every output, whatever the variable is called. */
import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError } from '../../../src/errors.js';
import { redacting } from '../../../src/ui/cli-output.js';
import { redactDeep, redactEnv, redactEnvList, redactUrlCredentials } from '../../../src/ui/redact.js';
import { redactedError } from '../../../src/ui/redact-error.js';
import type { KilnEvent } from '../../../src/ports.js';

describe('URL credentials', () => {
  it.each([
    ['https://user:hunter2@proxy.example:3128', 'https://<redacted>@proxy.example:3128'],
    ['http://ghp_tokenvalue@github.com/org/repo.git', 'http://<redacted>@github.com/org/repo.git'],
    ['git+ssh://me:p%40ss@host/x and postgres://u:pw@db/app', 'git+ssh://<redacted>@host/x and postgres://<redacted>@db/app'],
    ['HTTP_PROXY=http://a:b@h', 'HTTP_PROXY=http://<redacted>@h'],
  ])('%s', (input, out) => {
    expect(redactUrlCredentials(input)).toBe(out);
  });

  it('leaves URLs without credentials and e-mail addresses alone', () => {
    for (const s of ['https://example.com/a@b', 'mail me@example.com', 'docker://kiln/app@sha256:abc', 'https://host/path?x=a@b']) expect(redactUrlCredentials(s)).toBe(s);
  });

  it('env values of any name are redacted when they hold a URL with credentials', () => {
    expect(redactEnv({ HTTP_PROXY: 'http://u:pw@proxy:3128', PLAIN: 'x' })).toEqual({ HTTP_PROXY: 'http://<redacted>@proxy:3128', PLAIN: 'x' });
    expect(redactEnvList(['PIP_INDEX_URL=https://u:pw@pypi.example/simple'])).toEqual(['PIP_INDEX_URL=https://<redacted>@pypi.example/simple']);
  });

  it('every event through a CLI reporter is redacted, module lines and results included', () => {
    const seen: KilnEvent[] = [];
    const r = redacting({ emit: (e: KilnEvent) => seen.push(e) });
    r.emit({ type: 'module-line', module: 'x', stream: 'stdout', line: 'using https://u:pw@mirror/' });
    r.emit({ type: 'warning', message: 'cannot reach http://a:b@h' });
    expect(JSON.stringify(seen)).not.toContain('pw@');
    expect(JSON.stringify(seen)).not.toContain('a:b@');
    expect(redactDeep({ a: ['ftp://x:y@z'], n: 1 })).toEqual({ a: ['ftp://<redacted>@z'], n: 1 });
  });

  it('the rendered error is redacted', () => {
    const err = redactedError(new KilnError({ action: 'use https://u:pw@h', cause: 'http://u:pw@h is bad', hint: 'not https://u:pw@h', exitCode: ExitCode.usage }));
    expect(`${err.message} ${err.hint ?? ''}`).not.toContain('pw');
    expect(err.exitCode).toBe(ExitCode.usage);
  });
});

/** Issue 17 point 2: `builder create --json` and `rebase --json` carry the pull events as JSON lines on stderr. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stderrReporter } from '../../../src/ui/line-reporter.js';

afterEach(() => vi.restoreAllMocks());

function captured(run: () => void): string {
  let err = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  run();
  vi.restoreAllMocks();
  return err;
}

describe('stderrReporter', () => {
  it('with json, every event (pulls included) is one JSON line on stderr, credentials in URLs redacted', () => {
    const err = captured(() => {
      const r = stderrReporter({ quiet: false, json: true });
      r.emit({ type: 'pull-start', image: '127.0.0.1:5171/x/run:1', registry: '127.0.0.1:5171', policy: 'if-not-present' });
      r.emit({ type: 'info', message: 'fetching https://user:s3cret@example.com/x' });
    });
    const lines = err.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['pull-start', 'info']);
    expect(lines[0]).toMatchObject({ image: '127.0.0.1:5171/x/run:1', registry: '127.0.0.1:5171', policy: 'if-not-present' });
    expect(err).not.toContain('s3cret');
  });

  it('without json, plain lines; quiet keeps only warnings', () => {
    const plain = captured(() => stderrReporter({ quiet: false }).emit({ type: 'info', message: 'hello' }));
    expect(plain).toBe('hello\n');
    const quiet = captured(() => {
      const r = stderrReporter({ quiet: true });
      r.emit({ type: 'info', message: 'hello' });
      r.emit({ type: 'warning', message: 'careful' });
    });
    expect(quiet).toBe('warning: careful\n');
  });
});

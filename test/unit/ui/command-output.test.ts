/** Issue 16 point 3: every command's output goes through one policy (src/ui/command-output.ts). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCommandOutput } from '../../../src/ui/command-output.js';

afterEach(() => vi.restoreAllMocks());

function sink(): { text: string; write(t: string): boolean } {
  const s = { text: '', write: (t: string) => ((s.text += t), true) };
  return s;
}

function stderrOf(run: () => void): string {
  let err = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  run();
  vi.restoreAllMocks();
  return err;
}

describe('the output policy', () => {
  it('puts the result on stdout: a redacted JSON document with --json, the human text otherwise', async () => {
    const value = { image: 'x', url: 'https://user:s3cret@example.com/a' };
    const json = sink();
    (await openCommandOutput({ json: true, out: json })).result(value, 'human\n');
    expect(JSON.parse(json.text)).toEqual({ image: 'x', url: 'https://<redacted>@example.com/a' });
    const human = sink();
    (await openCommandOutput({ out: human })).result(value, () => 'made https://user:s3cret@example.com/a\n');
    expect(human.text).toBe('made https://<redacted>@example.com/a\n');
  });

  it('--quiet keeps the result and the warnings, not the progress', async () => {
    const out = sink();
    const o = await openCommandOutput({ quiet: true, out });
    const err = stderrOf(() => {
      o.reporter.emit({ type: 'info', message: 'working' });
      o.reporter.emit({ type: 'warning', message: 'careful' });
    });
    o.result({}, 'done\n');
    expect(err).toBe('warning: careful\n');
    expect(out.text).toBe('done\n');
  });

  it('events go to stderr, as JSON lines with --json; stdout holds only the result', async () => {
    const out = sink();
    const o = await openCommandOutput({ json: true, out });
    const err = stderrOf(() => o.reporter.emit({ type: 'info', message: 'working' }));
    expect(JSON.parse(err.trim())).toMatchObject({ type: 'info', message: 'working' });
    expect(out.text).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { closeReporters, createCliReporter, wantsJson } from '../../../src/ui/cli-output.js';
import { wantsColor } from '../../../src/ui/style.js';

function fakeStream(isTTY: boolean, columns: number): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns, text: '', write: (t: string) => ((s.text += t), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

describe('renderer selection', () => {
  it('pipes and width-less terminals get plain lines (a wait is one line, no spinner)', async () => {
    for (const stream of [fakeStream(false, 0), fakeStream(true, 0)]) {
      const r = await createCliReporter({}, stream);
      r.emit({ type: 'wait-start', id: 'w', message: 'Loading' });
      r.emit({ type: 'wait-end', id: 'w' });
      r.emit({ type: 'phase-start', phase: 'building' });
      expect(stream.text.split(String.fromCharCode(27)).map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, ''))).join('')).toBe('Loading...\n===> BUILDING\n');
    }
    closeReporters();
  });

  it('colour needs a TTY and an empty NO_COLOR; --json is seen in argv', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsJson(['node', 'kiln', 'build', 'x', '--json'])).toBe(true);
    expect(wantsJson(['node', 'kiln', 'build', 'x'])).toBe(false);
  });
});

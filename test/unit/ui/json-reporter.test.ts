import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { createJsonReporter, renderErrorJson } from '../../../src/ui/json-reporter.js';
import { failureEvents, successEvents, summary } from './events.js';

function sink(): { text: string; write(s: string): void } {
  const s = { text: '', write: (t: string) => void (s.text += t) };
  return s;
}
const now = (): number => Date.UTC(2026, 0, 1);

describe('--json renderer', () => {
  it('a successful build: one JSON event per line on stderr, the result as JSON on stdout', () => {
    const err = sink();
    const out = sink();
    const r = createJsonReporter({ err, out, now });
    for (const e of [...successEvents, { type: 'result' as const, result: summary }]) r.emit(e);
    const lines = err.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(successEvents.length + 1);
    expect(lines[0]).toEqual({ time: '2026-01-01T00:00:00.000Z', type: 'phase-start', phase: 'detecting' });
    expect(lines[2]).toEqual({ time: '2026-01-01T00:00:00.000Z', type: 'phase-end', phase: 'detecting', elapsedMs: 1234 });
    // Every module line (also Docker's chatter), layer decision and warning is an event.
    expect(lines.filter((l) => l.type === 'module-line')).toHaveLength(4);
    expect(lines.filter((l) => l.type === 'layer').map((l) => l.decision)).toEqual(['added', 'reused']);
    expect(lines.filter((l) => l.type === 'warning')).toEqual([{ time: '2026-01-01T00:00:00.000Z', type: 'warning', message: 'layer x has no types' }]);
    expect(JSON.parse(out.text)).toEqual({ ok: true, ...summary });
  });

  it('a failing build: the events so far, then an error event on stderr and ok:false on stdout', () => {
    const err = sink();
    const out = sink();
    const r = createJsonReporter({ err, out, now });
    for (const e of failureEvents) r.emit(e);
    renderErrorJson(new KilnError({ action: 'run build for ex/app', cause: 'bin/build exited with 1', hint: 'look up', exitCode: 51 }), { err, out }, now);
    const lines = err.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['phase-start', 'phase-end', 'phase-start', 'module-line', 'error']);
    expect(lines.at(-1)).toEqual({
      time: '2026-01-01T00:00:00.000Z',
      type: 'error',
      action: 'run build for ex/app',
      cause: 'bin/build exited with 1',
      hint: 'look up',
      exitCode: 51,
      message: 'failed to run build for ex/app: bin/build exited with 1',
    });
    expect(JSON.parse(out.text)).toEqual({
      ok: false,
      error: { action: 'run build for ex/app', cause: 'bin/build exited with 1', hint: 'look up', exitCode: 51, message: 'failed to run build for ex/app: bin/build exited with 1' },
    });
  });
});

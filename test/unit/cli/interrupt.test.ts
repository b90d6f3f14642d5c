/** SIGHUP (terminal closed) interrupts a command like SIGINT and SIGTERM (src/cli/interrupt.ts). */
import { describe, expect, it } from 'vitest';
import { abortOnSignals, LEFT_BEHIND } from '../../../src/cli/interrupt.js';

describe('abortOnSignals', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s aborts the command', (signal) => {
    const abort = new AbortController();
    const undo = abortOnSignals(abort);
    try {
      process.emit(signal, signal);
      expect(abort.signal.aborted).toBe(true);
    } finally {
      undo();
    }
  });

  it('after the undo no listener is left', () => {
    const before = process.listenerCount('SIGHUP');
    abortOnSignals(new AbortController())();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});

describe('a second signal or a stuck cleanup (issue 19 point 4)', () => {
  it('a second signal exits at once with 130, saying what may be left and `kiln prune`', () => {
    const abort = new AbortController();
    const exits: number[] = [];
    let said = '';
    const undo = abortOnSignals(abort, { exit: (c) => exits.push(c), write: (t) => (said += t) });
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([]);
      process.emit('SIGTERM', 'SIGTERM');
      expect(exits).toEqual([130]);
      expect(said).toContain('SIGTERM again');
      expect(said).toContain(LEFT_BEHIND);
      expect(said).toContain('kiln prune');
    } finally {
      undo();
    }
  });

  it('the watchdog ends a command whose cleanup does not finish; the undo disarms it', async () => {
    const exits: number[] = [];
    let said = '';
    const undo = abortOnSignals(new AbortController(), { exit: (c) => exits.push(c), write: (t) => (said += t), watchdogMs: 20 });
    process.emit('SIGHUP', 'SIGHUP');
    await new Promise((r) => setTimeout(r, 100));
    undo();
    expect(exits).toEqual([130]);
    expect(said).toContain('the cleanup did not finish');
    const quiet: number[] = [];
    const undo2 = abortOnSignals(new AbortController(), { exit: (c) => quiet.push(c), write: () => undefined, watchdogMs: 20 });
    process.emit('SIGHUP', 'SIGHUP');
    undo2();
    await new Promise((r) => setTimeout(r, 100));
    expect(quiet).toEqual([]);
  });
});

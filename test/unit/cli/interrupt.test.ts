/** SIGHUP (terminal closed) interrupts a command like SIGINT and SIGTERM (src/cli/interrupt.ts). */
import { describe, expect, it } from 'vitest';
import { abortOnSignals } from '../../../src/cli/interrupt.js';

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

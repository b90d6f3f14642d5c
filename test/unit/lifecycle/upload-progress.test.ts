import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { showProgress } from '../../../src/lifecycle/container/upload-progress.js';
import { createPlainReporter } from '../../../src/ui/plain-reporter.js';
import type { KilnEvent } from '../../../src/ports.js';

describe('progress of the app upload (issue 14, point 9)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says nothing for an upload that ends within a second', () => {
    const events: KilnEvent[] = [];
    const stop = showProgress({ emit: (e) => events.push(e) }, 'Sending the app', { files: 3, bytes: 100 });
    vi.advanceTimersByTime(900);
    stop(true);
    vi.advanceTimersByTime(5000);
    expect(events).toEqual([]);
  });

  it('updates one wait every second with the counts so far, then ends it with the totals', () => {
    const events: KilnEvent[] = [];
    let t = 0;
    const progress = { files: 0, bytes: 0 };
    const stop = showProgress({ emit: (e) => events.push(e) }, 'Sending the app', progress, () => t);
    progress.files = 20_000;
    progress.bytes = 30 * 1024 * 1024;
    t = 1000;
    vi.advanceTimersByTime(1000);
    progress.files = 50_000;
    progress.bytes = 60 * 1024 * 1024;
    t = 2000;
    vi.advanceTimersByTime(1000);
    t = 2500;
    stop(true);
    const ids = new Set(events.filter((e) => e.type === 'wait-start' || e.type === 'wait-end').map((e) => (e as { id: string }).id));
    expect(ids.size).toBe(1);
    expect(events.map((e) => ('message' in e ? `${e.type}: ${e.message}` : e.type))).toEqual([
      'wait-start: Sending the app: 20000 files, 30.0 MiB',
      'wait-start: Sending the app: 50000 files, 60.0 MiB',
      'wait-end',
      'info: Sending the app: 50000 files, 60.0 MiB in 2.5 s',
    ]);
    // Without a terminal, each update is a line.
    const lines: string[] = [];
    const plain = createPlainReporter({ out: { write: (s: string) => lines.push(s) } });
    for (const e of events) plain.emit(e);
    expect(lines.join('')).toBe('Sending the app: 20000 files, 30.0 MiB...\nSending the app: 50000 files, 60.0 MiB...\nSending the app: 50000 files, 60.0 MiB in 2.5 s\n');
  });

  it('a failed upload ends the wait without the totals line', () => {
    const events: KilnEvent[] = [];
    const stop = showProgress({ emit: (e) => events.push(e) }, 'Sending the app', { files: 1, bytes: 1 });
    vi.advanceTimersByTime(1000);
    stop(false);
    expect(events.map((e) => e.type)).toEqual(['wait-start', 'wait-end']);
  });
});

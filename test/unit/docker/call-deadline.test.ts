import { describe, expect, it } from 'vitest';
import { cleanupTimeoutMs } from '../../../src/cleanup-timeout.js';
import { callDeadlines } from '../../../src/docker/call-deadline.js';
import { ExitCode, KilnError } from '../../../src/errors.js';

/** A call that never answers unless aborted (a frozen daemon), rejecting like an aborted request. */
const silent = (signal: AbortSignal): Promise<never> => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

describe('call deadlines (issue 19 point 4)', () => {
  it('KILN_CLEANUP_TIMEOUT sets the deadline in seconds (default 60)', () => {
    expect(cleanupTimeoutMs({})).toBe(60_000);
    expect(cleanupTimeoutMs({ KILN_CLEANUP_TIMEOUT: '2.5' })).toBe(2_500);
    expect(cleanupTimeoutMs({ KILN_CLEANUP_TIMEOUT: 'soon' })).toBe(60_000);
  });

  it('a call that does not answer is aborted at its deadline and becomes a daemon error naming the daemon and kiln prune', async () => {
    const d = callDeadlines('DOCKER_HOST=tcp://x:1', 50);
    const e = await d.run('remove volume v', silent).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).exitCode).toBe(ExitCode.daemon);
    expect((e as KilnError).message).toBe('failed to remove volume v: the Docker daemon at DOCKER_HOST=tcp://x:1 did not answer within 0.1 s');
    expect((e as KilnError).hint).toContain('kiln prune');
  });

  it('answers and other errors pass through unchanged', async () => {
    const d = callDeadlines('x', 1_000);
    expect(await d.run('a', () => Promise.resolve(7))).toBe(7);
    const boom = new Error('boom');
    expect(await d.run('a', () => Promise.reject(boom)).catch((e: unknown) => e)).toBe(boom);
  });
});

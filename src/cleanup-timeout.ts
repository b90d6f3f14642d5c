/**
 * The deadline of each daemon call a cleanup makes, and the watchdog of an interrupted command, from
 * KILN_CLEANUP_TIMEOUT (seconds, default 60; docs/reliability.md "Interruption"). Its own small module so
 * that the CLI's signal handling (cli/interrupt.ts) reads it without loading the Docker adapter.
 */
export const DEFAULT_CLEANUP_TIMEOUT_S = 60;

export function cleanupTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.KILN_CLEANUP_TIMEOUT;
  const n = raw !== undefined && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : DEFAULT_CLEANUP_TIMEOUT_S;
  return Math.max(0.1, n) * 1000;
}

/**
 * Which process is which, across pid reuse: a pid plus its start time in clock ticks since boot (field 22
 * of /proc/<pid>/stat). Locks (app/build-lock.ts), session owner labels (app/session-owner.ts) and temp
 * dir names (kiln-temp-dir.ts) record both, so a kiln that died (SIGKILL) is told from a live one even when
 * its pid was given to another process.
 */
import { readFileSync } from 'node:fs';

/** The start time of a process in clock ticks since boot ('' when /proc cannot tell). */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that had this pid and start time ('' = unknown: the pid alone decides) still runs. */
export function processAlive(pid: number, start: string): boolean {
  if (!running(pid)) return false;
  const now = processStart(pid);
  return start === '' || now === '' || start === now;
}

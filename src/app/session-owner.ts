/**
 * Which kiln process a session belongs to (issue 14 point 10). Every container, volume and
 * intermediate image of a session carries io.kiln.session=<id> and, so a later run or `kiln prune` can
 * tell a live concurrent session from one whose kiln died (SIGKILL, a crash, a closed terminal before
 * cleanup ran), the owner's pid, host name and process start time (field 22 of /proc/<pid>/stat, so a
 * reused pid is not taken for the owner). A session from another host, or from a kiln without these
 * labels, cannot be judged here and is never treated as dead.
 */
import { hostname } from 'node:os';
import { processAlive, processStart } from '../process-identity.js';
import type { Labels } from '../ports.js';

import { SESSION_HOST_LABEL, SESSION_LABEL, SESSION_PID_LABEL, SESSION_START_LABEL } from '../cnb/labels.js';

export { SESSION_HOST_LABEL, SESSION_LABEL, SESSION_PID_LABEL, SESSION_START_LABEL };


/** The labels a new session's resources carry. */
export function sessionLabels(sessionId: string): Labels {
  return { [SESSION_LABEL]: sessionId, [SESSION_PID_LABEL]: String(process.pid), [SESSION_HOST_LABEL]: hostname(), [SESSION_START_LABEL]: processStart(process.pid) };
}

export type OwnerState = 'alive' | 'dead' | 'unknown';

/** alive / dead for a session of this host; unknown for another host's or a label-less one. */
export function ownerState(labels: Labels, host: string = hostname()): OwnerState {
  const pid = Number(labels[SESSION_PID_LABEL]);
  if (!Number.isInteger(pid) || pid <= 0 || labels[SESSION_HOST_LABEL] !== host) return 'unknown';
  return processAlive(pid, labels[SESSION_START_LABEL] ?? '') ? 'alive' : 'dead';
}

/** "pid 123 on host-a" for messages. */
export function ownerText(labels: Labels): string {
  const pid = labels[SESSION_PID_LABEL];
  return pid !== undefined ? `pid ${pid} on ${labels[SESSION_HOST_LABEL] ?? '?'}` : 'an unknown kiln process';
}

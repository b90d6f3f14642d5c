/**
 * Why a container run ended when it was not the process's own doing (issue 14 points 7 and 11):
 * - its cgroup ran out of memory (the daemon's State.OOMKilled), or it sat at its pids limit, where
 *   nothing in it can fork any more (kiln kills it then: a fork bomb would otherwise spin forever);
 * - the daemon killed it from outside (`docker kill`/`docker stop`, or the daemon stopping or restarting):
 *   then its exit code (137, 143) is not the module's answer, and the run is a daemon problem (exit 4).
 * The daemon records a `kill` event for every signal it sends (the process inside cannot signal itself
 * that way: pid 1 of a container ignores SIGKILL/SIGTERM from inside), so the events between the
 * container's start and finish tell which case it was. Timestamps are the daemon's own (no clock skew).
 */
import type Docker from 'dockerode';
import { ExitCode, KilnError } from '../errors.js';

export interface PidsWatch {
  stop(): void;
  /** The container sat at its pids limit and onLimit was called. */
  readonly hit: boolean;
  /** A sample found the container at its pids limit (forks were failing then). */
  readonly reached: boolean;
}

/** How often the pids count is sampled; the first sample is one interval after the start. */
const PIDS_SAMPLE_MS = 1000;

/**
 * Samples the container's pids count once a second (a run shorter than that costs nothing); two samples
 * in a row at the limit call onLimit once. A fork bomb whose processes die on a failed fork can collapse
 * between samples: then only the run's own failure (and `reached`, if a sample saw it) tells.
 */
export function watchPids(container: Docker.Container, limit: number, onLimit: () => void): PidsWatch {
  let atLimit = 0;
  let hit = false;
  let reached = false;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || hit) return;
    busy = true;
    container
      .stats({ stream: false, 'one-shot': true })
      .then(
        (s) => {
          const current = (s as { pids_stats?: { current?: unknown } }).pids_stats?.current;
          atLimit = typeof current === 'number' && current >= limit ? atLimit + 1 : 0;
          if (atLimit > 0) reached = true;
          if (atLimit >= 2 && !hit) {
            hit = true;
            onLimit();
          }
        },
        () => undefined,
      )
      .finally(() => {
        busy = false;
      });
  }, PIDS_SAMPLE_MS);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get hit() {
      return hit;
    },
    get reached() {
      return reached;
    },
  };
}

/** Seconds (with a fraction) since the epoch of an RFC 3339 time, shifted by `ms`. */
function epochSeconds(iso: string, ms: number): number {
  return (Date.parse(iso) + ms) / 1000;
}

/** What the events stream says so far: an `oom` event, and the signal of a `kill` event, if any. */
function eventsIn(text: string): { oom: boolean; signal?: string } {
  const out: { oom: boolean; signal?: string } = { oom: false };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const ev = JSON.parse(line) as { Action?: unknown; status?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
      const action = ev.Action ?? ev.status;
      if (action === 'oom') out.oom = true;
      if (action === 'kill') {
        const s = ev.Actor?.Attributes?.signal;
        out.signal = typeof s === 'string' ? s : 'unknown';
      }
    } catch {
      // not a whole event line
    }
  }
  return out;
}

/**
 * The daemon logs a kill event just AFTER it sent the signal, and an oom event when it has processed the
 * kernel's notice (State.OOMKilled is set then too, possibly after the container is already gone), so
 * either can be stamped a little later than the container's FinishedAt, or not be logged yet: the window
 * reaches this far past the finish (the stream follows live events until then, and is dropped as soon as
 * one shows up).
 */
const EVENT_SLACK_MS = 1000;

/** The `oom` and `kill` events the daemon recorded for the container while it ran (and just after). */
async function exitEvents(docker: Docker, id: string, startedAt: string, finishedAt: string): Promise<{ oom: boolean; signal?: string }> {
  if (Number.isNaN(Date.parse(startedAt)) || Number.isNaN(Date.parse(finishedAt))) return { oom: false };
  const stream = (await docker.getEvents({
    since: epochSeconds(startedAt, -1000),
    until: epochSeconds(finishedAt, EVENT_SLACK_MS),
    filters: JSON.stringify({ type: ['container'], container: [id], event: ['kill', 'oom'] }),
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  let text = '';
  return new Promise((resolve, reject) => {
    stream.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const found = eventsIn(text);
      if (found.oom || found.signal !== undefined) {
        resolve(found);
        stream.destroy?.();
      }
    });
    stream.on('end', () => resolve(eventsIn(text)));
    stream.on('close', () => resolve(eventsIn(text)));
    stream.on('error', reject);
  });
}

export function daemonKilledError(what: string, exitCode: number, signal: string): KilnError {
  return new KilnError({
    action: `run ${what}`,
    cause: `its container was killed from outside by the Docker daemon (signal ${signal}, exit code ${exitCode}): the daemon was stopped or restarted, or someone ran docker kill or docker stop on it. This is not the module's failure`,
    hint: 'check the Docker daemon (its log; was it restarted?) and run the build again',
    exitCode: ExitCode.daemon,
    kind: 'killed-by-daemon',
  });
}

/**
 * After a non-zero exit that kiln did not cause: 'memory' when the cgroup ran out of memory (the flag,
 * or for a death by signal the daemon's oom event, which may come after the flag was read); throws
 * daemonKilledError when the daemon signalled the container; undefined when the exit was the process's.
 */
export async function examineExit(docker: Docker, id: string, exitCode: number, what: string): Promise<'memory' | undefined> {
  const info = await docker.getContainer(id).inspect();
  if (info.State.OOMKilled) return 'memory';
  // Only a death by signal (128 + n) can be the daemon's doing.
  if (exitCode <= 128 || exitCode > 128 + 64) return undefined;
  const events = await exitEvents(docker, id, info.State.StartedAt, info.State.FinishedAt);
  if (events.oom) return 'memory';
  if (events.signal !== undefined) throw daemonKilledError(what, exitCode, events.signal);
  return undefined;
}

/** One event of the daemon's stream (the fields exec examination reads). */
interface DaemonEvent {
  Action?: string;
  status?: string;
  timeNano?: number;
  Actor?: { Attributes?: Record<string, unknown> };
}

/**
 * The `oom` and `kill` events of a still running container between the exec's start and a little after
 * its end, by the daemon's own exec_start/exec_die events (no clock skew). Without exec events (other
 * engines), everything since the container started counts; the stream is read for at most a few seconds.
 */
async function execEvents(docker: Docker, id: string, execId: string, startedAt: string): Promise<{ oom: boolean; signal?: string }> {
  if (Number.isNaN(Date.parse(startedAt))) return { oom: false };
  const stream = (await docker.getEvents({
    since: epochSeconds(startedAt, -1000),
    filters: JSON.stringify({ type: ['container'], container: [id], event: ['exec_start', 'exec_die', 'kill', 'oom'] }),
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  let text = '';
  let start: number | undefined;
  let died: number | undefined;
  const seen: Array<{ at: number; oom: boolean; signal?: string }> = [];
  const verdict = (): { oom: boolean; signal?: string } => {
    const inWindow = seen.filter((e) => start === undefined || (e.at >= start && (died === undefined || e.at <= died + EVENT_SLACK_MS * 1e6)));
    const oom = inWindow.some((e) => e.oom);
    const kill = inWindow.find((e) => e.signal !== undefined);
    return { oom, ...(kill?.signal !== undefined ? { signal: kill.signal } : {}) };
  };
  return new Promise((resolve, reject) => {
    let slack: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(cap);
      clearTimeout(slack);
      stream.destroy?.();
      resolve(verdict());
    };
    const cap = setTimeout(finish, 3 * EVENT_SLACK_MS);
    stream.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) {
        let ev: DaemonEvent;
        try {
          ev = JSON.parse(line) as DaemonEvent;
        } catch {
          continue;
        }
        const action = (ev.Action ?? ev.status ?? '').split(':')[0];
        const at = ev.timeNano ?? 0;
        const ours = ev.Actor?.Attributes?.execID === execId;
        if (action === 'exec_start' && ours) start = at;
        else if (action === 'exec_die' && ours) {
          died = at;
          slack ??= setTimeout(finish, EVENT_SLACK_MS);
        } else if (action === 'oom') seen.push({ at, oom: true });
        else if (action === 'kill') {
          const s = ev.Actor?.Attributes?.signal;
          seen.push({ at, oom: false, signal: typeof s === 'string' ? s : 'unknown' });
        }
        if (start !== undefined) {
          const v = verdict();
          if (v.oom || v.signal !== undefined) finish();
        }
      }
    });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', (e) => {
      clearTimeout(cap);
      clearTimeout(slack);
      reject(e);
    });
  });
}

/**
 * examineExit for a process run with exec in a kept container. When the container is gone too, it is
 * examined like a run's own container; while it still runs, only a death by signal can be someone
 * else's doing: the kernel's OOM killer (the container's cgroup was at its limit), or a kill the daemon
 * logged for the container while the process ran.
 */
export async function examineExecExit(docker: Docker, id: string, execId: string, exitCode: number, what: string): Promise<'memory' | undefined> {
  const info = await docker.getContainer(id).inspect();
  if (!info.State.Running) return examineExit(docker, id, exitCode, what);
  if (info.State.OOMKilled) return 'memory';
  if (exitCode <= 128 || exitCode > 128 + 64) return undefined;
  const events = await execEvents(docker, id, execId, info.State.StartedAt);
  if (events.oom) return 'memory';
  if (events.signal !== undefined) throw daemonKilledError(what, exitCode, events.signal);
  return undefined;
}

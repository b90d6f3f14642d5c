/**
 * One module run: create, attach BEFORE start (so no early output is lost), demultiplex, wait, and
 * always remove the container — also when the run is aborted or times out (docs/architecture.md, "The data flow of one build", step 9).
 */
import type Docker from 'dockerode';
import { isKilnError, type KilnError } from '../errors.js';
import type { ContainerSpec, RunResult, RunSpec } from '../ports.js';
import type { CallDeadlines } from './call-deadline.js';
import { examineExit, watchPids } from './container-exit.js';
import { attachedLines } from './demux.js';
import { guardRun, interruptedError, limitVerdict } from './run-guard.js';
import { normaliseImageId } from './podman-quirks.js';

/** The create body for a spec: Entrypoint cleared, Cmd = spec.cmd, network 'none' unless asked. */
export function containerCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  return {
    Image: spec.image,
    // An empty Entrypoint (not null) makes the daemon drop the image's ENTRYPOINT, like `--entrypoint ''`.
    Entrypoint: [],
    Cmd: spec.cmd,
    User: spec.user,
    Env: Object.entries(spec.env ?? {}).map(([k, v]) => `${k}=${v}`),
    WorkingDir: spec.workingDir ?? '',
    Labels: spec.labels,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: {
      NetworkMode: spec.network ?? 'none',
      ...(spec.lowPriority === true ? { CpuShares: 2 } : {}),
      ...(spec.limits?.pids !== undefined ? { PidsLimit: spec.limits.pids } : {}),
      // Swap equal to memory: no swap beyond the limit, so the limit is what the module gets.
      ...(spec.limits?.memoryBytes !== undefined ? { Memory: spec.limits.memoryBytes, MemorySwap: spec.limits.memoryBytes } : {}),
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly ?? false,
      })),
    },
  };
}

function describe(spec: RunSpec): string {
  return spec.name ?? `${spec.cmd.join(' ')} in ${spec.image}`;
}

/** What a run in its own container and an exec in a kept one (exec-container.ts) need of the adapter. */
export interface RunDeps {
  docker: Docker;
  create(spec: ContainerSpec): Promise<string>;
  remove(id: string): Promise<void>;
  wrap(e: unknown, action: string): KilnError;
  /** Deadlines of the kill of a stopped run (call-deadline.ts): a daemon that stops answering must not hang kiln. */
  deadline?: CallDeadlines;
}

/** Waits at most `ms` for a promise; used so a lost `end` event cannot hang a finished run. */
function within(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    void p.finally(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function runContainer(deps: RunDeps, spec: RunSpec): Promise<RunResult> {
  if (spec.signal?.aborted) throw interruptedError(describe(spec));
  const id = await deps.create(spec);
  const container = deps.docker.getContainer(id);
  // Closes the start/wait requests still open when the run ends early, so none outlives it (no hang).
  const calls = new AbortController();
  const kill = (): Promise<unknown> =>
    deps.deadline !== undefined ? deps.deadline.run(`kill container ${id.slice(0, 12)}`, (abortSignal) => container.kill({ abortSignal })) : container.kill();
  const guard = guardRun(describe(spec), spec, kill);
  const { stopped } = guard;
  let pids: ReturnType<typeof watchPids> | undefined;
  let output: NodeJS.ReadableStream | undefined;
  let lines: ReturnType<typeof attachedLines> | undefined;
  let failed = false;
  try {
    output = await container.attach({ stream: true, stdout: true, stderr: true, logs: false });
    lines = attachedLines(output, spec.onLine);
    await Promise.race([container.start({ abortSignal: calls.signal }), stopped]);
    if (spec.limits?.pids !== undefined) pids = watchPids(container, spec.limits.pids, () => container.kill().catch(() => undefined));
    const waited = (await Promise.race([container.wait({ abortSignal: calls.signal }), stopped])) as { StatusCode?: unknown };
    // The attach stream ends right after the process; wait for it so no trailing output is lost.
    await Promise.race([within(lines.ended, 10_000), stopped]);
    lines.end();
    if (guard.error() !== undefined) throw guard.error();
    if (lines.error() !== undefined) throw lines.error();
    const exitCode = typeof waited.StatusCode === 'number' ? waited.StatusCode : -1;
    const unexpected = exitCode !== 0 && !(spec.answerCodes ?? []).includes(exitCode) && (exitCode > 128 || spec.limits?.memoryBytes !== undefined);
    const killed = await limitVerdict(exitCode, pids, unexpected ? () => examineExit(deps.docker, id, exitCode, describe(spec)) : undefined);
    if (killed !== undefined) return { exitCode, killed };
    if (spec.commit !== true || exitCode !== 0) return { exitCode };
    const commitCall = container.commit({ pause: false }) as Promise<{ Id?: unknown }>;
    // Interrupted while the daemon commits: the image it still makes is removed once it exists.
    commitCall.then(
      (r) => {
        if (guard.error() !== undefined && typeof r.Id === 'string') deps.docker.getImage(r.Id).remove({ force: true }).catch(() => undefined);
      },
      () => undefined,
    );
    const committed = (await Promise.race([commitCall, stopped])) as { Id?: unknown };
    if (typeof committed.Id !== 'string') throw new Error('the daemon did not say which image the commit made');
    // podman answers with a bare hex id (podman-quirks.ts).
    return { exitCode, imageId: normaliseImageId(committed.Id) };
  } catch (e) {
    failed = true;
    if (guard.error() !== undefined) throw guard.error();
    if (isKilnError(e) || (lines !== undefined && e === lines.error())) throw e;
    throw deps.wrap(e, `run ${describe(spec)}`);
  } finally {
    guard.release();
    pids?.stop();
    calls.abort();
    const s = output as { destroy?: () => void } | undefined;
    s?.destroy?.();
    // A removal failure must not hide the error that ended the run.
    await deps.remove(id).catch((e: unknown) => {
      if (!failed) throw e;
    });
  }
}

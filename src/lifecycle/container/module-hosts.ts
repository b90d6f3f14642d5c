/**
 * Kept containers for the module runs of one phase (issue 21 point 3: a container start costs about
 * four `docker exec`s). A phase opens ModuleHosts; each module run takes an idle container of the same
 * image, user, mounts, network and limits, or starts one, and runs its executable in it by exec. A
 * container runs ONE module at a time, so each module still has the container's pids and memory limits
 * to itself (module-limits.ts), and detect's parallel runs each get their own container. What a module
 * leaves running is killed when it exits (module-env.ts KEPT_PRELUDE_SCRIPT); a container whose run was
 * aborted, timed out or ended on a limit is removed, never reused. The phase closes the hosts when it ends
 * (also on an error or an interrupt): every container is removed, as one-run containers were.
 */
import type { ContainerSpec, ExecSpec, RunResult } from '../../ports.js';
import { shArgv } from './sh-script.js';
import type { PhaseContext } from '../phase-context.js';

/**
 * The kept container's own command: it idles (a shell that reaps what the modules orphan) and names the
 * executables the container is for after its $0, so `docker ps` shows which modules it runs.
 */
const IDLE_SCRIPT = 'while :; do sleep 3600; done';

export interface ModuleHosts {
  /** Runs `exec` in an idle container made from `container` (whose cmd is ignored). */
  run(container: Omit<ContainerSpec, 'cmd'>, exec: ExecSpec): Promise<RunResult>;
  /** Removes every container; later runs start new ones. Never throws (session cleanup removes leftovers). */
  close(): Promise<void>;
}

/** ModuleHosts when the engine can exec, else undefined (the modules then run in containers of their own). */
export function openModuleHosts(ctx: PhaseContext, exes: readonly string[]): ModuleHosts | undefined {
  const engine = ctx.engine;
  const start = engine.startContainer?.bind(engine);
  const exec = engine.execInContainer?.bind(engine);
  if (start === undefined || exec === undefined) return undefined;
  const idle = new Map<string, string[]>();
  const live = new Set<string>();
  let closed = false;
  const remove = async (id: string): Promise<void> => {
    live.delete(id);
    await engine.removeContainer(id).catch(() => undefined);
  };
  return {
    async run(container, spec) {
      const key = JSON.stringify([container.image, container.user, container.mounts ?? [], container.network ?? 'none', container.limits ?? {}]);
      let id = idle.get(key)?.pop();
      if (id === undefined) {
        id = await start({ ...container, cmd: shArgv({ script: IDLE_SCRIPT, args: [...exes] }, 'kiln-modules') });
        live.add(id);
        if (closed) {
          await remove(id);
          throw new Error('module hosts are closed');
        }
      }
      let reusable = false;
      try {
        const result = await exec(id, spec);
        reusable = result.killed === undefined;
        return result;
      } finally {
        if (reusable && !closed) idle.set(key, [...(idle.get(key) ?? []), id]);
        else await remove(id);
      }
    },
    async close() {
      closed = true;
      idle.clear();
      await Promise.all([...live].map(remove));
    },
  };
}

/**
 * Kept containers for a phase only when they save starts: when some lane runs more than one module
 * (more executables than `lanes` running at once). Otherwise every module would get a container of its
 * own anyway, and a kept one costs a start, an exec and a kill where a plain run costs a start.
 */
export function hostsForPhase(ctx: PhaseContext, exes: readonly string[], lanes: number): ModuleHosts | undefined {
  return exes.length > lanes ? openModuleHosts(ctx, exes) : undefined;
}

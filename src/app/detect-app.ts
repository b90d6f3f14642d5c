/**
 * `kiln detect --explain`: the detect half of a build without building anything. It opens a session like
 * a build (build-session.ts: labelled volumes, the app and /platform/env written through the volume
 * host, everything removed at the end), reads the project descriptor the same way and runs the build's own detect step
 * (session-detect.ts), whose trace of every
 * candidate group ui/explain-tree.ts renders. Unlike a build it takes no cache lock and never pulls:
 * without the run image in the daemon, targets are not checked (every module matches).
 */
import { findRunImage } from './run-image-resolve.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, IdSource, Reporter, ResourceLimits } from '../ports.js';
import type { DetectRunResult } from '../lifecycle/detect.js';
import type { TraceGroup } from '../lifecycle/resolve-order.js';
import type { GroupMember, PlanFile } from '../cnb/models.js';
import { withBuildSession } from './build-session.js';
import { detectInSession, type SessionDetectRequest } from './session-detect.js';

/** What a build would get, without --buildpack / --extension (session-detect.ts). */
export interface DetectRequest extends Omit<SessionDetectRequest, 'modules'> {
  /** pids / memory limits of the detect containers; unset: the defaults (module-limits.ts). */
  limits?: ResourceLimits;
}

export interface DetectDeps {
  engine: ContainerEngine;
  reporter: Reporter;
  ids: IdSource;
  signal?: AbortSignal;
}

export interface DetectExplanation {
  ok: boolean;
  /** 20 (nothing passed) or 21 (a module errored) when !ok. */
  code?: number;
  trace: TraceGroup[];
  group: GroupMember[];
  groupExtensions: GroupMember[];
  plan?: PlanFile;
  /** Each module's detect run (exit code, plan, output), keyed by detectKey. */
  detects: Map<string, DetectRunResult>;
}

export async function explainDetect(deps: DetectDeps, req: DetectRequest): Promise<DetectExplanation> {
  const options = { ...(req.labels !== undefined ? { labels: req.labels } : {}), ...(req.limits !== undefined ? { limits: req.limits } : {}) };
  try {
    return await withBuildSession(deps, options, async (session) => {
      const { detection } = await detectInSession(session, req, {
        reporter: deps.reporter,
        runImage: async (ref, builder) => (await findRunImage(deps.engine, ref, builder.runImages))?.info,
      });
      const { detects, resolved } = detection;
      if (resolved.ok) return { ok: true, trace: resolved.trace, group: resolved.group, groupExtensions: resolved.groupExtensions, plan: resolved.plan, detects };
      return { ok: false, code: resolved.code, trace: resolved.trace, group: [], groupExtensions: [], detects };
    });
  } catch (e) {
    if (deps.signal?.aborted === true) throw new KilnError({ action: 'detect', cause: 'interrupted', exitCode: ExitCode.interrupted, original: e });
    throw e;
  }
}

/**
 * The one detect step (buildpack.md, "Phase #1: Detection", "Order Resolution", "Buildpack Interface:
 * Detection"; image_extension.md, "Detection"), run by `kiln build` (build-phases.ts) and by
 * `kiln detect` (detect-app.ts): the effective order, one bin/detect per module it can reach
 * (lifecycle/detect.ts), and the pure resolver (lifecycle/resolve-order.ts) answering from those runs.
 * `detectStep` decides and reports nothing; `reportDetection` is how a build shows the outcome.
 *
 * Deviation, on purpose: every module the order can reach runs its bin/detect up front, in parallel
 * (4 at a time), instead of lazily as the lifecycle does; the resolver's runDetect then answers from
 * those results. Detect must not have side effects, so the outcome is the same, and one container per
 * module in parallel is much faster than one at a time.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { Reporter } from '../ports.js';
import type { OrderFile, ProjectDescriptor, Target } from '../cnb/models.js';
import { candidateModules, detectKey, runDetects, type DetectRunResult } from '../lifecycle/detect.js';
import type { Env, TargetVars } from '../lifecycle/container/module-env.js';
import type { RunVolumes } from '../lifecycle/container/module-run.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { BuilderInfo, BuilderModule } from '../lifecycle/read-builder.js';
import { formatTrace, resolveOrder, type ResolveResult } from '../lifecycle/resolve-order.js';

export interface DetectStepInput {
  builder: BuilderInfo;
  project: ProjectDescriptor | undefined;
  volumes: RunVolumes;
  platformEnv: Env;
  /** The run image's target; undefined: targets are not checked (every module matches). */
  target?: { vars: TargetVars; target: Target };
  /** Network mode of the detect containers (default none). */
  network?: string;
  /** How many bin/detect runs go at once (--detect-parallel; default: lifecycle/detect.ts). */
  concurrency?: number;
}

export interface Detection {
  /** Every module the order can reach (each ran bin/detect, when it has one). */
  modules: BuilderModule[];
  /** Each module's detect run (exit code, plan, output), keyed by detectKey. */
  detects: Map<string, DetectRunResult>;
  resolved: ResolveResult;
}

/**
 * The order detect runs: the builder's, where project.toml's [[io.buildpacks.group]] (with pre/post) and
 * --buildpack / --extension have already replaced the builder's order (app/ephemeral-builder.ts, pack behaviour).
 */
export function effectiveOrder(builder: BuilderInfo): OrderFile {
  return builder.order;
}

export async function detectStep(ctx: PhaseContext, input: DetectStepInput): Promise<Detection> {
  const { builder } = input;
  const order = effectiveOrder(builder);
  const modules = candidateModules(builder, order);
  const detects = await runDetects(
    ctx,
    { builder, volumes: input.volumes, platformEnv: input.platformEnv, ...(input.target !== undefined ? { target: input.target.vars } : {}), ...(input.network !== undefined ? { network: input.network } : {}), ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}) },
    modules,
  );
  const resolved = await resolveOrder({
    order: order.order,
    orderExtensions: order.orderExtensions,
    lookup: (kind, id, version) => {
      const map = kind === 'buildpack' ? builder.buildpacks : builder.extensions;
      const found = map.get(`${id}@${version}`) ?? (version === '' ? [...map.values()].find((m) => m.descriptor.id === id) : undefined);
      return found?.descriptor;
    },
    runDetect: (desc) => {
      const r = detects.get(detectKey(desc.kind, desc.id, desc.version));
      if (r === undefined) return Promise.resolve({ code: -1, plan: { provides: [], requires: [], or: [] }, error: 'detect did not run' });
      return Promise.resolve({
        code: r.exitCode ?? 0,
        plan: r.plan ?? { provides: [], requires: [], or: [] },
        output: r.output.map((o) => o.line).join('\n'),
        ...(r.message !== undefined ? { error: r.message } : {}),
      });
    },
    ...(input.target !== undefined ? { runImageTarget: input.target.target } : {}),
  });
  return { modules, detects, resolved };
}

/** `err: <id>@<version> (<code>)`, or with the reason when bin/detect exited 0 but its output was refused. */
export function detectErrorLine(r: DetectRunResult): string {
  const code = r.exitCode !== undefined && r.exitCode !== 0 ? ` (${r.exitCode})` : '';
  return `err: ${r.id}@${r.version}${code}${r.message !== undefined && r.message !== '' ? `: ${r.message}` : ''}`;
}

function showOutput(reporter: Reporter, r: DetectRunResult, asDebug: boolean): void {
  for (const o of r.output) {
    if (asDebug) reporter.emit({ type: 'debug', message: `[${r.id}] ${o.line}` });
    else reporter.emit({ type: 'module-line', module: r.id, stream: o.stream, line: o.line });
  }
}

/**
 * How a build shows a detection: each module's output (as debug lines unless it errored), an `err:` line
 * per erroring module as the lifecycle's detector logs it, then the group; when no group passed, all
 * output and the trace (buildpack.md, "Buildpack Interface: Detection") and a KilnError with exit 20/21.
 */
export function reportDetection(reporter: Reporter, d: Detection): Extract<ResolveResult, { ok: true }> {
  for (const r of d.detects.values()) {
    showOutput(reporter, r, r.status !== 'error');
    if (r.status === 'error') reporter.emit({ type: 'info', message: detectErrorLine(r) });
  }
  const { resolved } = d;
  if (!resolved.ok) {
    for (const r of d.detects.values()) if (r.status !== 'error') showOutput(reporter, r, false);
    for (const line of formatTrace(resolved.trace)) reporter.emit({ type: 'info', message: line });
    throw new KilnError({
      action: 'detect',
      cause: resolved.code === 21 ? 'no buildpack group passed detection, and at least one buildpack errored' : 'no buildpack group passed detection',
      hint: resolved.code === 21 ? 'see the detect output above for the module that errored' : 'check that the builder has buildpacks for this app, or choose a group in project.toml',
      exitCode: resolved.code === 21 ? ExitCode.detectError : ExitCode.detectFail,
    });
  }
  const total = d.modules.filter((m) => m.kind === 'buildpack').length;
  reporter.emit({ type: 'info', message: `${resolved.group.length} of ${total} buildpacks participating` });
  for (const m of resolved.groupExtensions) reporter.emit({ type: 'info', message: `${m.id} ${m.version} (extension)` });
  for (const m of resolved.group) reporter.emit({ type: 'info', message: `${m.id} ${m.version}` });
  return resolved;
}

/**
 * `kiln detect --explain`: the detect half of a build (buildpack.md, "Phase #1: Detection", "Order Resolution", "Buildpack Interface: Detection") without building anything. The
 * app is copied into a labelled session volume, every module the order can reach runs bin/detect
 * (lifecycle/detect.ts), and the pure resolver (lifecycle/resolve-order.ts) returns the trace of every
 * candidate group tried, which ui/explain-tree.ts renders. Volumes and containers are removed in finally.
 */
import { findRunImage } from './run-image-resolve.js';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { makeTar, type TarFileEntry } from '../image/tar-files.js';
import type { ContainerEngine, IdSource, Labels, Reporter, ResourceLimits } from '../ports.js';
import { effectiveLimits } from '../lifecycle/container/module-limits.js';
import { copyAppSource } from '../lifecycle/app-source.js';
import { candidateModules, detectKey, runDetects, type DetectRunResult } from '../lifecycle/detect.js';
import type { Env } from '../lifecycle/container/module-env.js';
import type { RunVolumes } from '../lifecycle/container/module-run.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import { readBuilder } from '../lifecycle/read-builder.js';
import { resolveOrder, type TraceGroup } from '../lifecycle/resolve-order.js';
import { seedVolumeFromImage, writeToVolume } from '../lifecycle/container/volume-io.js';
import type { GroupMember, OrderFile, PlanFile, ProjectDescriptor } from '../cnb/models.js';
import { parseProjectDescriptor } from '../cnb/project-descriptor.js';
import { throwOnErrors } from '../cnb/spec-error.js';
import { SESSION_LABEL, targetOf } from './build-app.js';
import { sessionLabels } from './session-owner.js';

export interface DetectRequest {
  builder: string;
  path: string;
  env: Env;
  network?: string;
  labels?: Labels;
  /** pids / memory limits of the detect containers; unset: the defaults (module-limits.ts). */
  limits?: ResourceLimits;
  /** How many bin/detect runs go at once (default: lifecycle/detect.ts). */
  detectParallel?: number;
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

async function readProject(dir: string): Promise<ProjectDescriptor | undefined> {
  const file = join(dir, 'project.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  return throwOnErrors(parseProjectDescriptor(text, file), `read ${file}`);
}

export async function explainDetect(deps: DetectDeps, req: DetectRequest): Promise<DetectExplanation> {
  const sessionId = deps.ids.newId();
  const labels: Labels = { ...(req.labels ?? {}), ...sessionLabels(sessionId) };
  const ctx: PhaseContext = { engine: deps.engine, reporter: deps.reporter, labels, ids: deps.ids, moduleLimits: effectiveLimits(req.limits), ...(deps.signal !== undefined ? { signal: deps.signal } : {}) };
  const volumes: RunVolumes = { app: `kiln-${sessionId}-app`, layers: `kiln-${sessionId}-layers`, platform: `kiln-${sessionId}-platform`, scratch: `kiln-${sessionId}-scratch`, extra: [] };
  const all = [volumes.app, volumes.layers, volumes.platform, volumes.scratch];
  try {
    const dir = resolve(req.path);
    const project = await readProject(dir);
    const builder = await readBuilder(ctx, req.builder);
    const runRef = builder.runImages[0]?.image;
    const runInfo = runRef !== undefined ? (await findRunImage(deps.engine, runRef, builder.runImages))?.info : undefined;
    // Without the run image, targets are not checked (every module matches), as for an unknown target.
    const target = runInfo !== undefined ? targetOf(runInfo) : undefined;
    const order: OrderFile =
      project !== undefined && project.group.length > 0
        ? { order: [{ group: [...(project.preGroup ?? []), ...project.group, ...(project.postGroup ?? [])] }], orderExtensions: builder.order.orderExtensions }
        : builder.order;
    const platformEnv: Env = { ...Object.fromEntries((project?.buildEnv ?? []).map((e) => [e.name, e.value])), ...req.env };

    for (const v of all) await deps.engine.createVolume(v, labels);
    await seedVolumeFromImage(ctx, { volume: volumes.app, image: builder.info.id, path: '/workspace' });
    await seedVolumeFromImage(ctx, { volume: volumes.scratch, image: builder.info.id, path: '/layers' });
    await copyAppSource(ctx, { volume: volumes.app, image: builder.info.id, dir, user: builder.user, include: project?.include ?? [], exclude: project?.exclude ?? [] });
    const envEntries: TarFileEntry[] = [{ path: 'env', type: 'directory', mode: 0o755 }, ...Object.entries(platformEnv).map(([k, v]) => ({ path: `env/${k}`, content: v, mode: 0o644 }))];
    await writeToVolume(ctx, { volume: volumes.platform, image: builder.info.id, dest: '/', tar: await makeTar(envEntries) });

    const modules = candidateModules(builder, order);
    const detects = await runDetects(ctx, { builder, volumes, platformEnv, ...(target !== undefined ? { target: target.vars } : {}), ...(req.network !== undefined ? { network: req.network } : {}), ...(req.detectParallel !== undefined ? { concurrency: req.detectParallel } : {}) }, modules);
    const resolved = await resolveOrder({
      order: order.order,
      orderExtensions: order.orderExtensions,
      lookup: (kind, id, version) => {
        const map = kind === 'buildpack' ? builder.buildpacks : builder.extensions;
        return (map.get(`${id}@${version}`) ?? (version === '' ? [...map.values()].find((m) => m.descriptor.id === id) : undefined))?.descriptor;
      },
      runDetect: (desc) => {
        const r = detects.get(detectKey(desc.kind, desc.id, desc.version));
        if (r === undefined) return Promise.resolve({ code: -1, plan: { provides: [], requires: [], or: [] }, error: 'detect did not run' });
        return Promise.resolve({ code: r.exitCode ?? 0, plan: r.plan ?? { provides: [], requires: [], or: [] }, output: r.output.map((o) => o.line).join('\n'), ...(r.message !== undefined ? { error: r.message } : {}) });
      },
      ...(target !== undefined ? { runImageTarget: target.target } : {}),
    });
    if (resolved.ok) return { ok: true, trace: resolved.trace, group: resolved.group, groupExtensions: resolved.groupExtensions, plan: resolved.plan, detects };
    return { ok: false, code: resolved.code, trace: resolved.trace, group: [], groupExtensions: [], detects };
  } catch (e) {
    if (deps.signal?.aborted === true) throw new KilnError({ action: 'detect', cause: 'interrupted', exitCode: ExitCode.interrupted, original: e });
    throw e;
  } finally {
    const filter = { labels: [`${SESSION_LABEL}=${sessionId}`] };
    for (const id of await deps.engine.listContainers(filter).catch(() => [])) await deps.engine.removeContainer(id).catch(() => undefined);
    for (const v of all) await deps.engine.removeVolume(v).catch(() => undefined);
  }
}

/**
 * The detect runs (buildpack.md, "Phase #1: Detection", "Buildpack Interface: Detection"): every candidate extension and buildpack `bin/detect` runs once
 * (memoised by kind + id@version, buildpack.md, "Order Resolution") in a container of the builder image, as the CNB user,
 * with the env of buildpack.md, "Buildpack Interface" and a fresh empty plan file; plans are copied back out in one go and parsed.
 * Group and plan are then resolved by the pure resolver (resolve-order.ts).
 */
import { ExitCode } from '../errors.js';
import type { OutputStream } from '../ports.js';
import { parseDetectPlan, planHasRequires } from '../cnb/detect-plan.js';
import { formatIssue } from '../cnb/spec-error.js';
import type { DetectPlan, OrderFile, OrderGroup } from '../cnb/models.js';
import { moduleExecutionEnv } from './build-env.js';
import { allowedOuterEnv, moduleArgs, moduleCnbVars, type Env, type TargetVars } from './container/module-env.js';
import { hostsForPhase } from './container/module-hosts.js';
import { runModule, SCRATCH_DIR, type RunVolumes } from './container/module-run.js';
import { PLATFORM_DIR, escapeId, type PhaseContext } from './phase-context.js';
import { moduleKey, type BuilderBuildpack, type BuilderExtension, type BuilderInfo, type BuilderModule } from './read-builder.js';
import { readFilesFromVolume } from './container/volume-io.js';

export type DetectStatus = 'pass' | 'fail' | 'error';

export interface DetectRunResult {
  kind: 'buildpack' | 'extension';
  id: string;
  version: string;
  status: DetectStatus;
  /** Exit code of bin/detect; undefined for extensions without one. */
  exitCode?: number;
  /** For status 'pass'. */
  plan?: DetectPlan;
  /** Why an exit-0 run still counts as an error (bad plan, extension requires). */
  message?: string;
  /** stdout+stderr, captured together (buildpack.md, "Buildpack Interface: Detection"). */
  output: { stream: OutputStream; line: string }[];
}

export interface DetectRunsInput {
  builder: BuilderInfo;
  volumes: RunVolumes;
  platformEnv: Env;
  target?: TargetVars;
  network?: string;
  /** Run at most this many detects at once (default 4). */
  concurrency?: number;
}

/** Memo key of a detect run: kind + id@version (buildpack.md, "Order Resolution"). */
export function detectKey(kind: 'buildpack' | 'extension', id: string, version: string): string {
  return `${kind}:${moduleKey(id, version)}`;
}

/**
 * The component buildpacks and extensions an order can reach: composites are expanded depth-first
 * through their own order (buildpack.md, "Order Resolution"); unknown references are left to the resolver to report.
 */
export function candidateModules(builder: BuilderInfo, order: OrderFile): BuilderModule[] {
  const out = new Map<string, BuilderModule>();
  const visiting = new Set<string>();
  const walkBuildpacks = (groups: OrderGroup[]): void => {
    for (const g of groups) {
      for (const ref of g.group) {
        const key = moduleKey(ref.id, ref.version);
        const bp = builder.buildpacks.get(key) ?? findById(builder.buildpacks, ref.id, ref.version);
        if (bp === undefined || visiting.has(key)) continue;
        if (bp.descriptor.order.length > 0) {
          visiting.add(key);
          walkBuildpacks(bp.descriptor.order);
          visiting.delete(key);
        } else out.set(detectKey('buildpack', bp.descriptor.id, bp.descriptor.version), bp);
      }
    }
  };
  for (const g of order.orderExtensions) {
    for (const ref of g.group) {
      const ext = builder.extensions.get(moduleKey(ref.id, ref.version)) ?? findById(builder.extensions, ref.id, ref.version);
      if (ext !== undefined) out.set(detectKey('extension', ext.descriptor.id, ext.descriptor.version), ext);
    }
  }
  walkBuildpacks(order.order);
  return [...out.values()];
}

/** A reference without a version matches the only (or first) module with that id. */
function findById<T extends BuilderModule>(map: Map<string, T>, id: string, version: string): T | undefined {
  if (version !== '') return undefined;
  return [...map.values()].find((m) => m.descriptor.id === id);
}

function planPathOf(m: BuilderModule): string {
  return `detect/${m.kind}/${escapeId(m.descriptor.id)}/${m.descriptor.version}/plan.toml`;
}

function staticPlan(ext: BuilderExtension): string {
  return ext.files.get('detect/plan.toml')?.toString('utf8') ?? '';
}

function classify(m: BuilderModule, exitCode: number | undefined, planText: string, file: string): Pick<DetectRunResult, 'status' | 'plan' | 'message'> {
  if (exitCode !== undefined && exitCode !== 0) return { status: exitCode === 100 ? 'fail' : 'error' };
  const parsed = parseDetectPlan(planText, file);
  const errors = parsed.issues.filter((i) => i.severity === 'error');
  if (parsed.value === undefined || errors.length > 0) return { status: 'error', message: errors.map(formatIssue).join('; ') };
  if (m.kind === 'extension' && planHasRequires(parsed.value)) {
    // Extensions only provide (buildpack.md, "Buildpack Interface: Detection"; image_extension.md, "Detection").
    return { status: 'error', message: `extension ${m.descriptor.id} emitted [[requires]] in its build plan` };
  }
  return { status: 'pass', plan: parsed.value };
}

/** Runs at most `n` tasks at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

/** Runs every module's detect once; the results are keyed by detectKey. */
export async function runDetects(ctx: PhaseContext, input: DetectRunsInput, modules: BuilderModule[]): Promise<Map<string, DetectRunResult>> {
  const outer = allowedOuterEnv(input.builder.env);
  const runs = new Map<string, { exitCode?: number; output: DetectRunResult['output'] }>();
  const lanes = input.concurrency ?? 4;
  const hosts = hostsForPhase(ctx, modules.filter((m) => m.hasDetect).map((m) => `${m.dir}/bin/detect`), lanes);
  try {
    await pool(modules, lanes, async (m) => {
      const key = detectKey(m.kind, m.descriptor.id, m.descriptor.version);
      const output: DetectRunResult['output'] = [];
      if (!m.hasDetect) {
        runs.set(key, { output });
        return;
      }
      const planPath = `${SCRATCH_DIR}/${planPathOf(m)}`;
      const cnbVars = moduleCnbVars({ phase: 'detect', kind: m.kind, api: m.descriptor.api, moduleDir: m.dir, platformDir: PLATFORM_DIR, planPath, ...(input.target !== undefined ? { target: input.target } : {}) });
      const env = moduleExecutionEnv({
        base: outer,
        platformEnv: input.platformEnv,
        clearEnv: m.kind === 'buildpack' && m.descriptor.clearEnv,
        buildConfigEnv: input.builder.buildConfigEnv,
        cnbVars,
      });
      const exitCode = await runModule(ctx, {
        image: input.builder.info.id,
        imageEnv: input.builder.env,
        user: input.builder.user,
        volumes: input.volumes,
        env,
        exe: `${m.dir}/bin/detect`,
        args: moduleArgs('detect', { platformDir: PLATFORM_DIR, planPath }),
        layersReadOnly: true,
        // A fresh empty plan file, made by the module's own container (owned by the CNB user).
        prelude: { dirs: [planPath.slice(0, planPath.lastIndexOf('/'))], files: [{ path: planPath, content: '', mode: 0o644 }] },
        ...(input.network !== undefined ? { network: input.network } : {}),
        onLine: (stream, line) => output.push({ stream, line }),
        module: { label: `${m.kind} ${m.descriptor.id}@${m.descriptor.version}`, failExitCode: ExitCode.detectError, answerCodes: [100] },
        ...(hosts !== undefined ? { hosts } : {}),
      });
      runs.set(key, { exitCode, output });
    });
  } catch (e) {
    await hosts?.close();
    throw e;
  }
  // The kept containers are removed while the plans are read.
  const closing = hosts?.close();
  let plans: Map<string, Buffer>;
  try {
    plans = await readFilesFromVolume(ctx, { volume: input.volumes.scratch, image: input.builder.info.id, path: '/detect', maxBytes: 16 * 1024 * 1024 });
  } finally {
    await closing;
  }
  const results = new Map<string, DetectRunResult>();
  for (const m of modules) {
    const key = detectKey(m.kind, m.descriptor.id, m.descriptor.version);
    const run = runs.get(key) ?? { output: [] };
    const text = m.hasDetect ? (plans.get(planPathOf(m))?.toString('utf8') ?? '') : m.kind === 'extension' ? staticPlan(m) : '';
    const file = m.hasDetect ? `plan of ${m.descriptor.id}` : `${m.dir}/detect/plan.toml`;
    results.set(key, {
      kind: m.kind,
      id: m.descriptor.id,
      version: m.descriptor.version,
      ...classify(m, run.exitCode, text, file),
      ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
      output: run.output,
    });
  }
  return results;
}

/** A buildpack-only view of the descriptors, for callers that need them by key. */
export function buildpackOf(builder: BuilderInfo, id: string, version: string): BuilderBuildpack | undefined {
  return builder.buildpacks.get(moduleKey(id, version));
}

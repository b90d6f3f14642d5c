/**
 * Order resolution (buildpack.md, "Order Resolution"): which group of buildpacks (and extensions) applies to the app,
 * and its build plan. Pure apart from the injected `runDetect`; the per-group plan trials live in
 * resolve-plan.ts. Mirrors the lifecycle's lazy depth-first expansion (buildpack.md, "Order Resolution"): composite orders
 * and the extension order are expanded only when reached, and bin/detect runs once per kind+id@version.
 */
import { ExitCode, KilnError } from '../errors.js';
import { isSupportedBuildpackApi, SUPPORTED_BUILDPACK_APIS } from '../cnb/api-version.js';
import { buildpackApi } from '../cnb/api-features.js';
import type { DetectPlan, GroupMember, ModuleDescriptor, ModuleKind, ModuleRef, OrderGroup, PlanFile, Target } from '../cnb/models.js';
import { moduleLabel, resolvePlan, type PassedModule, type TraceGroup, type TraceMember, type TrialRecord } from './resolve-plan.js';

export { formatTrace, type TraceGroup, type TraceMember, type TraceStatus } from './resolve-plan.js';

/** code 0 pass, 100 fail, anything else error; `error` = a lifecycle-side problem (bad plan, ...) making it an error. */
export interface DetectOutcome {
  code: number;
  plan: DetectPlan;
  output?: string;
  error?: string;
}

export type RunDetect = (module: ModuleDescriptor) => Promise<DetectOutcome>;

export interface ResolveInput {
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
  /** system.toml pre/post buildpacks (buildpack.md, "Order Resolution"; platform.md, "`system.toml` (TOML)"). */
  systemPre?: ModuleRef[];
  systemPost?: ModuleRef[];
  lookup: (kind: ModuleKind, id: string, version: string) => ModuleDescriptor | undefined;
  /** Called at most once per kind+id@version (memoised here). */
  runDetect: RunDetect;
  /** The run image's target for target matching (platform.md, "Target Data"); undefined matches every module. */
  runImageTarget?: Target;
  /** CNB_EXEC_ENV (Platform 0.15): buildpacks (API >= 0.12) whose exec-env excludes it are skipped. */
  execEnv?: string;
}

export type ResolveResult =
  | { ok: true; group: GroupMember[]; groupExtensions: GroupMember[]; plan: PlanFile; trace: TraceGroup[] }
  | { ok: false; code: 20 | 21; trace: TraceGroup[] };

type Element =
  | { type: 'module'; kind: ModuleKind; ref: ModuleRef; optional: boolean; via: string[] }
  | { type: 'ext-order' };

/** A module that made it into the candidate group; `outcome` is shared through the memo. */
interface Done {
  kind: ModuleKind;
  desc: ModuleDescriptor;
  optional: boolean;
  via: string[];
  outcome: Promise<DetectOutcome>;
}

/** Everything met while expanding, in order: modules in the group and modules skipped on the way. */
type Slot = { done: Done } | { skipped: TraceMember };

interface Branch {
  done: Done[];
  slots: Slot[];
}

type GroupOutcome =
  | { kind: 'pass'; group: GroupMember[]; groupExtensions: GroupMember[]; plan: PlanFile }
  | { kind: 'fail' | 'error' };

const ACTION = 'resolve the detect order';

/** Each of os, arch, variant matches when equal or when either side is empty (buildpack.md, "buildpack.toml (TOML)"; platform.md, "Target Data"). */
function fieldMatches(a: string, b: string): boolean {
  return a === '' || b === '' || a === '*' || b === '*' || a === b;
}

/** Whether a module with these targets may run on the run image; no targets = matches everything. */
export function targetMatches(moduleTargets: Target[], run: Target | undefined): boolean {
  if (run === undefined || moduleTargets.length === 0) return true;
  return moduleTargets.some(
    (t) =>
      fieldMatches(t.os, run.os) &&
      fieldMatches(t.arch, run.arch) &&
      fieldMatches(t.variant, run.variant) &&
      (t.distros.length === 0 || t.distros.some((d) => run.distros.some((r) => fieldMatches(d.name, r.name) && fieldMatches(d.version, r.version)))),
  );
}

function describeTarget(t: Target): string {
  const arch = t.variant !== '' ? `${t.arch}/${t.variant}` : t.arch;
  const distros = t.distros.map((d) => `${d.name} ${d.version}`.trim()).join(', ');
  return `${t.os || '*'}/${arch || '*'}${distros !== '' ? ` (${distros})` : ''}`;
}

function lookupOrThrow(input: ResolveInput, kind: ModuleKind, ref: ModuleRef): ModuleDescriptor {
  const desc = input.lookup(kind, ref.id, ref.version);
  const label = ref.version !== '' ? moduleLabel(ref) : ref.id;
  if (desc === undefined) {
    throw new KilnError({
      action: ACTION,
      cause: `${kind} ${label} is referenced by the order but is not on the builder`,
      hint: `add ${label} to the builder, or remove it from the order`,
      // A configuration mistake (builder order or project.toml group), not a module failing.
      exitCode: ExitCode.config,
      subject: label,
    });
  }
  // Extensions of every supported API run, as in the lifecycle (builder create accepts the same set).
  if (!isSupportedBuildpackApi(desc.api)) {
    throw new KilnError({
      action: ACTION,
      cause: `${kind} ${moduleLabel(desc)} declares Buildpack API ${desc.api}, which kiln does not support`,
      hint: `use a ${kind} implementing Buildpack API ${SUPPORTED_BUILDPACK_APIS[0]} to ${SUPPORTED_BUILDPACK_APIS.at(-1)}`,
      exitCode: ExitCode.buildpackApi,
      subject: moduleLabel(desc),
    });
  }
  return desc;
}

/**
 * buildpack.md, "Order Resolution": every module the order can reach must exist and declare a supported API before
 * any detect runs. kiln checks composites' inner orders too (the lifecycle only finds those lazily)
 * and rejects composite cycles, which would make the lifecycle recurse forever.
 */
function verifyOrder(input: ResolveInput): void {
  const walk = (groups: OrderGroup[], stack: string[]): void => {
    for (const g of groups) {
      for (const ref of g.group) {
        const desc = lookupOrThrow(input, 'buildpack', ref);
        if (desc.kind !== 'buildpack' || desc.order.length === 0) continue;
        const key = moduleLabel(desc);
        if (stack.includes(key)) {
          throw new KilnError({
            action: ACTION,
            cause: `composite buildpack ${key} contains itself (${[...stack, key].join(' -> ')})`,
            hint: 'remove the cycle from the composite buildpacks’ [[order]]',
            subject: key,
          });
        }
        walk(desc.order, [...stack, key]);
      }
    }
  };
  walk(input.order, []);
  walk([{ group: [...(input.systemPre ?? []), ...(input.systemPost ?? [])] }], []);
  for (const g of input.orderExtensions) for (const ref of g.group) lookupOrThrow(input, 'extension', ref);
}

/** buildpack.md, "Order Resolution"; platform.md, "`system.toml` (TOML)": extensions optional, system buildpacks around each group, extension order first. */
function topLevelGroups(input: ResolveInput): Element[][] {
  const mod = (ref: ModuleRef): Element => ({ type: 'module', kind: 'buildpack', ref, optional: ref.optional, via: [] });
  return input.order.map((g) => {
    const ids = new Set(g.group.map((r) => r.id));
    const pre = (input.systemPre ?? []).filter((r) => !ids.has(r.id)).map(mod);
    const post = (input.systemPost ?? []).filter((r) => !ids.has(r.id)).map(mod);
    const head: Element[] = input.orderExtensions.length > 0 ? [{ type: 'ext-order' }] : [];
    return [...head, ...pre, ...g.group.map(mod), ...post];
  });
}

function classify(kind: ModuleKind, o: DetectOutcome): { detect: 'pass' | 'fail' | 'error'; note?: string } {
  if (o.error !== undefined) return { detect: 'error', note: o.error };
  if (o.code === 100) return { detect: 'fail' };
  if (o.code !== 0) return { detect: 'error' };
  // Extensions only provide (buildpack.md, "Buildpack Interface: Detection"; image_extension.md, "Detection").
  if (kind === 'extension' && (o.plan.requires.length > 0 || o.plan.or.some((s) => s.requires.length > 0))) {
    return { detect: 'error', note: 'an extension must not emit [[requires]] in its build plan' };
  }
  return { detect: 'pass' };
}

function toMember(desc: ModuleDescriptor): GroupMember {
  return { id: desc.id, version: desc.version, api: desc.api, ...(desc.homepage !== '' ? { homepage: desc.homepage } : {}) };
}

interface Result {
  d: Done;
  o: DetectOutcome;
  c: ReturnType<typeof classify>;
}

function passedModule({ d, o }: Result): PassedModule {
  return { kind: d.kind, id: d.desc.id, version: d.desc.version, optional: d.optional, plan: o.plan };
}

/** Optional modules that failed, errored or were dropped by the plan trials show as skipped-optional. */
function traceMember({ d, o, c }: Result, droppedNote: string | undefined): TraceMember {
  const skipped = (c.detect !== 'pass' && d.optional) || droppedNote !== undefined;
  const note = droppedNote ?? c.note;
  return {
    kind: d.kind,
    id: d.desc.id,
    version: d.desc.version,
    optional: d.optional,
    status: skipped ? 'skipped-optional' : c.detect,
    detect: c.detect,
    // -1 marks a synthetic result (target mismatch): bin/detect never ran.
    ...(o.code !== -1 ? { code: o.code } : {}),
    ...(note !== undefined ? { note } : {}),
    via: d.via,
    ...(o.output !== undefined && o.output !== '' ? { output: o.output } : {}),
  };
}

export async function resolveOrder(input: ResolveInput): Promise<ResolveResult> {
  verifyOrder(input);
  const memo = new Map<string, Promise<DetectOutcome>>();
  const trace: TraceGroup[] = [];
  const extGroups: Element[][] = input.orderExtensions.map((g) =>
    g.group.map((ref) => ({ type: 'module', kind: 'extension', ref, optional: true, via: ['order-extensions'] })),
  );

  const detectOnce = (kind: ModuleKind, desc: ModuleDescriptor): Promise<DetectOutcome> => {
    const key = `${kind}:${moduleLabel(desc)}`;
    let p = memo.get(key);
    if (p === undefined) {
      p = input.runDetect(desc);
      // Marks the promise handled; every awaiting resolve still sees a rejection.
      p.catch(() => undefined);
      memo.set(key, p);
    }
    return p;
  };

  /** buildpack.md, "Order Resolution" (with resolve-plan): classifies the group's results and records a trace entry. */
  const resolveDone = async (branch: Branch): Promise<GroupOutcome> => {
    const outcomes = await Promise.all(branch.done.map((d) => d.outcome));
    const results: Result[] = branch.done.map((d, i) => {
      const o = outcomes[i] as DetectOutcome;
      return { d, o, c: classify(d.kind, o) };
    });
    const problems: string[] = [];
    let sawError = false;
    for (const { d, o, c } of results) {
      if (c.detect === 'error') sawError = true;
      if (c.detect !== 'pass' && !d.optional) {
        const detail = c.note ?? `exit ${o.code}`;
        problems.push(`non-optional ${moduleLabel(d.desc)} ${c.detect === 'fail' ? 'failed' : 'errored'} (${detail})`);
      }
    }
    // Indices (into branch.done) of the modules whose detect passed, in group order.
    const passed = results.flatMap((r, i) => (r.c.detect === 'pass' ? [i] : []));
    let reason: string | undefined;
    let trials: TrialRecord[] = [];
    const droppedNotes = new Map<number, string>();
    let ok: Extract<GroupOutcome, { kind: 'pass' }> | undefined;
    if (problems.length > 0) reason = problems.join('; ');
    else if (!passed.some((i) => branch.done[i]?.kind === 'buildpack')) reason = 'no buildpack passed';
    else {
      const r = resolvePlan(passed.map((i) => passedModule(results[i] as Result)));
      trials = r.trials;
      if (!r.ok) reason = r.reason;
      else {
        for (const dr of r.dropped) droppedNotes.set(passed[dr.index] as number, dr.reason);
        const kept = r.survivors.map((j) => (results[passed[j] as number] as Result).d);
        ok = {
          kind: 'pass',
          group: kept.filter((d) => d.kind === 'buildpack').map((d) => toMember(d.desc)),
          groupExtensions: kept.filter((d) => d.kind === 'extension').map((d) => toMember(d.desc)),
          plan: { entries: r.entries },
        };
      }
    }
    const members = branch.slots.map((s) => {
      if ('skipped' in s) return s.skipped;
      const i = branch.done.indexOf(s.done);
      return traceMember(results[i] as Result, droppedNotes.get(i));
    });
    const result = ok !== undefined ? 'pass' : problems.length > 0 && sawError ? 'error' : 'fail';
    trace.push({ index: trace.length + 1, result, ...(reason !== undefined ? { reason } : {}), members, trials });
    return ok ?? { kind: result === 'error' ? 'error' : 'fail' };
  };

  const detectOrder = async (groups: Element[][], branch: Branch, rest: Element[], optional: boolean): Promise<GroupOutcome> => {
    let sawError = false;
    for (const g of groups) {
      const r = await detectGroup([...g, ...rest], branch);
      if (r.kind === 'pass') return r;
      if (r.kind === 'error') sawError = true;
    }
    // An optional composite (or the extension order) that never passes: retry as if it were absent.
    if (optional) return detectGroup(rest, branch);
    return { kind: sawError ? 'error' : 'fail' };
  };

  const detectGroup = async (elements: Element[], from: Branch): Promise<GroupOutcome> => {
    const branch: Branch = { done: from.done.slice(), slots: from.slots.slice() };
    for (let i = 0; i < elements.length; i++) {
      const el = elements[i] as Element;
      const rest = elements.slice(i + 1);
      if (el.type === 'ext-order') return detectOrder(extGroups, branch, rest, true);
      // First occurrence of an id wins, whatever the version (buildpack.md, "Order Resolution").
      const first = branch.done.find((d) => d.kind === el.kind && d.desc.id === el.ref.id);
      if (first !== undefined) {
        branch.slots.push({
          skipped: { kind: el.kind, id: el.ref.id, version: el.ref.version, optional: el.optional, status: 'skipped-duplicate', note: `${moduleLabel(first.desc)} is already in the group`, via: el.via },
        });
        continue;
      }
      const desc = lookupOrThrow(input, el.kind, el.ref);
      if (desc.kind === 'buildpack' && desc.order.length > 0) {
        const via = [...el.via, moduleLabel(desc)];
        const inner = desc.order.map((g) => g.group.map((ref): Element => ({ type: 'module', kind: 'buildpack', ref, optional: ref.optional, via })));
        return detectOrder(inner, branch, rest, el.optional);
      }
      if (!el.optional && !targetMatches(desc.targets, input.runImageTarget)) {
        // A synthetic error result (buildpack.md, "Order Resolution"); optional modules skip the check (lifecycle quirk, platform.md, "Target Data").
        const run = input.runImageTarget as Target;
        const error = `no target of ${moduleLabel(desc)} (${desc.targets.map(describeTarget).join('; ')}) matches the run image (${describeTarget(run)})`;
        branch.done.push({ kind: el.kind, desc, optional: false, via: el.via, outcome: Promise.resolve({ code: -1, plan: { provides: [], requires: [], or: [] }, error }) });
        branch.slots.push({ done: branch.done.at(-1) as Done });
        continue;
      }
      if (input.execEnv !== undefined && desc.kind === 'buildpack' && buildpackApi(desc.api).supports('exec-env')) {
        const envs = desc.execEnv;
        if (envs.length > 0 && !envs.includes('*') && !envs.includes(input.execEnv)) {
          // Skipped silently and not added to the group (buildpack.md, "Order Resolution", Platform 0.15).
          branch.slots.push({
            skipped: { kind: el.kind, id: desc.id, version: desc.version, optional: el.optional, status: 'not-run', note: `exec-env ${envs.join(', ')} excludes ${input.execEnv}`, via: el.via },
          });
          continue;
        }
      }
      const done: Done = { kind: el.kind, desc, optional: el.optional, via: el.via, outcome: detectOnce(el.kind, desc) };
      branch.done.push(done);
      branch.slots.push({ done });
    }
    return resolveDone(branch);
  };

  const r = await detectOrder(topLevelGroups(input), { done: [], slots: [] }, [], false);
  if (r.kind === 'pass') return { ok: true, group: r.group, groupExtensions: r.groupExtensions, plan: r.plan, trace };
  return { ok: false, code: r.kind === 'error' ? 21 : 20, trace };
}

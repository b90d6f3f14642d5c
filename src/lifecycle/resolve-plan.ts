/**
 * Build-plan resolution for one fully expanded candidate group (buildpack.md, "Order Resolution"): the
 * requires/provides trials over the modules whose detect passed. Pure and synchronous; the lazy order
 * expansion and the detect runs live in resolve-order.ts. Also the trace types and their rendering,
 * which record one entry per candidate group resolved.
 */
import type { DetectPlan, ModuleKind, PlanEntry, PlanProvider, PlanRequire, PlanSection } from '../cnb/models.js';

/** A module of the candidate group whose bin/detect passed, in group order. */
export interface PassedModule {
  kind: ModuleKind;
  id: string;
  version: string;
  optional: boolean;
  plan: DetectPlan;
}

/** One trial: which option each passed module used (0 = top-level pair, n = the n-th [[or]]). */
export interface TrialRecord {
  options: number[];
  ok: boolean;
  /** Optional modules dropped during this trial because of unmet items, with why. */
  dropped: { index: number; reason: string }[];
  /** Why the trial failed, when it did. */
  reason?: string;
}

export type PlanResolution =
  | { ok: true; survivors: number[]; entries: PlanEntry[]; trials: TrialRecord[]; dropped: { index: number; reason: string }[] }
  | { ok: false; reason: string; trials: TrialRecord[] };

// ---- the trace of every candidate group tried (drives `kiln detect --explain`) ----

export type TraceStatus = 'pass' | 'fail' | 'error' | 'skipped-duplicate' | 'skipped-optional' | 'not-run';

export interface TraceMember {
  kind: ModuleKind;
  id: string;
  version: string;
  optional: boolean;
  status: TraceStatus;
  /** The raw detect result, when detect ran (or a target mismatch counted as an error). */
  detect?: 'pass' | 'fail' | 'error';
  /** bin/detect exit code, when it ran. */
  code?: number;
  /** Why: error message, the reason an optional module was dropped, the duplicate it lost to, ... */
  note?: string;
  /** Composite buildpacks (id@version) or "order-extensions" this member was reached through. */
  via: string[];
  output?: string;
}

export interface TraceGroup {
  /** 1-based number of the candidate group, in the order tried. */
  index: number;
  result: 'pass' | 'fail' | 'error';
  /** Why the group failed. */
  reason?: string;
  members: TraceMember[];
  /** The build-plan trials run for this group (the first 64 at most). */
  trials: TrialRecord[];
}

/** Human-readable lines for `kiln detect --explain`. */
export function formatTrace(trace: TraceGroup[]): string[] {
  const lines: string[] = [];
  for (const g of trace) {
    lines.push(`candidate group ${g.index}: ${g.result}${g.reason !== undefined ? ` — ${g.reason}` : ''}`);
    for (const m of g.members) {
      const flags = [m.optional ? 'optional' : '', m.via.length > 0 ? `via ${m.via.join(' > ')}` : ''].filter((s) => s !== '').join(', ');
      const detail = [m.code !== undefined && m.code !== 0 ? `exit ${m.code}` : '', m.note ?? ''].filter((s) => s !== '').join(': ');
      lines.push(`  ${m.status.padEnd(17)} ${m.kind} ${moduleLabel(m)}${flags !== '' ? ` [${flags}]` : ''}${detail !== '' ? ` — ${detail}` : ''}`);
    }
    if (g.trials.length > 1) lines.push(`  (${g.trials.length} build-plan trials)`);
  }
  return lines;
}

// ---- plan trials ----

/** Only the first trials are kept for the trace; all of them are still tried. */
const MAX_RECORDED_TRIALS = 64;

interface Option {
  /** Index into the passed-modules list. */
  index: number;
  module: PassedModule;
  section: PlanSection;
  /** Lifecycle quirk (buildpack.md, "Order Resolution"): an optional module is only removable in its LAST option. */
  removable: boolean;
}

export function moduleLabel(m: { id: string; version: string }): string {
  return `${m.id}@${m.version}`;
}

/** The options of one module: its top-level pair first, then each [[or]] pair in order. */
function optionsOf(index: number, m: PassedModule): Option[] {
  const sections: PlanSection[] = [{ provides: m.plan.provides, requires: m.plan.requires }, ...m.plan.or];
  return sections.map((section, i) => ({ index, module: m, section, removable: m.optional && i === sections.length - 1 }));
}

interface Dep {
  providers: Option[];
  /** Provides registered since the last require of this name: unmet unless a later require claims them. */
  pending: Option[];
  requires: PlanRequire[];
  /** Requires seen before any provider existed. */
  early: Option[];
}

/** Walks the trial in order: each module registers its provides, then its requires (buildpack.md, "Order Resolution"). */
function depMap(trial: Option[]): Map<string, Dep> {
  const deps = new Map<string, Dep>();
  const dep = (name: string): Dep => {
    let d = deps.get(name);
    if (d === undefined) {
      d = { providers: [], pending: [], requires: [], early: [] };
      deps.set(name, d);
    }
    return d;
  };
  for (const opt of trial) {
    for (const p of opt.section.provides) dep(p.name).pending.push(opt);
    for (const r of opt.section.requires) {
      const d = dep(r.name);
      d.providers.push(...d.pending);
      d.pending = [];
      if (d.providers.length === 0) d.early.push(opt);
      else d.requires.push(r);
    }
  }
  return deps;
}

interface Unmet {
  opt: Option;
  reason: string;
}

function unmetItems(deps: Map<string, Dep>): Unmet[] {
  const out: Unmet[] = [];
  for (const [name, d] of deps) {
    for (const opt of d.early) {
      out.push({ opt, reason: `unmet require "${name}" by ${moduleLabel(opt.module)} (nothing before it provides it)` });
    }
  }
  for (const [name, d] of deps) {
    for (const opt of d.pending) {
      out.push({ opt, reason: `unmet provide "${name}" by ${moduleLabel(opt.module)} (nothing after it requires it)` });
    }
  }
  return out;
}

type TrialResult = { ok: true; trial: Option[]; deps: Map<string, Dep>; dropped: { index: number; reason: string }[] } | { ok: false; reason: string; dropped: { index: number; reason: string }[] };

/**
 * Resolves one trial until stable. Removing modules can only create unmet items, never fix them, so
 * failing on the first non-removable unmet item gives the same answer as the lifecycle's map-order walk.
 */
function runTrial(initial: Option[]): TrialResult {
  let trial = initial;
  const dropped: { index: number; reason: string }[] = [];
  for (;;) {
    const deps = depMap(trial);
    const unmet = unmetItems(deps);
    if (unmet.length === 0) {
      if (trial.length === 0) return { ok: false, reason: 'no viable buildpacks in group', dropped };
      // The lifecycle only checks "not empty" here; kiln also requires a surviving buildpack so that a
      // group never resolves to extensions alone (buildpack.md, "Order Resolution"), even after optional buildpacks were dropped.
      if (!trial.some((o) => o.module.kind === 'buildpack')) return { ok: false, reason: 'no buildpack left after resolving the build plan', dropped };
      return { ok: true, trial, deps, dropped };
    }
    const fatal = unmet.find((u) => !u.opt.removable);
    if (fatal !== undefined) return { ok: false, reason: fatal.reason, dropped };
    const remove = new Set<number>();
    for (const u of unmet) {
      if (remove.has(u.opt.index)) continue;
      remove.add(u.opt.index);
      dropped.push({ index: u.opt.index, reason: u.reason });
    }
    trial = trial.filter((o) => !remove.has(o.index));
  }
}

function planEntries(deps: Map<string, Dep>): PlanEntry[] {
  const entries: { name: string; entry: PlanEntry }[] = [];
  for (const [name, d] of deps) {
    const providers: PlanProvider[] = [];
    const seen = new Set<number>();
    for (const p of d.providers) {
      if (seen.has(p.index)) continue;
      seen.add(p.index);
      providers.push({ id: p.module.id, version: p.module.version, ...(p.module.kind === 'extension' ? { extension: true } : {}) });
    }
    entries.push({ name, entry: { providers, requires: d.requires } });
  }
  // The lifecycle emits entries in Go map order; sort by name for reproducible plan.toml (buildpack.md, "Order Resolution").
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries.map((e) => e.entry);
}

/**
 * Enumerates the cartesian product of the modules' options depth-first, left module varying slowest;
 * the first trial that resolves wins (buildpack.md, "Order Resolution"). On failure the last trial's reason
 * is reported, like the lifecycle.
 */
export function resolvePlan(passed: PassedModule[]): PlanResolution {
  const options = passed.map((m, i) => optionsOf(i, m));
  const trials: TrialRecord[] = [];
  let lastReason = 'no viable buildpacks in group';
  const choice: number[] = [];
  const picked: Option[] = [];

  const walk = (depth: number): Extract<PlanResolution, { ok: true }> | undefined => {
    if (depth === options.length) {
      const r = runTrial(picked.slice());
      if (trials.length < MAX_RECORDED_TRIALS) {
        trials.push({ options: choice.slice(), ok: r.ok, dropped: r.dropped, ...(r.ok ? {} : { reason: r.reason }) });
      }
      if (!r.ok) {
        lastReason = r.reason;
        return undefined;
      }
      return { ok: true, survivors: r.trial.map((o) => o.index), entries: planEntries(r.deps), trials, dropped: r.dropped };
    }
    const opts = options[depth] ?? [];
    for (let i = 0; i < opts.length; i++) {
      choice.push(i);
      picked.push(opts[i] as Option);
      const r = walk(depth + 1);
      choice.pop();
      picked.pop();
      if (r !== undefined) return r;
    }
    return undefined;
  };

  return walk(0) ?? { ok: false, reason: lastReason, trials };
}

import { describe, expect, it } from 'vitest';
import { resolvePlan, type PassedModule } from '../../../src/lifecycle/resolve-plan.js';
import type { DetectPlan, ModuleKind } from '../../../src/cnb/models.js';

interface Section {
  provides?: string[];
  requires?: string[];
}

function plan(top: Section = {}, ...or: Section[]): DetectPlan {
  const sec = (s: Section) => ({ provides: (s.provides ?? []).map((name) => ({ name })), requires: (s.requires ?? []).map((name) => ({ name, metadata: {} })) });
  return { ...sec(top), or: or.map(sec) };
}

function mod(id: string, p: DetectPlan, optional = false, kind: ModuleKind = 'buildpack'): PassedModule {
  return { kind, id, version: '1', optional, plan: p };
}

describe('resolvePlan (buildpack.md, "Order Resolution", the requires/provides trials)', () => {
  it('returns survivors as indices into its input and the entries with providers and requires', () => {
    const r = resolvePlan([mod('a', plan({ provides: ['n'] })), mod('b', plan({ requires: ['x'] }), true), mod('c', plan({ requires: ['n'] }))]);
    expect(r).toMatchObject({ ok: true, survivors: [0, 2], dropped: [{ index: 1, reason: 'unmet require "x" by b@1 (nothing before it provides it)' }] });
    if (r.ok) expect(r.entries).toEqual([{ providers: [{ id: 'a', version: '1' }], requires: [{ name: 'n', metadata: {} }] }]);
  });

  it('a require claims every provider registered before it; later requires of the same name join the entry', () => {
    const r = resolvePlan([mod('a', plan({ provides: ['n'] })), mod('b', plan({ provides: ['n'] })), mod('c', plan({ requires: ['n'] })), mod('d', plan({ requires: ['n'] }))]);
    if (!r.ok) throw new Error(r.reason);
    expect(r.entries).toEqual([
      {
        providers: [
          { id: 'a', version: '1' },
          { id: 'b', version: '1' },
        ],
        requires: [
          { name: 'n', metadata: {} },
          { name: 'n', metadata: {} },
        ],
      },
    ]);
  });

  it('extension providers are marked extension=true', () => {
    const r = resolvePlan([mod('x', plan({ provides: ['n'] }), true, 'extension'), mod('a', plan({ requires: ['n'] }))]);
    if (!r.ok) throw new Error(r.reason);
    expect(r.entries[0]?.providers).toEqual([{ id: 'x', version: '1', extension: true }]);
  });

  it('fails with the last trial’s reason when no trial resolves', () => {
    const r = resolvePlan([mod('a', plan({ requires: ['p'] }, { requires: ['q'] }))]);
    expect(r).toMatchObject({ ok: false, reason: 'unmet require "q" by a@1 (nothing before it provides it)' });
    expect(r.trials.map((t) => t.options)).toEqual([[0], [1]]);
  });

  it('never resolves to extensions alone, even after optional buildpacks were dropped', () => {
    const r = resolvePlan([mod('x', plan(), true, 'extension'), mod('a', plan({ requires: ['n'] }), true)]);
    expect(r).toMatchObject({ ok: false, reason: 'no buildpack left after resolving the build plan' });
    expect(resolvePlan([])).toMatchObject({ ok: false, reason: 'no viable buildpacks in group' });
  });

  it('tries every combination but records only the first 64 trials', () => {
    // Eight modules with two options each; only the very last combination resolves.
    const mods = Array.from({ length: 8 }, (_, i) => mod(`m${i}`, plan({ requires: ['nope'] }, {})));
    const r = resolvePlan(mods);
    expect(r.ok).toBe(true);
    expect(r.trials).toHaveLength(64);
    if (r.ok) expect(r.survivors).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

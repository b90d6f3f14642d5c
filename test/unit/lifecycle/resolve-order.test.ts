import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { formatTrace, resolveOrder, targetMatches, type DetectOutcome, type ResolveInput, type ResolveResult } from '../../../src/lifecycle/resolve-order.js';
import type { BuildpackDescriptor, DetectPlan, ExtensionDescriptor, ModuleDescriptor, ModuleKind, ModuleRef, OrderGroup, PlanRequire, Target } from '../../../src/cnb/models.js';

// ---- inline fixtures -------------------------------------------------------------------------------

const base = { name: '', homepage: '', description: '', keywords: [], licenses: [], targets: [], metadata: {} };

function bp(id: string, version = '1', extra: Partial<BuildpackDescriptor> = {}): BuildpackDescriptor {
  return { ...base, kind: 'buildpack', api: '0.10', id, version, clearEnv: false, sbomFormats: [], execEnv: [], order: [], stacks: [], ...extra };
}

function ext(id: string, version = '1', extra: Partial<ExtensionDescriptor> = {}): ExtensionDescriptor {
  return { ...base, kind: 'extension', api: '0.10', id, version, ...extra };
}

function ref(id: string, version = '1', optional = false): ModuleRef {
  return { id, version, optional };
}

const opt = (id: string, version = '1'): ModuleRef => ref(id, version, true);
const group = (...refs: ModuleRef[]): OrderGroup => ({ group: refs });

interface Section {
  provides?: string[];
  requires?: (string | PlanRequire)[];
}

function plan(top: Section = {}, ...or: Section[]): DetectPlan {
  const sec = (s: Section) => ({
    provides: (s.provides ?? []).map((name) => ({ name })),
    requires: (s.requires ?? []).map((r) => (typeof r === 'string' ? { name: r, metadata: {} } : r)),
  });
  return { ...sec(top), or: or.map(sec) };
}

type Script = number | DetectOutcome | DetectPlan;

/** A builder with modules, scripted detect outcomes (default: pass with an empty plan) and a call log. */
class World {
  readonly calls: string[] = [];
  private readonly modules = new Map<string, ModuleDescriptor>();
  private readonly scripts = new Map<string, Script>();

  add(...mods: ModuleDescriptor[]): this {
    for (const m of mods) this.modules.set(`${m.kind}:${m.id}@${m.version}`, m);
    return this;
  }

  /** key: "<id>@<version>" (buildpacks) or "ext:<id>@<version>". */
  on(key: string, s: Script): this {
    this.scripts.set(key.startsWith('ext:') ? `extension:${key.slice(4)}` : `buildpack:${key}`, s);
    return this;
  }

  input(order: OrderGroup[], extra: Partial<ResolveInput> = {}): ResolveInput {
    return {
      order,
      orderExtensions: [],
      lookup: (kind: ModuleKind, id: string, version: string) => this.modules.get(`${kind}:${id}@${version}`),
      runDetect: async (m: ModuleDescriptor) => {
        const key = `${m.kind}:${m.id}@${m.version}`;
        this.calls.push(key);
        await new Promise((r) => setTimeout(r, 1));
        const s = this.scripts.get(key) ?? 0;
        if (typeof s === 'number') return { code: s, plan: plan(), output: `detect ${m.id} exited ${s}` };
        if ('code' in s) return s;
        return { code: 0, plan: s };
      },
      ...extra,
    };
  }
}

function ids(r: ResolveResult): { group: string[]; ext: string[] } {
  if (!r.ok) throw new Error(`expected success, got ${r.code}:\n${formatTrace(r.trace).join('\n')}`);
  return { group: r.group.map((m) => `${m.id}@${m.version}`), ext: r.groupExtensions.map((m) => `${m.id}@${m.version}`) };
}

function failCode(r: ResolveResult): number {
  if (r.ok) throw new Error(`expected failure, got group ${r.group.map((m) => m.id).join(',')}`);
  return r.code;
}

const count = (calls: string[], key: string) => calls.filter((c) => c === key).length;

// ---- order and extension detection cases (buildpack.md, "Order Resolution"; image_extension.md, "Detection") ---

describe('resolveOrder: order and extension detection cases', () => {
  it('component detect exits 100 => group fails, next group tried, all fail => 20', async () => {
    const w = new World().add(bp('a'), bp('b'), bp('c')).on('a@1', 100).on('b@1', 100);
    expect(ids(await resolveOrder(w.input([group(ref('a')), group(ref('b')), group(ref('c'))])))).toEqual({ group: ['c@1'], ext: [] });
    expect(w.calls).toEqual(['buildpack:a@1', 'buildpack:b@1', 'buildpack:c@1']);
    const w2 = new World().add(bp('a'), bp('b')).on('a@1', 100).on('b@1', 100);
    const r = await resolveOrder(w2.input([group(ref('a')), group(ref('b'))]));
    expect(failCode(r)).toBe(20);
    expect(r.trace.map((t) => [t.result, t.reason])).toEqual([
      ['fail', 'non-optional a@1 failed (exit 100)'],
      ['fail', 'non-optional b@1 failed (exit 100)'],
    ]);
  });

  it('non-optional detect exits 1 => group fails; every group failed and one errored => 21', async () => {
    const w = new World().add(bp('a'), bp('b')).on('a@1', 1).on('b@1', 100);
    const r = await resolveOrder(w.input([group(ref('a')), group(ref('b'))]));
    expect(failCode(r)).toBe(21);
    expect(r.trace[0]).toMatchObject({ result: 'error', reason: 'non-optional a@1 errored (exit 1)' });
    expect(r.trace[0]?.members[0]).toMatchObject({ id: 'a', status: 'error', code: 1 });
  });

  it('optional buildpack exiting 100 or 1 is dropped and the group still passes', async () => {
    const w = new World().add(bp('a'), bp('b'), bp('c')).on('b@1', 100).on('c@1', 1);
    const r = await resolveOrder(w.input([group(ref('a'), opt('b'), opt('c'))]));
    expect(ids(r).group).toEqual(['a@1']);
    expect(r.trace[0]?.members.map((m) => [m.id, m.status, m.detect])).toEqual([
      ['a', 'pass', 'pass'],
      ['b', 'skipped-optional', 'fail'],
      ['c', 'skipped-optional', 'error'],
    ]);
  });

  it('a group of only optional buildpacks that all fail => group fails (no buildpack passed)', async () => {
    const w = new World().add(bp('a'), bp('b')).on('a@1', 100).on('b@1', 100);
    const r = await resolveOrder(w.input([group(opt('a'), opt('b'))]));
    expect(failCode(r)).toBe(20);
    expect(r.trace[0]?.reason).toBe('no buildpack passed');
  });

  it('extensions pass but no buildpack passes => group fails', async () => {
    const w = new World().add(bp('a'), ext('x')).on('a@1', 100);
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'))] }));
    expect(failCode(r)).toBe(20);
    // x + a, then a alone (the extension order is an optional composite).
    expect(r.trace.map((t) => t.members.map((m) => m.id))).toEqual([['x', 'a'], ['a']]);
    const w2 = new World().add(bp('a'), ext('x')).on('a@1', 100);
    const r2 = await resolveOrder(w2.input([group(opt('a'))], { orderExtensions: [group(ref('x'))] }));
    expect(failCode(r2)).toBe(20);
    expect(r2.trace[0]?.reason).toBe('no buildpack passed');
  });

  it('a require nobody provides earlier fails the trial (non-optional) or drops the buildpack (optional)', async () => {
    const w = new World().add(bp('a'), bp('b')).on('a@1', plan({ requires: ['node'] })).on('b@1', plan({ provides: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'))]));
    expect(failCode(r)).toBe(20);
    expect(r.trace[0]?.reason).toBe('unmet require "node" by a@1 (nothing before it provides it)');
    const w2 = new World().add(bp('a'), bp('c')).on('a@1', plan({ requires: ['node'] }));
    const r2 = await resolveOrder(w2.input([group(opt('a'), ref('c'))]));
    expect(ids(r2).group).toEqual(['c@1']);
    expect(r2.trace[0]?.members[0]).toMatchObject({ id: 'a', status: 'skipped-optional', detect: 'pass', note: expect.stringContaining('unmet require "node"') });
  });

  it('a provide nobody requires later is unmet; an earlier require does not count', async () => {
    const w = new World().add(bp('a'), bp('b')).on('a@1', plan({ provides: ['node'], requires: ['node'] })).on('b@1', plan({ provides: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'))]));
    expect(failCode(r)).toBe(20);
    expect(r.trace[0]?.reason).toBe('unmet provide "node" by b@1 (nothing after it requires it)');
    const w2 = new World().add(bp('a'), bp('b')).on('a@1', plan({ provides: ['node'], requires: ['node'] })).on('b@1', plan({ provides: ['node'] }));
    expect(ids(await resolveOrder(w2.input([group(ref('a'), opt('b'))]))).group).toEqual(['a@1']);
  });

  it('a buildpack that provides and requires the same name is valid on its own', async () => {
    const w = new World().add(bp('a')).on('a@1', plan({ provides: ['node'], requires: [{ name: 'node', metadata: { version: '20' } }] }));
    const r = await resolveOrder(w.input([group(ref('a'))]));
    expect(ids(r).group).toEqual(['a@1']);
    if (r.ok) expect(r.plan.entries).toEqual([{ providers: [{ id: 'a', version: '1' }], requires: [{ name: 'node', metadata: { version: '20' } }] }]);
  });

  it('[[or]] alternatives: first valid trial wins, left buildpack varying slowest', async () => {
    // a offers n1 then n2; b asks for n2 then n1. Left-slowest tries (a0,b0) then (a0,b1) => n1.
    const w = new World()
      .add(bp('a'), bp('b'))
      .on('a@1', plan({ provides: ['n1'] }, { provides: ['n2'] }))
      .on('b@1', plan({ requires: ['n2'] }, { requires: ['n1'] }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'))]));
    expect(ids(r).group).toEqual(['a@1', 'b@1']);
    if (!r.ok) return;
    expect(r.plan.entries.map((e) => e.requires[0]?.name)).toEqual(['n1']);
    expect(r.trace[0]?.trials.map((t) => [t.options, t.ok])).toEqual([
      [[0, 0], false],
      [[0, 1], true],
    ]);
  });

  it('nested composites expand depth-first; later duplicate ids are dropped even with another version', async () => {
    const c = bp('c', '1', { order: [group(ref('a', '1'), ref('d'))] });
    const d = bp('d', '1', { order: [group(ref('b'))] });
    const w = new World().add(c, d, bp('a', '1'), bp('a', '2'), bp('b'), bp('e'));
    const r = await resolveOrder(w.input([group(ref('c'), ref('a', '2'), ref('e'))]));
    expect(ids(r).group).toEqual(['a@1', 'b@1', 'e@1']);
    expect(w.calls).not.toContain('buildpack:a@2');
    expect(r.trace[0]?.members.map((m) => [m.id, m.version, m.status, m.via])).toEqual([
      ['a', '1', 'pass', ['c@1']],
      ['b', '1', 'pass', ['c@1', 'd@1']],
      ['a', '2', 'skipped-duplicate', []],
      ['e', '1', 'pass', []],
    ]);
  });

  it('an optional composite whose inner groups all fail => the group is retried without it', async () => {
    const c = bp('c', '1', { order: [group(ref('x')), group(ref('y'))] });
    const w = new World().add(c, bp('x'), bp('y'), bp('a')).on('x@1', 100).on('y@1', 100);
    const r = await resolveOrder(w.input([group(opt('c'), ref('a'))]));
    expect(ids(r).group).toEqual(['a@1']);
    expect(r.trace.map((t) => [t.members.map((m) => m.id), t.result])).toEqual([
      [['x', 'a'], 'fail'],
      [['y', 'a'], 'fail'],
      [['a'], 'pass'],
    ]);
    // A non-optional composite that fails entirely fails the group.
    const w2 = new World().add(c, bp('x'), bp('y'), bp('a')).on('x@1', 100).on('y@1', 100);
    expect(failCode(await resolveOrder(w2.input([group(ref('c'), ref('a'))])))).toBe(20);
  });

  it('detect of the same id@version runs once across groups', async () => {
    const w = new World().add(bp('a'), bp('b'), bp('c')).on('b@1', 100);
    const r = await resolveOrder(w.input([group(ref('a'), ref('b')), group(ref('a'), ref('b'), opt('c')), group(ref('a'), ref('c'))]));
    expect(ids(r).group).toEqual(['a@1', 'c@1']);
    expect(count(w.calls, 'buildpack:a@1')).toBe(1);
    expect(count(w.calls, 'buildpack:b@1')).toBe(1);
    expect(count(w.calls, 'buildpack:c@1')).toBe(1);
    expect(r.trace).toHaveLength(3);
  });

  it('a require with a top-level version (reported by the detect runner) is a detect error', async () => {
    const w = new World().add(bp('a'), bp('b')).on('a@1', { code: 0, plan: plan(), error: 'requires[0].version: a top-level version is not allowed' }).on('b@1', 100);
    const r = await resolveOrder(w.input([group(ref('a')), group(ref('b'))]));
    expect(failCode(r)).toBe(21);
    expect(r.trace[0]?.members[0]).toMatchObject({ status: 'error', code: 0, note: expect.stringContaining('top-level version') });
    expect(r.trace[0]?.reason).toContain('non-optional a@1 errored (requires[0].version');
  });

  it('target mismatch => error for a non-optional buildpack (21, detect not run); optional modules are detected anyway', async () => {
    const amd64: Target = { os: 'linux', arch: 'amd64', variant: '', distros: [] };
    const arm64: Target = { os: 'linux', arch: 'arm64', variant: '', distros: [] };
    const w = new World().add(bp('a', '1', { targets: [amd64] }), bp('b', '1', { targets: [amd64] }), bp('c'), ext('x', '1', { targets: [amd64] }));
    const r = await resolveOrder(w.input([group(ref('a'))], { runImageTarget: arm64 }));
    expect(failCode(r)).toBe(21);
    expect(w.calls).toEqual([]);
    expect(r.trace[0]?.members[0]).toMatchObject({ status: 'error', note: expect.stringContaining('matches the run image (linux/arm64)') });
    const r2 = await resolveOrder(w.input([group(opt('b'), ref('c'))], { runImageTarget: arm64, orderExtensions: [group(ref('x'))] }));
    expect(ids(r2)).toEqual({ group: ['b@1', 'c@1'], ext: ['x@1'] });
    // Same target: runs normally.
    expect(ids(await resolveOrder(w.input([group(ref('a'))], { runImageTarget: amd64 }))).group).toEqual(['a@1']);
  });

  it('system buildpacks are inserted around each group unless the group already has that id', async () => {
    const w = new World().add(bp('pre'), bp('post'), bp('post', '2'), bp('a'), bp('b'));
    const r = await resolveOrder(w.input([group(ref('a'), ref('post', '2'))], { systemPre: [ref('pre')], systemPost: [opt('post')] }));
    expect(ids(r).group).toEqual(['pre@1', 'a@1', 'post@2']);
    const r2 = await resolveOrder(w.input([group(ref('b'))], { systemPre: [ref('pre')], systemPost: [opt('post')] }));
    expect(ids(r2).group).toEqual(['pre@1', 'b@1', 'post@1']);
  });

  it('extension detect exiting 100 or 1 is silently excluded; buildpacks unaffected', async () => {
    const w = new World().add(bp('a'), ext('x'), ext('y')).on('ext:x@1', 100).on('ext:y@1', 1);
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'), ref('y'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: [] });
    expect(r.trace[0]?.members.map((m) => [m.kind, m.id, m.status, m.optional])).toEqual([
      ['extension', 'x', 'skipped-optional', true],
      ['extension', 'y', 'skipped-optional', true],
      ['buildpack', 'a', 'pass', false],
    ]);
  });

  it('an extension without bin/detect passes (the runner reports pass with its static or empty plan)', async () => {
    const w = new World().add(bp('a'), ext('x'));
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: ['x@1'] });
  });

  it('an extension providing something no buildpack requires is excluded; one that is required is kept', async () => {
    const w = new World().add(bp('a'), ext('x'), ext('y')).on('ext:x@1', plan({ provides: ['python'] })).on('ext:y@1', plan({ provides: ['node'] })).on('a@1', plan({ requires: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'), ref('y'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: ['y@1'] });
    if (r.ok) expect(r.plan.entries).toEqual([{ providers: [{ id: 'y', version: '1', extension: true }], requires: [{ name: 'node', metadata: {} }] }]);
    expect(r.trace[0]?.members[0]).toMatchObject({ id: 'x', status: 'skipped-optional', note: expect.stringContaining('unmet provide "python"') });
  });

  it('an extension emitting requires is an erroring, excluded extension', async () => {
    const w = new World().add(bp('a'), ext('x')).on('ext:x@1', plan({}, { requires: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: [] });
    expect(r.trace[0]?.members[0]).toMatchObject({ id: 'x', status: 'skipped-optional', detect: 'error', note: expect.stringContaining('[[requires]]') });
  });

  it('several order-extensions groups: the first one giving a resolvable group wins, else buildpacks alone', async () => {
    // a needs node: with x1 (failed detect) a is unmet, with x2 (provides node) it resolves.
    const w = new World().add(bp('a'), bp('b'), ext('x1'), ext('x2')).on('ext:x1@1', 100).on('ext:x2@1', plan({ provides: ['node'] })).on('a@1', plan({ requires: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x1')), group(ref('x2'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: ['x2@1'] });
    // Nothing works with extensions: x1+b, x2+b, then b alone; next buildpack group gets the same treatment.
    const w2 = new World().add(bp('a'), bp('b'), ext('x1'), ext('x2')).on('a@1', 100).on('b@1', 100);
    const r2 = await resolveOrder(w2.input([group(ref('b')), group(ref('a'))], { orderExtensions: [group(ref('x1')), group(ref('x2'))] }));
    expect(failCode(r2)).toBe(20);
    expect(r2.trace.map((t) => t.members.map((m) => m.id).join('+'))).toEqual(['x1+b', 'x2+b', 'b', 'x1+a', 'x2+a', 'a']);
    expect(count(w2.calls, 'extension:x1@1')).toBe(1);
  });
});

// ---- further semantics ------------------------------------------------------------------------------

describe('resolveOrder: order expansion, plan trials and errors', () => {
  it('an optional module is only removable in its last option (a lifecycle quirk)', async () => {
    // b's top-level option requires something unmet: b is NOT dropped there; its [[or]] (empty) is used.
    const w = new World().add(bp('a'), bp('b')).on('b@1', plan({ requires: ['missing'] }, {}));
    const r = await resolveOrder(w.input([group(ref('a'), opt('b'))]));
    expect(ids(r).group).toEqual(['a@1', 'b@1']);
    expect(r.trace[0]?.trials.map((t) => [t.options, t.ok, t.dropped.length])).toEqual([
      [[0, 0], false, 0],
      [[0, 1], true, 0],
    ]);
    // With no [[or]] the only option is the last one: b is dropped instead.
    const w2 = new World().add(bp('a'), bp('b')).on('b@1', plan({ requires: ['missing'] }));
    expect(ids(await resolveOrder(w2.input([group(ref('a'), opt('b'))]))).group).toEqual(['a@1']);
  });

  it('dropping an optional provider cascades to the modules that relied on it', async () => {
    // b (optional) provides node but also requires x that nobody provides => dropped; c (optional) required node => dropped too.
    const w = new World().add(bp('a'), bp('b'), bp('c')).on('b@1', plan({ provides: ['node'], requires: ['x'] })).on('c@1', plan({ requires: ['node'] }));
    const r = await resolveOrder(w.input([group(ref('a'), opt('b'), opt('c'))]));
    expect(ids(r).group).toEqual(['a@1']);
  });

  it('plan entries: one per name, sorted, providers deduplicated, all requires kept in order', async () => {
    const w = new World()
      .add(bp('a'), bp('b'), bp('c'))
      .on('a@1', plan({ provides: ['zlib', 'node', 'node'] }))
      .on('b@1', plan({ requires: [{ name: 'node', metadata: { version: '20' } }, 'zlib'] }))
      .on('c@1', plan({ requires: [{ name: 'node', metadata: { build: true } }] }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'), ref('c'))]));
    if (!r.ok) throw new Error('expected success');
    expect(r.plan.entries).toEqual([
      {
        providers: [{ id: 'a', version: '1' }],
        requires: [
          { name: 'node', metadata: { version: '20' } },
          { name: 'node', metadata: { build: true } },
        ],
      },
      { providers: [{ id: 'a', version: '1' }], requires: [{ name: 'zlib', metadata: {} }] },
    ]);
  });

  it('group members carry api and homepage (omitted when empty); extensions go to groupExtensions', async () => {
    const w = new World().add(bp('a', '1', { api: '0.12', homepage: 'https://a' }), bp('b'), ext('x', '2', { api: '0.9' }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'))], { orderExtensions: [group(ref('x', '2'))] }));
    if (!r.ok) throw new Error('expected success');
    expect(r.group).toEqual([
      { id: 'a', version: '1', api: '0.12', homepage: 'https://a' },
      { id: 'b', version: '1', api: '0.10' },
    ]);
    expect(r.groupExtensions).toEqual([{ id: 'x', version: '2', api: '0.9' }]);
  });

  it('the extension order is re-tried in front of every buildpack group; each module detects once', async () => {
    const w = new World().add(bp('a'), bp('b'), ext('x')).on('a@1', 100);
    const r = await resolveOrder(w.input([group(ref('a')), group(ref('b'))], { orderExtensions: [group(ref('x'))] }));
    expect(ids(r)).toEqual({ group: ['b@1'], ext: ['x@1'] });
    expect(r.trace.map((t) => t.members.map((m) => m.id).join('+'))).toEqual(['x+a', 'a', 'x+b']);
    expect(w.calls.sort()).toEqual(['buildpack:a@1', 'buildpack:b@1', 'extension:x@1']);
  });

  it('an optional composite that passes is used; its members keep their own optional flags', async () => {
    const c = bp('c', '1', { order: [group(ref('x'), opt('y'))] });
    const w = new World().add(c, bp('x'), bp('y'), bp('a')).on('y@1', 1);
    const r = await resolveOrder(w.input([group(opt('c'), ref('a'))]));
    expect(ids(r).group).toEqual(['x@1', 'a@1']);
    expect(r.trace[0]?.members.map((m) => [m.id, m.optional, m.status])).toEqual([
      ['x', false, 'pass'],
      ['y', true, 'skipped-optional'],
      ['a', false, 'pass'],
    ]);
  });

  it('modules detected in one group run concurrently but still only once', async () => {
    let running = 0;
    let peak = 0;
    const w = new World().add(bp('a'), bp('b'), bp('c'));
    const input = w.input([group(ref('a'), ref('b'), ref('c'))]);
    const inner = input.runDetect;
    input.runDetect = async (m) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return inner(m);
    };
    expect(ids(await resolveOrder(input)).group).toEqual(['a@1', 'b@1', 'c@1']);
    expect(peak).toBe(3);
    expect(w.calls).toHaveLength(3);
  });

  it('exec-env (Platform 0.15): buildpacks >= 0.12 whose exec-env excludes CNB_EXEC_ENV are skipped silently', async () => {
    const w = new World().add(bp('a', '1', { api: '0.12', execEnv: ['test'] }), bp('b', '1', { api: '0.11', execEnv: ['test'] }), bp('c', '1', { api: '0.12', execEnv: ['*'] }));
    const r = await resolveOrder(w.input([group(ref('a'), ref('b'), ref('c'))], { execEnv: 'production' }));
    expect(ids(r).group).toEqual(['b@1', 'c@1']);
    expect(r.trace[0]?.members[0]).toMatchObject({ id: 'a', status: 'not-run' });
    expect(w.calls).not.toContain('buildpack:a@1');
  });

  it('an empty order fails with 20 and an empty trace', async () => {
    const r = await resolveOrder(new World().input([]));
    expect(r).toEqual({ ok: false, code: 20, trace: [] });
  });

  it('a runDetect failure (infrastructure) propagates', async () => {
    const w = new World().add(bp('a'));
    const input = w.input([group(ref('a'))]);
    input.runDetect = () => Promise.reject(new Error('daemon gone'));
    await expect(resolveOrder(input)).rejects.toThrow('daemon gone');
  });

  it('a missing descriptor is a config KilnError (exit 2), found before any detect runs', async () => {
    const w = new World().add(bp('a'));
    const err = await resolveOrder(w.input([group(ref('a')), group(ref('nope', '3'))])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect(err).toMatchObject({ exitCode: 2, message: expect.stringContaining('buildpack nope@3 is referenced by the order') });
    expect(w.calls).toEqual([]);
    const err2 = await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'))] })).catch((e: unknown) => e);
    expect(err2).toMatchObject({ exitCode: 2, message: expect.stringContaining('extension x@1') });
  });

  it('an unsupported Buildpack API is exit 12; an extension of any supported API (0.8 here) runs, as in the lifecycle', async () => {
    const w = new World().add(bp('old', '1', { api: '0.6' }), bp('a'), ext('x', '1', { api: '0.8' }), ext('y', '1', { api: '0.6' }));
    await expect(resolveOrder(w.input([group(ref('old'))]))).rejects.toMatchObject({ exitCode: 12, message: expect.stringContaining('Buildpack API 0.6') });
    await expect(resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('y'))] }))).rejects.toMatchObject({ exitCode: 12 });
    expect(ids(await resolveOrder(w.input([group(ref('a'))], { orderExtensions: [group(ref('x'))] }))).ext).toEqual(['x@1']);
  });

  it('a composite cycle is rejected instead of recursing forever', async () => {
    const c = bp('c', '1', { order: [group(ref('d'))] });
    const d = bp('d', '1', { order: [group(ref('c'))] });
    const w = new World().add(c, d);
    await expect(resolveOrder(w.input([group(ref('c'))]))).rejects.toMatchObject({ exitCode: 1, message: expect.stringContaining('c@1 -> d@1 -> c@1') });
  });
});

describe('trace', () => {
  it('formatTrace renders each candidate with its members, statuses and reasons', async () => {
    const c = bp('c', '1', { order: [group(ref('a'))] });
    const w = new World().add(c, bp('a'), bp('a', '2'), bp('b'), ext('x')).on('b@1', 100).on('ext:x@1', plan({ provides: ['x'] }));
    const r = await resolveOrder(w.input([group(ref('c'), ref('a', '2'), ref('b')), group(ref('a'))], { orderExtensions: [group(ref('x'))] }));
    expect(ids(r)).toEqual({ group: ['a@1'], ext: [] });
    expect(formatTrace(r.trace)).toEqual([
      'candidate group 1: fail — non-optional b@1 failed (exit 100)',
      '  pass              extension x@1 [optional, via order-extensions]',
      '  pass              buildpack a@1 [via c@1]',
      '  skipped-duplicate buildpack a@2 — a@1 is already in the group',
      '  fail              buildpack b@1 — exit 100',
      'candidate group 2: fail — non-optional b@1 failed (exit 100)',
      '  pass              buildpack a@1 [via c@1]',
      '  skipped-duplicate buildpack a@2 — a@1 is already in the group',
      '  fail              buildpack b@1 — exit 100',
      'candidate group 3: pass',
      '  skipped-optional  extension x@1 [optional, via order-extensions] — unmet provide "x" by x@1 (nothing after it requires it)',
      '  pass              buildpack a@1',
    ]);
  });
});

describe('targetMatches', () => {
  const t = (os: string, arch: string, variant = '', distros: { name: string; version: string }[] = []): Target => ({ os, arch, variant, distros });
  it('empty fields are wildcards on both sides; no module targets match anything', () => {
    expect(targetMatches([], t('linux', 'arm64'))).toBe(true);
    expect(targetMatches([t('linux', '')], t('linux', 'arm64'))).toBe(true);
    expect(targetMatches([t('linux', 'amd64')], t('', ''))).toBe(true);
    expect(targetMatches([t('linux', 'amd64')], undefined)).toBe(true);
    expect(targetMatches([t('windows', 'amd64'), t('linux', 'arm64', 'v8')], t('linux', 'arm64', 'v8'))).toBe(true);
    expect(targetMatches([t('linux', 'arm64', 'v7')], t('linux', 'arm64', 'v8'))).toBe(false);
  });
  it('module distros need a matching run-image distro; a run image without distro info fails that check', () => {
    const ubuntu = [{ name: 'ubuntu', version: '22.04' }];
    expect(targetMatches([t('linux', 'amd64', '', ubuntu)], t('linux', 'amd64', '', [{ name: 'ubuntu', version: '22.04' }]))).toBe(true);
    expect(targetMatches([t('linux', 'amd64', '', [{ name: 'ubuntu', version: '' }])], t('linux', 'amd64', '', [{ name: 'ubuntu', version: '24.04' }]))).toBe(true);
    expect(targetMatches([t('linux', 'amd64', '', ubuntu)], t('linux', 'amd64', '', [{ name: 'debian', version: '12' }]))).toBe(false);
    expect(targetMatches([t('linux', 'amd64', '', ubuntu)], t('linux', 'amd64'))).toBe(false);
  });
});

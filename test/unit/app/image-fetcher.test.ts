import { describe, expect, it } from 'vitest';
import { createImageFetcher } from '../../../src/app/image-fetcher.js';
import { runImageCandidates } from '../../../src/app/run-image-choice.js';
import { KilnError } from '../../../src/errors.js';
import type { KilnEvent, PullOptions, RegistryAuth } from '../../../src/ports.js';
import type { PullPolicy } from '../../../src/registry/pull-policy.js';
import { FakeEngine, fakeImage } from '../../helpers/fake-engine.js';


/** A daemon holding `have`; pulls of `remote` succeed (with one progress line), others fail like a registry 404. */
function fakeEngine(have: string[], remote: string[]) {
  const local = new Set(have);
  const pulls: { ref: string; auth?: RegistryAuth }[] = [];
  const engine = new FakeEngine({
    inspectImage: (ref: string) => Promise.resolve(local.has(ref) ? fakeImage(`sha256:${ref.length}`) : undefined),
    pullImage: (ref: string, o: PullOptions = {}) => {
      pulls.push({ ref, ...(o.auth !== undefined ? { auth: o.auth } : {}) });
      if (!remote.includes(ref)) return Promise.reject(new KilnError({ action: `pull image ${ref}`, cause: 'registry x answered: manifest unknown', exitCode: 5 }));
      // Many tiny steps of one layer: reported only when 5 % more arrived or the status changed.
      for (let i = 1; i <= 1000; i++) o.onProgress?.({ layer: '0123456789ab', status: 'Downloading', current: i, total: 1000 });
      o.onProgress?.({ layer: '0123456789ab', status: 'Pull complete' });
      local.add(ref);
      return Promise.resolve();
    },
  });
  return { engine, pulls };
}

function fetcher(policy: PullPolicy, have: string[], remote: string[]) {
  const f = fakeEngine(have, remote);
  const events: KilnEvent[] = [];
  const auth: RegistryAuth = { serverAddress: '127.0.0.1:5172', username: 'u', password: 'p' };
  const x = createImageFetcher({ engine: f.engine, reporter: { emit: (e) => events.push(e) }, policy, credentials: (host) => Promise.resolve(host === '127.0.0.1:5172' ? auth : undefined) });
  return { x, events, pulls: f.pulls };
}

describe('ImageFetcher (issue 17)', () => {
  it('if-not-present: uses what the daemon has, pulls what it lacks once, with the registry credentials', async () => {
    const { x, events, pulls } = fetcher('if-not-present', ['local/b:1'], ['127.0.0.1:5172/r:1']);
    await x.ensure('local/b:1', 'builder');
    await Promise.all([x.ensure('127.0.0.1:5172/r:1', 'run image'), x.ensure('127.0.0.1:5172/r:1', 'run image')]);
    expect(pulls).toEqual([{ ref: '127.0.0.1:5172/r:1', auth: { serverAddress: '127.0.0.1:5172', username: 'u', password: 'p' } }]);
    expect(events.filter((e) => e.type === 'pull-progress')).toHaveLength(22);
    expect(events.filter((e) => e.type !== 'pull-progress').map((e) => e.type)).toEqual(['pull-start', 'pull-end']);
    expect(events[0]).toEqual({ type: 'pull-start', image: '127.0.0.1:5172/r:1', registry: '127.0.0.1:5172', policy: 'if-not-present' });
    expect(JSON.stringify(events)).not.toContain('"p"');
  });

  it('always pulls even a present image; never fails with exit 5 and a hint', async () => {
    const a = fetcher('always', ['h:1/b:1'], ['h:1/b:1']);
    await a.x.ensure('h:1/b:1', 'builder');
    expect(a.pulls.map((p) => p.ref)).toEqual(['h:1/b:1']);
    const n = fetcher('never', [], ['h:1/b:1']);
    const e = (await n.x.ensure('h:1/b:1', 'builder').catch((err: unknown) => err)) as KilnError;
    expect(e.exitCode).toBe(5);
    expect(e.causeText).toContain('pull policy is never');
    expect(e.hint).toContain('--pull-policy if-not-present');
    expect(n.pulls).toEqual([]);
  });

  it('a failed pull of an absent image says both, keeps exit 5, and ends its pull with ok: false', async () => {
    const { x, events } = fetcher('if-not-present', [], []);
    const e = (await x.ensure('h:1/gone:1', 'builder').catch((err: unknown) => err)) as KilnError;
    expect(e.exitCode).toBe(5);
    expect(e.causeText).toMatch(/does not exist in the Docker daemon, and the pull failed: registry x answered: manifest unknown/);
    expect(events.at(-1)).toMatchObject({ type: 'pull-end', ok: false });
  });

  it('ensureFirst: a mirror already present counts as present; else the first that pulls', async () => {
    const present = fetcher('if-not-present', ['m:1/run:1'], []);
    expect((await present.x.ensureFirst(['r:1/run:1', 'm:1/run:1'], 'run image')).ref).toBe('m:1/run:1');
    expect(present.pulls).toEqual([]);
    const pulled = fetcher('if-not-present', [], ['m:2/run:1']);
    expect((await pulled.x.ensureFirst(['r:1/run:1', 'm:2/run:1'], 'run image')).ref).toBe('m:2/run:1');
    expect(pulled.pulls.map((p) => p.ref)).toEqual(['r:1/run:1', 'm:2/run:1']);
    const none = fetcher('never', [], []);
    await expect(none.x.ensureFirst(['a:1/r', 'b:1/r'], 'run image')).rejects.toThrow(/none of a:1\/r, b:1\/r exists/);
  });
});

describe('run image candidates (pack order)', () => {
  it("tries names in the app image's registry first, then user mirrors, the run image and run.toml's mirrors", () => {
    expect(runImageCandidates('docker.io/x/run', ['ghcr.io/x/run', '127.0.0.1:5171/x/run'], '127.0.0.1:5171/team/app', ['my.reg/x/run'])).toEqual([
      '127.0.0.1:5171/x/run',
      'my.reg/x/run',
      'docker.io/x/run',
      'ghcr.io/x/run',
    ]);
    expect(runImageCandidates('x/run', ['m.io/x/run'], 'app')).toEqual(['x/run', 'm.io/x/run']);
  });
});

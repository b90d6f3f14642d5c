/**
 * The `--watch` loop (issue 20 point 5) on a fake watcher: a first build, debounced change bursts, a
 * change during a build aborts it and builds again, a failed build keeps watching, --run replaces the
 * app, and the end stops the build in flight and the app.
 */
import { describe, expect, it } from 'vitest';
import { watchLoop, type Watcher } from '../../../src/app/watch-loop.js';

function fakeWatcher(): { watcher: Watcher; change(path: string): void; closed: () => number } {
  const listeners: ((p: string) => void)[] = [];
  let closed = 0;
  return {
    watcher: (_dir, on) => {
      listeners.push(on);
      return () => void (closed += 1);
    },
    change: (p) => listeners.forEach((l) => l(p)),
    closed: () => closed,
  };
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('watchLoop', () => {
  it('builds once, then once per debounced burst of changes, and runs each new image', async () => {
    const w = fakeWatcher();
    const end = new AbortController();
    const events: string[] = [];
    const loop = watchLoop(['/app'], end.signal, {
      watcher: w.watcher,
      debounceMs: 20,
      build: async (_s, round) => {
        events.push(`build ${round}`);
        return `img${round}`;
      },
      runApp: async (image) => {
        events.push(`run ${image}`);
        return { stop: async () => void events.push(`stop ${image}`) };
      },
      onBuildError: (e) => events.push(`error ${String(e)}`),
      onChange: (paths) => events.push(`changed ${paths.join(',')}`),
    });
    await tick(30);
    w.change('a.txt');
    w.change('b.txt');
    w.change('a.txt');
    await tick(80);
    end.abort();
    expect(await loop).toBe(2);
    expect(events).toEqual(['build 1', 'run img1', 'changed a.txt,b.txt', 'build 2', 'stop img1', 'run img2', 'stop img2']);
    expect(w.closed()).toBe(1);
  });

  it('aborts a build when a change arrives during it, builds again, and reports a failed build without stopping', async () => {
    const w = fakeWatcher();
    const end = new AbortController();
    const events: string[] = [];
    const loop = watchLoop(['/app', '/bp'], end.signal, {
      watcher: w.watcher,
      debounceMs: 10,
      build: (signal, round) =>
        new Promise<string>((resolve, reject) => {
          events.push(`build ${round}`);
          if (round === 1) signal.addEventListener('abort', () => (events.push('aborted 1'), reject(new Error('aborted'))));
          else if (round === 2) reject(new Error('detect failed'));
          else resolve(`img${round}`);
        }),
      onBuildError: (e) => events.push(`error ${(e as Error).message}`),
    });
    await tick(5);
    w.change('x');
    await tick(50);
    w.change('y');
    await tick(50);
    end.abort();
    expect(await loop).toBe(3);
    expect(events).toEqual(['build 1', 'aborted 1', 'build 2', 'error detect failed', 'build 3']);
    expect(w.closed()).toBe(2);
  });

  it('ends a build in flight when the loop is stopped, without reporting it as an error', async () => {
    const w = fakeWatcher();
    const end = new AbortController();
    const errors: unknown[] = [];
    const loop = watchLoop(['/app'], end.signal, {
      watcher: w.watcher,
      build: (signal) => new Promise<string>((_r, reject) => signal.addEventListener('abort', () => reject(new Error('stopped')))),
      onBuildError: (e) => errors.push(e),
    });
    await tick(10);
    end.abort();
    expect(await loop).toBe(1);
    expect(errors).toEqual([]);
  });
});

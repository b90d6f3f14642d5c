/**
 * `kiln build --watch` (issue 20 point 5): build, then build again whenever a watched directory (the
 * app, each `--buildpack` / `--extension` directory) changes. Changes are debounced; a change during a
 * build aborts it (its own cleanup removes what it made) and starts a new one once it has settled. With
 * `--run`, each successful build replaces the app container (app-container.ts). A failed build is
 * reported and the loop keeps watching; the loop ends when `signal` aborts (Ctrl-C), after the build in
 * flight and the app container are gone.
 */
import { watch as fsWatch } from 'node:fs';

/** Stops a watcher. */
export type Unwatch = () => void;

/** Calls `onChange` with a path relative to `dir` for every change under it (recursively). */
export type Watcher = (dir: string, onChange: (path: string) => void) => Unwatch;

export interface WatchLoopDeps {
  /** One build; rejects when it fails or when `signal` aborts. Resolves to the image built. */
  build(signal: AbortSignal, round: number): Promise<string>;
  /** Replace the running app with this image (`--run`); its handle stops it. */
  runApp?(image: string): Promise<{ stop(): Promise<void> }>;
  /** A failed build: say why (the loop goes on). */
  onBuildError(e: unknown): void;
  /** Said once per change burst that starts a build. */
  onChange?(paths: string[]): void;
  watcher?: Watcher;
  debounceMs?: number;
}

/** Paths a change in which never starts a build: version-control metadata. */
const IGNORED = /(^|\/)\.git(\/|$)/;

export const nodeWatcher: Watcher = (dir, onChange) => {
  const w = fsWatch(dir, { recursive: true }, (_event, name) => {
    const path = typeof name === 'string' ? name : '';
    if (!IGNORED.test(path)) onChange(path);
  });
  return () => w.close();
};

export async function watchLoop(dirs: readonly string[], signal: AbortSignal, deps: WatchLoopDeps): Promise<number> {
  const watcher = deps.watcher ?? nodeWatcher;
  const debounceMs = deps.debounceMs ?? 300;
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let current: AbortController | undefined;
  const onChange = (path: string): void => {
    pending.push(path);
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      // A build in flight is stale now: abort it; the loop starts the next one when it has settled.
      current?.abort();
      wake?.();
    }, debounceMs);
  };
  const unwatch = dirs.map((d) => watcher(d, onChange));
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => {
      current?.abort();
      wake?.();
      resolve();
    }, { once: true });
  });
  let app: { stop(): Promise<void> } | undefined;
  let builds = 0;
  try {
    let first = true;
    while (!signal.aborted) {
      if (!first) {
        // Wait for a change burst (or the end).
        if (pending.length === 0 || timer !== undefined) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (signal.aborted) break;
        const paths = [...new Set(pending)];
        pending = [];
        deps.onChange?.(paths);
      }
      first = false;
      current = new AbortController();
      const buildSignal = current.signal;
      builds += 1;
      try {
        const image = await deps.build(buildSignal, builds);
        if (buildSignal.aborted || signal.aborted) continue;
        if (deps.runApp !== undefined) {
          await app?.stop();
          app = await deps.runApp(image);
        }
      } catch (e) {
        // Aborted for a newer change or for the end: not a failure worth a message.
        if (!buildSignal.aborted && !signal.aborted) deps.onBuildError(e);
      } finally {
        current = undefined;
      }
    }
    await stopped;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    for (const u of unwatch) u();
    await app?.stop();
  }
  return builds;
}

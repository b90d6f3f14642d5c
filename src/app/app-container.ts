/**
 * The app container of `kiln build --watch --run` (issue 20 point 5): the image as built (its
 * entrypoint, command and user), on the host network so the app can be reached, its output passed to
 * `onLine`, labelled so `kiln prune` finds it if kiln dies. stop() kills and removes it and waits until
 * it is gone.
 */
import type { ContainerEngine, Labels, OutputStream } from '../ports.js';
import { DEV_APP_LABEL } from '../cnb/labels.js';

export interface AppContainerOptions {
  labels: Labels;
  /** Set as PORT in the container (the convention the shipped example apps follow). */
  port?: number;
  onLine(stream: OutputStream, line: string): void;
  /** The app ended by itself (not by stop()). */
  onExit(code: number): void;
}

export async function startAppContainer(engine: ContainerEngine, image: string, opts: AppContainerOptions): Promise<{ stop(): Promise<void> }> {
  const info = await engine.inspectImage(image);
  const cmd = [...(info?.config.entrypoint ?? []), ...(info?.config.cmd ?? [])];
  const abort = new AbortController();
  const done = engine
    .runContainer({
      image,
      cmd,
      user: info?.config.user !== undefined && info.config.user !== '' ? info.config.user : 'root',
      network: 'host',
      labels: { ...opts.labels, [DEV_APP_LABEL]: image },
      ...(opts.port !== undefined ? { env: { PORT: String(opts.port) } } : {}),
      ...(info?.config.workingDir ? { workingDir: info.config.workingDir } : {}),
      name: `the app (${image})`,
      onLine: opts.onLine,
      signal: abort.signal,
    })
    .then(
      (r) => {
        if (!abort.signal.aborted) opts.onExit(r.exitCode);
      },
      (e: unknown) => {
        if (!abort.signal.aborted) throw e;
      },
    );
  // An app that fails to start is reported by the caller through the rejection of done.
  done.catch(() => undefined);
  return {
    async stop(): Promise<void> {
      abort.abort();
      await done.catch(() => undefined);
    },
  };
}

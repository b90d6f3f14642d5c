/**
 * Every image a command needs goes through one ImageFetcher (issue 17): under the pull policy it
 * inspects, pulls through the daemon with the Docker config's credentials, and reports
 * pull-start / pull-progress / pull-end. Each reference is pulled at most once per command.
 */
import { ExitCode, KilnError, isInterrupted } from '../errors.js';
import { registryHostOf } from '../image/registry-host.js';
import type { ContainerEngine, ImageInfo, PullProgress, RegistryAuth, Reporter } from '../ports.js';
import type { PullPolicy } from '../registry/pull-policy.js';

export interface ImageFetcher {
  readonly policy: PullPolicy;
  /** The image, pulled first when the policy says so; a KilnError (exit 5) when it cannot be had. */
  ensure(ref: string, what: string): Promise<ImageInfo>;
  /**
   * The first usable image of `refs` (a run image and its mirrors): under if-not-present and never
   * the first one the daemon already has, else (and under always) the first that pulls.
   */
  ensureFirst(refs: readonly string[], what: string): Promise<{ ref: string; info: ImageInfo }>;
}

export interface FetcherDeps {
  engine: ContainerEngine;
  reporter: Reporter;
  policy: PullPolicy;
  /** Credentials for a registry host (registry/docker-credentials.ts); none = anonymous. */
  credentials?: (registryHost: string) => Promise<RegistryAuth | undefined>;
  signal?: AbortSignal;
}

/** An image id or a digest reference names content, which a pull cannot change. */
function immutable(ref: string): boolean {
  return /^(sha256:)?[0-9a-f]{64}$/.test(ref) || ref.includes('@');
}

function notPresent(refs: readonly string[], what: string): KilnError {
  const names = refs.join(', ');
  return new KilnError({
    action: `use ${what} ${refs[0] ?? ''}`.trim(),
    cause: `${refs.length > 1 ? `none of ${names} exists` : `image ${names} does not exist`} in the Docker daemon, and the pull policy is never`,
    hint: `pull it (--pull-policy if-not-present, or docker pull), or load it into the daemon (docker load, kiln stack create)`,
    exitCode: ExitCode.missingImage,
    subject: refs[0],
  });
}

export function createImageFetcher(deps: FetcherDeps): ImageFetcher {
  const { engine, reporter, policy } = deps;
  const pulls = new Map<string, Promise<ImageInfo>>();

  const pull = (ref: string, what: string, absent: boolean): Promise<ImageInfo> => {
    let p = pulls.get(ref);
    if (p === undefined) {
      p = pullOnce(ref, what, absent);
      pulls.set(ref, p);
    }
    return p;
  };

  async function pullOnce(ref: string, what: string, absent: boolean): Promise<ImageInfo> {
    if (engine.pullImage === undefined) throw notPresent([ref], what);
    const registry = registryHostOf(ref);
    const started = Date.now();
    // The daemon sends a progress line every few KB: report a layer when its status changes or it has
    // moved by another 5 % (a 1 GB pull stays a few hundred events, not hundreds of thousands).
    const last = new Map<string, { status: string; step: number }>();
    const shouldReport = (p: PullProgress): boolean => {
      const step = p.current !== undefined && p.total !== undefined && p.total > 0 ? Math.floor((p.current / p.total) * 20) : -1;
      const prev = last.get(p.layer);
      if (prev !== undefined && prev.status === p.status && prev.step === step) return false;
      last.set(p.layer, { status: p.status, step });
      return true;
    };
    reporter.emit({ type: 'pull-start', image: ref, registry, policy });
    let ok = false;
    let info: ImageInfo | undefined;
    try {
      const auth = await deps.credentials?.(registry);
      await engine.pullImage(ref, {
        ...(auth !== undefined ? { auth } : {}),
        ...(deps.signal !== undefined ? { signal: deps.signal } : {}),
        onProgress: (p) => {
          if (shouldReport(p)) reporter.emit({ type: 'pull-progress', image: ref, ...p });
        },
      });
      info = await engine.inspectImage(ref);
      if (info === undefined) throw new KilnError({ action: `pull ${what} ${ref}`, cause: 'the daemon reported the pull done but has no such image', exitCode: ExitCode.missingImage, subject: ref });
      ok = true;
      return info;
    } catch (e) {
      // Say that the daemon lacks it too, so "not there and could not be fetched" reads as one fact.
      if (absent && e instanceof KilnError && e.exitCode === ExitCode.missingImage && e.action.startsWith('pull image')) {
        throw new KilnError({ action: `pull ${what} ${ref}`, cause: `it does not exist in the Docker daemon, and the pull failed: ${e.causeText}`, ...(e.hint !== undefined ? { hint: e.hint } : {}), exitCode: e.exitCode, subject: ref, original: e });
      }
      throw e;
    } finally {
      reporter.emit({ type: 'pull-end', image: ref, ok, elapsedMs: Date.now() - started, ...(info !== undefined ? { imageId: info.id } : {}) });
    }
  }

  async function ensure(ref: string, what: string): Promise<ImageInfo> {
    if (policy !== 'always' || immutable(ref)) {
      const have = await engine.inspectImage(ref);
      if (have !== undefined) return have;
      if (policy === 'never' || /^(sha256:)?[0-9a-f]{64}$/.test(ref)) throw notPresent([ref], what);
      return pull(ref, what, true);
    }
    return pull(ref, what, false);
  }

  async function ensureFirst(refs: readonly string[], what: string): Promise<{ ref: string; info: ImageInfo }> {
    if (policy !== 'always') {
      for (const ref of refs) {
        const info = await engine.inspectImage(ref);
        if (info !== undefined) return { ref, info };
      }
      if (policy === 'never') throw notPresent(refs, what);
    }
    let first: unknown;
    for (const ref of refs) {
      try {
        return { ref, info: await pull(ref, what, policy !== 'always') };
      } catch (e) {
        if (isInterrupted(e)) throw e;
        first ??= e;
        if (refs.length > 1) reporter.emit({ type: 'warning', message: `could not pull ${what} ${ref}${ref !== refs.at(-1) ? ', trying the next mirror' : ''}` });
      }
    }
    throw first ?? notPresent(refs, what);
  }

  return { policy, ensure, ensureFirst };
}

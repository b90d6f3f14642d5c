/**
 * `kiln stack create <busybox|debian>`: makes a build and a run base image offline (no registry),
 * so builders/*\/builder.toml work on a machine that cannot pull (issue 3, platform.md, "Build Image").
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, Labels, Reporter } from '../ports.js';

export const STACKS = ['busybox', 'debian'] as const;
export type StackName = (typeof STACKS)[number];

/** The tags builders/<stack>/builder.toml names. */
export const DEFAULT_STACK_IMAGES: Record<StackName, { build: string; run: string }> = {
  busybox: { build: 'kiln/busybox-build:latest', run: 'kiln/busybox-run:latest' },
  debian: { build: 'kiln/debian-build:bookworm', run: 'kiln/debian-run:bookworm' },
};

export interface CreateStackRequest {
  stack: string;
  buildImage?: string;
  runImage?: string;
  /** CNB user of the build image (default 1000:1000). */
  uid?: number;
  gid?: number;
  /** Extra labels on both images (tests pass their run label). */
  labels?: Labels;
}

export interface CreateStackResult {
  stack: StackName;
  buildImage: string;
  runImage: string;
  buildId: string;
  runId: string;
}

export function isStackName(s: string): s is StackName {
  return (STACKS as readonly string[]).includes(s);
}

export async function createStack(engine: ContainerEngine, req: CreateStackRequest, reporter?: Reporter): Promise<CreateStackResult> {
  if (!isStackName(req.stack)) {
    throw new KilnError({
      action: 'create a stack',
      cause: `unknown stack "${req.stack}"`,
      hint: `choose one of: ${STACKS.join(', ')}`,
      exitCode: ExitCode.usage,
    });
  }
  const stack = req.stack;
  const buildImage = req.buildImage ?? DEFAULT_STACK_IMAGES[stack].build;
  const runImage = req.runImage ?? DEFAULT_STACK_IMAGES[stack].run;
  const uid = req.uid ?? 1000;
  const gid = req.gid ?? 1000;
  await engine.ping();
  reporter?.emit({ type: 'phase-start', phase: `stack ${stack}` });
  const started = Date.now();
  let buildId: string;
  let runId: string;
  if (stack === 'busybox') {
    // Loaded here, not at start-up (issue 21: a command loads only what it uses).
    const { createBusyboxImage } = await import('../stacks/busybox.js');
    buildId = await createBusyboxImage(engine, { ref: buildImage, uid, gid, kind: 'build', ...(req.labels ? { labels: req.labels } : {}) });
    // The run image gets a different non-root user, as the platform spec recommends (platform.md, "Build Image").
    runId = await createBusyboxImage(engine, {
      ref: runImage,
      uid: uid + 1,
      gid,
      kind: 'run',
      userName: 'cnbrun',
      ...(req.labels ? { labels: req.labels } : {}),
    });
  } else {
    const { createDebianImages } = await import('../stacks/debian.js');
    ({ buildId, runId } = await createDebianImages(engine, {
      buildRef: buildImage,
      runRef: runImage,
      uid,
      gid,
      ...(req.labels ? { labels: req.labels } : {}),
      onLine: (line) => reporter?.emit({ type: 'debug', message: line }),
    }));
  }
  // Both images meet the base-image contract (cnb/base-image-contract.ts), or neither is left behind.
  const labels = req.labels ?? {};
  const { checkBaseImage } = await import('./base-image-check.js');
  try {
    await checkBaseImage(engine, { image: buildImage, kind: 'build', user: `${uid}:${gid}`, labels });
    await checkBaseImage(engine, { image: runImage, kind: 'run', user: `${uid}:${gid}`, labels });
  } catch (e) {
    await Promise.all([engine.removeImage(buildImage, { force: true }), engine.removeImage(runImage, { force: true })]).catch(() => undefined);
    throw e;
  }
  reporter?.emit({ type: 'phase-end', phase: `stack ${stack}`, elapsedMs: Date.now() - started });
  return { stack, buildImage, runImage, buildId, runId };
}

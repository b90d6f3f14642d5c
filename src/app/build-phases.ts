/**
 * The order of a build's phases (docs/architecture.md, "The data flow of one build", steps 4-8): what
 * runs after what and alongside what. The phases themselves are build-steps.ts; the session
 * (build-session.ts) owns the volumes and the cleanup.
 */
import type { KilnEvent, Reporter } from '../ports.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { ExportResult } from '../lifecycle/export/types.js';
import type { GroupMember } from '../cnb/models.js';
import type { PhasesInput, PhasesResult } from './build-request.js';
import type { BuildSession, SessionInputs } from './build-session.js';
import { buildSteps, type CacheState, type PhaseSteps } from './build-steps.js';

export type { PhasesInput, PhasesResult } from './build-request.js';
export { projectMetadataOf } from './build-steps.js';
export { detectErrorLine } from './detect-step.js';

async function timed<T>(reporter: Reporter, phase: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  reporter.emit({ type: 'phase-start', phase });
  const out = await fn();
  reporter.emit({ type: 'phase-end', phase, elapsedMs: Date.now() - start });
  return out;
}

/** What the session writes into its volumes for these phases. */
function sessionInputsOf(input: PhasesInput): SessionInputs {
  return {
    builderImage: input.builder.info.id,
    user: input.builder.user,
    platformEnv: input.platformEnv,
    appDir: input.req.path,
    include: input.project?.include ?? [],
    exclude: input.project?.exclude ?? [],
  };
}

/**
 * Runs the phases in `session`. Analyze does not need the session's volumes, so it runs alongside their
 * preparation (issue 5: rebuild time); both settle before anything fails, so nothing is still creating
 * resources when cleanup starts. Every later phase gets the context of the prepared session.
 */
export async function runPhases(session: Pick<BuildSession, 'ctx' | 'prepare'>, input: PhasesInput, steps: PhaseSteps = buildSteps): Promise<PhasesResult> {
  const { ctx } = session;
  const [analyzed, prepared] = await Promise.allSettled([timed(ctx.reporter, 'analyzing', () => steps.analyze(ctx, input)), session.prepare(sessionInputsOf(input))]);
  if (analyzed.status === 'rejected') throw analyzed.reason;
  const cache = analyzed.value;
  try {
    if (prepared.status === 'rejected') throw prepared.reason;
    return await phasesAfterAnalyze(prepared.value, input, cache, steps);
  } catch (e) {
    // A cache volume this failed build created holds nothing worth keeping (and must not be a leftover).
    if (cache.created) await ctx.engine.removeVolume(cache.volume).catch(() => undefined);
    throw e;
  }
}

async function phasesAfterAnalyze(ctx: PhaseContext, input: PhasesInput, cache: CacheState, steps: PhaseSteps): Promise<PhasesResult> {
  const resolved = await timed(ctx.reporter, 'detecting', () => steps.detect(ctx, input));
  // Restore does not depend on the extensions (it writes /layers/<bp>, generate /layers/generated): it runs
  // alongside them; its events are held back and shown in its own phase, in the usual order.
  const held: KilnEvent[] = [];
  const restoring = steps.restore({ ...ctx, reporter: { emit: (e) => held.push(e) } }, input, resolved.group, cache);
  restoring.catch(() => undefined);
  const ext = await steps.extensions(ctx, input, resolved.groupExtensions, resolved.plan).catch(async (e: unknown) => {
    await restoring.catch(() => undefined);
    throw e;
  });
  await timed(ctx.reporter, 'restoring', () =>
    restoring.finally(() => {
      for (const e of held) ctx.reporter.emit(e);
    }),
  );
  const built = await timed(ctx.reporter, 'building', () => steps.build(ctx, input, resolved, ext, cache));
  for (const w of built.result.warnings) ctx.reporter.emit({ type: 'warning', message: w });
  const exported: ExportResult = await timed(ctx.reporter, 'exporting', () => steps.export(ctx, input, resolved, ext, cache, built));
  ctx.reporter.emit({ type: 'info', message: `Successfully built image ${input.req.image} (${exported.imageId})` });
  const group: GroupMember[] = resolved.group;
  return {
    imageId: exported.imageId,
    group,
    groupExtensions: resolved.groupExtensions,
    processes: built.result.processes.map((p) => p.type),
    ...(built.result.defaultProcessType !== undefined ? { defaultProcessType: built.result.defaultProcessType } : {}),
    runImage: ext.runImage.image,
    warnings: [...ext.warnings, ...built.result.warnings],
    export: exported,
    dockerBuilds: ext.dockerBuilds,
    cacheVolume: cache.volume,
    sbom: built.result.sbom,
  };
}

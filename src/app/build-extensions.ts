/**
 * Generate + extend for one build (architecture.md data flow 5-6): passing extensions' bin/generate,
 * run-image choice, build.Dockerfiles applied to the builder image, run.Dockerfiles to the run image.
 * Without extensions in the group, the builder and run image are used as they are.
 */
import type { ImageInfo } from '../ports.js';
import type { ExportRunImage } from '../lifecycle/export-types.js';
import type { TargetVars } from '../lifecycle/module-env.js';
import type { PhaseContext } from '../lifecycle/phase-context.js';
import type { GroupMember, PlanFile } from '../spec/models.js';
import type { PhasesInput } from './build-phases.js';

export interface ExtensionsResult {
  /** The image bin/build runs in: the extended builder, or the builder. */
  buildImage: ImageInfo;
  runImage: ExportRunImage;
  /** CNB_TARGET_* of the (possibly switched) run image. */
  targetVars: TargetVars;
  /** The working plan after extensions consumed their entries (digest 4.6, edge 30). */
  plan: PlanFile;
  warnings: string[];
}

export function mirrorsOf(input: Pick<PhasesInput, 'builder'>, image: string): string[] {
  return input.builder.runImages.find((r) => r.image === image)?.mirrors ?? [];
}

export async function runExtensions(ctx: PhaseContext, input: PhasesInput, groupExtensions: GroupMember[], plan: PlanFile): Promise<ExtensionsResult> {
  const plain: ExtensionsResult = {
    buildImage: input.builder.info,
    runImage: { info: input.runImage.info, reference: input.runImage.info.id, image: input.runImage.ref, mirrors: mirrorsOf(input, input.runImage.ref) },
    targetVars: input.runImage.vars,
    plan,
    warnings: [],
  };
  if (groupExtensions.length === 0) return plain;
  return runWithExtensions(ctx, input, groupExtensions, plan, plain);
}

async function runWithExtensions(_ctx: PhaseContext, _input: PhasesInput, _ext: GroupMember[], _plan: PlanFile, plain: ExtensionsResult): Promise<ExtensionsResult> {
  // Wired to generate.ts / extend.ts once they land.
  return Promise.resolve(plain);
}

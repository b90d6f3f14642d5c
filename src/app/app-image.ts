/**
 * Reading an app image kiln (or any CNB platform) built: its config and io.buildpacks.lifecycle.metadata
 * (platform.md, "Labels"). Used by rebase, inspect and the reuse check of a build (input-key.ts), so it
 * imports nothing of theirs.
 */
import { ExitCode, KilnError } from '../errors.js';
import { decodeLifecycleMetadata, LIFECYCLE_METADATA_LABEL, type LifecycleMetadata } from '../image/lifecycle-labels.js';
import type { ContainerEngine, ImageInfo } from '../ports.js';

/** The app image and its decoded io.buildpacks.lifecycle.metadata (exit 72 when it is no buildpacks image). */
export async function readAppImage(engine: ContainerEngine, image: string, action: string): Promise<{ app: ImageInfo; md: LifecycleMetadata }> {
  const app = await engine.inspectImage(image);
  if (app === undefined) throw new KilnError({ action, cause: `image ${image} does not exist in the Docker daemon`, exitCode: ExitCode.missingImage });
  const text = app.config.labels[LIFECYCLE_METADATA_LABEL];
  if (text === undefined) throw new KilnError({ action, cause: `${image} has no ${LIFECYCLE_METADATA_LABEL} label: it was not built with buildpacks`, exitCode: ExitCode.rebase });
  try {
    return { app, md: decodeLifecycleMetadata(text) };
  } catch (e) {
    throw new KilnError({ action, cause: (e as Error).message, exitCode: ExitCode.rebase, original: e });
  }
}

/**
 * `kiln builder inspect`: the builder image's labels and env as a BuilderSummary (platform.md, "Build Image").
 */
import { summariseBuilder, type BuilderSummary } from '../builder/builder-summary.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine } from '../ports.js';

export async function inspectBuilder(engine: ContainerEngine, image: string): Promise<BuilderSummary> {
  const info = await engine.inspectImage(image);
  if (info === undefined) {
    throw new KilnError({
      action: `inspect builder ${image}`,
      cause: `the image ${image} is not in the Docker daemon`,
      hint: 'create it with `kiln builder create <name> --config builder.toml`',
      exitCode: ExitCode.missingImage,
      subject: image,
    });
  }
  return summariseBuilder(image, info);
}

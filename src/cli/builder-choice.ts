/**
 * Which builder `kiln build` uses (issue 17): `-B/--builder`, else project.toml's builder
 * (`[io.buildpacks] builder`), else `kiln config default-builder`; none is a usage error naming all three.
 */
import { readProject } from '../app/build-app.js';
import type { KilnConfig } from '../config/kiln-config.js';
import { kilnConfigPath } from '../config/kiln-config.js';
import { ExitCode, KilnError } from '../errors.js';

export async function chooseBuilder(flags: { builder?: string; path: string; descriptor?: string }, config: KilnConfig): Promise<string> {
  if (flags.builder !== undefined && flags.builder !== '') return flags.builder;
  const project = await readProject({ path: flags.path, ...(flags.descriptor !== undefined ? { descriptor: flags.descriptor } : {}) });
  if (project?.builder !== undefined) return project.builder;
  if (config.defaultBuilder !== undefined) return config.defaultBuilder;
  throw new KilnError({
    action: 'choose the builder',
    cause: 'no builder was given',
    hint: `pass --builder <image>, set builder in project.toml ([io.buildpacks] builder = "<image>"), or set a default with \`kiln config default-builder <image>\` (${kilnConfigPath()})`,
    exitCode: ExitCode.usage,
  });
}

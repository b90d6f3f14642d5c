/**
 * What a build and a detect read from the app's project descriptor (extensions/project-descriptor.md):
 * the descriptor itself (--descriptor, else <path>/project.toml when it exists) and the platform env it
 * contributes. One place, so `kiln build` and `kiln detect` see the same project.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import type { ProjectDescriptor } from '../cnb/models.js';
import { parseProjectDescriptor } from '../cnb/project-descriptor.js';
import { throwOnErrors } from '../cnb/spec-error.js';
import type { Env } from '../lifecycle/container/module-env.js';

export async function readProject(req: { descriptor?: string; path: string }): Promise<ProjectDescriptor | undefined> {
  const file = req.descriptor !== undefined ? resolve(req.descriptor) : join(resolve(req.path), 'project.toml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (req.descriptor === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError({ action: `read ${file}`, cause: (e as Error).message, exitCode: ExitCode.config, original: e });
  }
  return throwOnErrors(parseProjectDescriptor(text, file), `read ${file}`);
}

/** project.toml build env first; --env/--env-file win (pack's order). */
export function platformEnvOf(project: ProjectDescriptor | undefined, env: Env): Env {
  return { ...Object.fromEntries((project?.buildEnv ?? []).map((e) => [e.name, e.value])), ...env };
}

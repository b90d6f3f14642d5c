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
import { formatIssue, throwOnErrors } from '../cnb/spec-error.js';
import type { Env } from '../lifecycle/container/module-env.js';

/** The project descriptor's path: --descriptor, else <path>/project.toml. */
export function projectFileOf(req: { descriptor?: string; path: string }): string {
  return req.descriptor !== undefined ? resolve(req.descriptor) : join(resolve(req.path), 'project.toml');
}

/** project.toml, parsed; its warnings (the legacy 0.1 schema, unknown keys) go to `warn`. */
export async function readProject(req: { descriptor?: string; path: string }, warn?: (message: string) => void): Promise<ProjectDescriptor | undefined> {
  const file = projectFileOf(req);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (req.descriptor === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError({ action: `read ${file}`, cause: (e as Error).message, exitCode: ExitCode.config, original: e });
  }
  const parsed = parseProjectDescriptor(text, file);
  const project = throwOnErrors(parsed, `read ${file}`);
  for (const w of parsed.issues.filter((i) => i.severity === 'warning')) warn?.(formatIssue(w));
  return project;
}

/** project.toml build env first; --env/--env-file win (pack's order). */
export function platformEnvOf(project: ProjectDescriptor | undefined, env: Env): Env {
  return { ...Object.fromEntries((project?.buildEnv ?? []).map((e) => [e.name, e.value])), ...env };
}

/**
 * An inline buildpack of project.toml (extensions/project-descriptor.md, "io.buildpacks.group", `script`):
 * a buildpack whose bin/build is the entry's `inline` script run by its `shell`, and whose bin/detect
 * always passes. Pure: the files, which the caller writes to a temp dir and adds like any buildpack dir.
 */
import { stringifyToml } from './toml.js';
import { apiLessThan, parseApiVersion } from './api-version.js';
import type { ModuleRef } from './models.js';

export interface InlineFile {
  path: string;
  content: string;
  mode: number;
}

/** The version of an inline buildpack whose entry gives none. */
export const INLINE_DEFAULT_VERSION = '0.0.0';

/** buildpack.toml, bin/detect and bin/build of the inline buildpack of `ref` (which has a script). */
export function inlineBuildpackFiles(ref: ModuleRef): InlineFile[] {
  const script = ref.script;
  if (script === undefined) throw new Error(`${ref.id} has no inline script`);
  const descriptor: Record<string, unknown> = {
    api: script.api,
    buildpack: { id: ref.id, version: ref.version !== '' ? ref.version : INLINE_DEFAULT_VERSION, name: `inline buildpack ${ref.id}` },
  };
  // Before Buildpack API 0.10 a buildpack names the stacks it supports (buildpack.md, "buildpack.toml (TOML)" `[[stacks]]`).
  if (parseApiVersion(script.api) !== undefined && apiLessThan(script.api, '0.10')) descriptor.stacks = [{ id: '*' }];
  const body = script.inline.endsWith('\n') ? script.inline : `${script.inline}\n`;
  return [
    { path: 'buildpack.toml', content: stringifyToml(descriptor), mode: 0o644 },
    { path: 'bin/detect', content: '#!/bin/sh\nexit 0\n', mode: 0o755 },
    // The shell was checked to be an absolute path without spaces (project-descriptor.ts).
    { path: 'bin/build', content: `#!${script.shell}\n${body}`, mode: 0o755 },
  ];
}

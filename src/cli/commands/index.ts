import type { Command } from 'commander';
import { registerAuthorCommands } from './author.js';
import { registerBuild } from './build.js';
import { registerConfig } from './config.js';
import { registerBuilderCommands } from './builder-inspect.js';
import { registerDetect } from './detect.js';
import { registerInspect } from './inspect.js';
import { registerPackageCommands } from './package.js';
import { registerPrune } from './prune.js';
import { registerRebase } from './rebase.js';
import { registerSbom } from './sbom.js';
import { registerStackCommands } from './stack-create.js';

/** Each command file exports a register function; this is the one list of them. */
export function registerCommands(program: Command): void {
  registerBuild(program);
  registerDetect(program);
  registerBuilderCommands(program);
  registerStackCommands(program);
  registerRebase(program);
  registerInspect(program);
  registerSbom(program);
  registerPackageCommands(program);
  registerAuthorCommands(program);
  registerConfig(program);
  registerPrune(program);
  // Commands are added here as they land (builder create/inspect, build, rebase, inspect, ...).
}

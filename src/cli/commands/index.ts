import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerAuthorCommands } from './author.js';
import { registerBuild } from './build.js';
import { registerConfig } from './config.js';
import { registerBuilderCommands } from './builder-inspect.js';
import { registerDetect } from './detect.js';
import { registerGenerate } from './generate.js';
import { registerInspect } from './inspect.js';
import { registerPackageCommands } from './package.js';
import { registerPrune } from './prune.js';
import { registerRebase } from './rebase.js';
import { registerSbom } from './sbom.js';
import { registerStackCommands } from './stack-create.js';

/** Each command file exports a register function taking the program and the run's context (context.ts); this is the one list of them. */
export function registerCommands(program: Command, ctx: CliContext): void {
  registerBuild(program, ctx);
  registerDetect(program, ctx);
  registerGenerate(program, ctx);
  registerBuilderCommands(program, ctx);
  registerStackCommands(program, ctx);
  registerRebase(program, ctx);
  registerInspect(program, ctx);
  registerSbom(program, ctx);
  registerPackageCommands(program, ctx);
  registerAuthorCommands(program, ctx);
  registerConfig(program, ctx);
  registerPrune(program, ctx);
}

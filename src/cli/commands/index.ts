import type { Command } from 'commander';
import { registerBuild } from './build.js';

/** Each command file exports a register function; this is the one list of them. */
export function registerCommands(program: Command): void {
  registerBuild(program);
  // Commands are added here as they land (builder create/inspect, build, rebase, inspect, ...).
}

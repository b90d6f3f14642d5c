import type { Command } from 'commander';

/** Each command file exports a register function; this is the one list of them. */
export function registerCommands(_program: Command): void {
  // Commands are added here as they land (builder create/inspect, build, rebase, inspect, ...).
}

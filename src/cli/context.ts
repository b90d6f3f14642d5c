/**
 * What the composition root (main.ts) builds once per run and hands to every command (issue 16 point
 * 3): the container engine, the output (reporter and result printing, ui/command-output.ts), the clock
 * and the id source. Commands take these from here and construct none of them. Both the engine and the
 * output are created on first use, so `kiln --version` and `kiln --help` load neither dockerode nor the
 * renderers (issue 21: start-up; test/unit/cli/startup-imports.test.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, ContainerEngine, IdSource } from '../ports.js';
import type { CommandOutput, CommandOutputOptions } from '../ui/command-output.js';
import { KILN_VERSION } from './version.js';

export interface CliContext {
  version: string;
  /** The container engine, made on the first call (later calls give the same one). */
  engine(): Promise<ContainerEngine>;
  /** The command's output under the one output policy (ui/command-output.ts). */
  output(opts: CommandOutputOptions): Promise<CommandOutput>;
  ids: IdSource;
  clock: Clock;
}

export interface CliContextDeps {
  /** Makes the engine; default: the Docker daemon of DOCKER_HOST (docker/docker-engine.ts createDockerEngine). */
  createEngine?: () => ContainerEngine | Promise<ContainerEngine>;
  ids?: IdSource;
  clock?: Clock;
}

/** The default engine factory: loads the Docker adapter (and dockerode) only when called. */
export async function createEngine(): Promise<ContainerEngine> {
  const { createDockerEngine } = await import('../docker/docker-engine.js');
  return createDockerEngine();
}

export function createCliContext(deps: CliContextDeps = {}): CliContext {
  let engine: Promise<ContainerEngine> | undefined;
  const make = deps.createEngine ?? createEngine;
  return {
    version: KILN_VERSION,
    engine: () => (engine ??= Promise.resolve().then(make)),
    output: async (opts) => (await import('../ui/command-output.js')).openCommandOutput(opts),
    ids: deps.ids ?? { newId: () => randomBytes(6).toString('hex') },
    clock: deps.clock ?? { now: () => Date.now() },
  };
}

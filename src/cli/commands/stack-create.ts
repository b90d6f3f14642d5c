/**
 * `kiln stack create <busybox|debian>`: build and run base images made offline (issue 3): busybox from
 * Debian's busybox-static package, Debian bookworm from a debootstrap rootfs.
 */
import type { Command } from 'commander';
import { createStack, DEFAULT_STACK_IMAGES, STACKS } from '../../app/create-stack.js';
import { ExitCode, KilnError } from '../../errors.js';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';

interface StackCreateOptions {
  buildImage?: string;
  runImage?: string;
  uid?: string;
  gid?: string;
  json?: boolean;
  quiet?: boolean;
}

function id(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) === 0) {
    throw new KilnError({ action: 'create a stack', cause: `${flag} ${value} is not a non-root numeric id`, exitCode: ExitCode.usage });
  }
  return Number(value);
}

export function registerStackCommands(program: Command, ctx: CliContext): void {
  const stack = program.command('stack').description('make base images (build + run) without a registry');
  stack
    .command('create')
    .description(
      `create a stack's build and run images: ${STACKS.map((s) => `${s} -> ${DEFAULT_STACK_IMAGES[s].build}, ${DEFAULT_STACK_IMAGES[s].run}`).join('; ')}`,
    )
    .argument('<stack>', STACKS.join(' | '))
    .option('--build-image <ref>', 'tag of the build image', (v: string) => checkImageRef(v, '--build-image'))
    .option('--run-image <ref>', 'tag of the run image', (v: string) => checkImageRef(v, '--run-image'))
    .option('--uid <uid>', 'CNB user id (default 1000)')
    .option('--gid <gid>', 'CNB group id (default 1000)')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'print only warnings and errors')
    .action(async (name: string, opts: StackCreateOptions) => {
      const uid = id(opts.uid, '--uid');
      const gid = id(opts.gid, '--gid');
      const output = await ctx.output({ style: 'lines', quiet: opts.quiet === true, json: opts.json === true });
      const result = await createStack(
        await ctx.engine(),
        {
          stack: name,
          ...(opts.buildImage !== undefined ? { buildImage: opts.buildImage } : {}),
          ...(opts.runImage !== undefined ? { runImage: opts.runImage } : {}),
          ...(uid !== undefined ? { uid } : {}),
          ...(gid !== undefined ? { gid } : {}),
        },
        output.reporter,
      );
      output.result(result, `created ${result.buildImage} (${result.buildId})\ncreated ${result.runImage} (${result.runId})\n`);
    });
}

/**
 * `kiln prune [--caches] [--extended] [--all] [--dry-run]`: removes what kiln runs that died before
 * their cleanup left behind (app/prune.ts); KILN_LABELS limits it to resources carrying those labels.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { EPHEMERAL_BUILDER_LABEL, EXTEND_CACHE_LABEL } from '../../cnb/labels.js';
import { labelsFromEnv } from './build.js';

interface PruneFlags {
  caches?: boolean;
  extended?: boolean;
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerPrune(program: Command, ctx: CliContext): void {
  program
    .command('prune')
    .description('Remove what kiln runs that died (SIGKILL, crash) left behind: containers, volumes and images of sessions whose kiln is gone')
    .option('--caches', 'also remove cache volumes of app images that no longer exist')
    .option('--extended', `also remove kept extended builder and run images (${EXTEND_CACHE_LABEL}) and ephemeral builders (${EPHEMERAL_BUILDER_LABEL})`)
    .option('--all', 'the same as --caches --extended')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: PruneFlags) => {
      // Loaded when the command runs, not at start-up (issue 21).
      const { prune } = await import('../../app/prune.js');
      const output = await ctx.output({ style: 'progress', ...(flags.json === true ? { json: true } : {}) });
      const result = await prune(
        { engine: await ctx.engine(), reporter: output.reporter },
        {
          caches: flags.caches === true || flags.all === true,
          extended: flags.extended === true || flags.all === true,
          dryRun: flags.dryRun === true,
          ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
        },
      );
      const dead = result.sessions.filter((s) => s.state === 'dead');
      output.result(
        { ok: true, dryRun: flags.dryRun === true, ...result },
        `${flags.dryRun === true ? 'would remove' : 'removed'}: ${dead.length} dead session(s), ${result.tempDirs.length} temp dir(s), ${result.caches.length} cache volume(s), ${result.extended.length} extended image(s)\n`,
      );
    });
}

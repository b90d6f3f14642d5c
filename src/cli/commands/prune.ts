/**
 * `kiln prune [--caches] [--extended] [--all] [--dry-run]`: removes what kiln runs that died before
 * their cleanup left behind (app/prune.ts); KILN_LABELS limits it to resources carrying those labels.
 */
import type { Command } from 'commander';
import type { ContainerEngine } from '../../ports.js';
import { labelsFromEnv } from './build.js';
import { defaultEngine } from './builder-create.js';

interface PruneFlags {
  caches?: boolean;
  extended?: boolean;
  all?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerPrune(program: Command, getEngine: () => Promise<ContainerEngine> = defaultEngine): void {
  program
    .command('prune')
    .description('Remove what kiln runs that died (SIGKILL, crash) left behind: containers, volumes and images of sessions whose kiln is gone')
    .option('--caches', 'also remove cache volumes of app images that no longer exist')
    .option('--extended', 'also remove kept extended builder and run images (io.kiln.extend-cache) and ephemeral builders (io.kiln.ephemeral-builder)')
    .option('--all', 'the same as --caches --extended')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: PruneFlags) => {
      // Loaded when the command runs, not at start-up (issue 21).
      const [{ prune }, { createCliReporter }] = await Promise.all([import('../../app/prune.js'), import('../../ui/cli-output.js')]);
      const reporter = await createCliReporter({ ...(flags.json === true ? { json: true } : {}) });
      const result = await prune(
        { engine: await getEngine(), reporter },
        {
          caches: flags.caches === true || flags.all === true,
          extended: flags.extended === true || flags.all === true,
          dryRun: flags.dryRun === true,
          ...(process.env.KILN_LABELS !== undefined ? { labels: labelsFromEnv(process.env.KILN_LABELS) } : {}),
        },
      );
      const dead = result.sessions.filter((s) => s.state === 'dead');
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ ok: true, dryRun: flags.dryRun === true, ...result }, null, 2)}\n`);
      else process.stdout.write(`${flags.dryRun === true ? 'would remove' : 'removed'}: ${dead.length} dead session(s), ${result.tempDirs.length} temp dir(s), ${result.caches.length} cache volume(s), ${result.extended.length} extended image(s)\n`);
    });
}

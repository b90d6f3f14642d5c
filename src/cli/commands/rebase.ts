/**
 * `kiln rebase <image> [--run-image IMG] [--force] [--publish]` (platform.md, "`rebaser`"): the app layers moved onto
 * a new run image; refusals (rebasable=false, a run image outside image/mirrors) exit 72 unless --force.
 * --reextend re-applies the recorded run.Dockerfiles on the new run image (KILN_LABELS label the intermediates).
 */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';
import { labelsFromEnv } from './build.js';
import { ALLOW_REMOTE_FLAG } from '../../image/dockerfile-remote.js';
import { EXTENSION_NETWORK_FLAG, parseExtensionNetwork, refuseExposedHostNetwork } from '../network-flags.js';
import { fetcherFor, PULL_POLICY_OPTION } from '../pull-options.js';

interface RebaseFlags {
  runImage?: string;
  force?: boolean;
  reextend?: boolean;
  publish?: boolean;
  pullPolicy?: string;
  json?: boolean;
  quiet?: boolean;
  extensionNetwork?: string;
  allowDockerfileRemote?: boolean;
}

export function registerRebase(program: Command, ctx: CliContext): void {
  program
    .command('rebase <image>')
    .description('Move an app image onto a new run image without rebuilding (keeps every layer above the run image)')
    .option('--run-image <image>', 'run image to rebase onto (default: the recorded run image or a mirror)', (v: string) => checkImageRef(v, '--run-image'))
    .option('--force', 'rebase even if the image is not rebasable or the run image is not the recorded one')
    .option('--reextend', 're-apply the run.Dockerfiles recorded at build time onto the new run image (for extended images)')
    .option(`${EXTENSION_NETWORK_FLAG} <none|host>`, 'with --reextend: network of the run.Dockerfiles\' RUN steps (default none)')
    .option(ALLOW_REMOTE_FLAG, 'with --reextend: allow ADD <url> and COPY --from= in the recorded run.Dockerfiles')
    .option('--publish', 'push the rebased image to its registry afterwards')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'show only warnings and errors')
    .option(...PULL_POLICY_OPTION)
    .action(async (image: string, flags: RebaseFlags) => {
      checkImageRef(image, 'kiln rebase <image>');
      const extensionNetwork = flags.extensionNetwork !== undefined ? parseExtensionNetwork(flags.extensionNetwork) : undefined;
      await refuseExposedHostNetwork({ [EXTENSION_NETWORK_FLAG]: extensionNetwork });
      const dockerfiles = { ...(extensionNetwork !== undefined ? { extensionNetwork } : {}), ...(flags.allowDockerfileRemote === true ? { allowDockerfileRemote: true } : {}) };
      const engine = await ctx.engine();
      const output = await ctx.output({ style: 'lines', quiet: flags.quiet === true, json: flags.json === true });
      const reporter = output.reporter;
      const fetcher = await fetcherFor(flags, engine, reporter);
      const { rebaseApp } = await import('../../app/rebase-app.js');
      const out = await rebaseApp(
        { engine, reporter, fetcher },
        { image, ...(flags.runImage !== undefined ? { runImage: flags.runImage } : {}), force: flags.force === true, reextend: flags.reextend === true, publish: flags.publish === true, labels: labelsFromEnv(process.env.KILN_LABELS), ...dockerfiles },
      );
      output.result(out, `rebased ${image} onto ${out.runImage}: ${out.imageId}\n`);
    });
}

/** `kiln inspect <image> [--json]`: an app image's run image, extensions, buildpacks, processes, layers, SBOM. */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command('inspect <image>')
    .description('Show what a buildpacks app image holds (run image, extensions, buildpacks, processes, layers, SBOM)')
    .option('--json', 'print JSON for tools instead of text')
    .action(async (image: string, opts: { json?: boolean }) => {
      checkImageRef(image, 'kiln inspect <image>');
      const { formatAppImageSummary, inspectApp } = await import('../../app/inspect-app.js');
      const s = await inspectApp(await ctx.engine(), image);
      (await ctx.output({ json: opts.json === true })).result(s, () => formatAppImageSummary(s));
    });
}

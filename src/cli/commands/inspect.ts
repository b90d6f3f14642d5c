/** `kiln inspect <image> [--json]`: an app image's run image, extensions, buildpacks, processes, layers, SBOM. */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { ContainerEngine } from '../../ports.js';
import { defaultEngine } from './builder-create.js';

export function registerInspect(program: Command, getEngine: () => Promise<ContainerEngine> = defaultEngine): void {
  program
    .command('inspect <image>')
    .description('Show what a buildpacks app image holds (run image, extensions, buildpacks, processes, layers, SBOM)')
    .option('--json', 'print JSON for tools instead of text')
    .action(async (image: string, opts: { json?: boolean }) => {
      checkImageRef(image, 'kiln inspect <image>');
      const { formatAppImageSummary, inspectApp } = await import('../../app/inspect-app.js');
      const s = await inspectApp(await getEngine(), image);
      process.stdout.write(opts.json === true ? `${JSON.stringify(s, null, 2)}\n` : formatAppImageSummary(s));
    });
}

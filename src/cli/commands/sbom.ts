/** `kiln sbom download <image> [--output-dir DIR]`: the launch SBOM files of an app image. */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { CliContext } from '../context.js';

export function registerSbom(program: Command, ctx: CliContext): void {
  const sbom = program.command('sbom').description('work with the SBOM of an app image');
  sbom
    .command('download <image>')
    .description('write the launch SBOM files of an image (layers/sbom/launch/...) below a directory')
    .option('-o, --output-dir <dir>', 'directory to write into', '.')
    .action(async (image: string, opts: { outputDir: string }) => {
      checkImageRef(image, 'kiln sbom download <image>');
      const { downloadSbom } = await import('../../app/sbom-download.js');
      const r = await downloadSbom(await ctx.engine(), image, opts.outputDir);
      (await ctx.output({})).text(r.files.map((f) => `${join(r.outputDir, f)}\n`).join(''));
    });
}

function join(a: string, b: string): string {
  return `${a.replace(/\/$/, '')}/${b}`;
}

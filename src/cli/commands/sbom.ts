/** `kiln sbom download <image> [--output-dir DIR]`: the launch SBOM files of an app image. */
import type { Command } from 'commander';
import { checkImageRef } from '../../image/image-ref.js';
import type { ContainerEngine } from '../../ports.js';
import { defaultEngine } from './builder-create.js';

export function registerSbom(program: Command, getEngine: () => Promise<ContainerEngine> = defaultEngine): void {
  const sbom = program.command('sbom').description('work with the SBOM of an app image');
  sbom
    .command('download <image>')
    .description('write the launch SBOM files of an image (layers/sbom/launch/...) below a directory')
    .option('-o, --output-dir <dir>', 'directory to write into', '.')
    .action(async (image: string, opts: { outputDir: string }) => {
      checkImageRef(image, 'kiln sbom download <image>');
      const { downloadSbom } = await import('../../app/sbom-download.js');
      const r = await downloadSbom(await getEngine(), image, opts.outputDir);
      for (const f of r.files) process.stdout.write(`${join(r.outputDir, f)}\n`);
    });
}

function join(a: string, b: string): string {
  return `${a.replace(/\/$/, '')}/${b}`;
}

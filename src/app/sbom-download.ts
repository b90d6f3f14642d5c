/**
 * `kiln sbom download <image> [--output-dir DIR]`: the image's launch SBOM files (buildpack.md, "Software-Bill-of-Materials"; platform.md, "Labels" `sbom`).
 * The SBOM layer's diffID is in io.buildpacks.lifecycle.metadata; that layer is taken out of `docker save`
 * (no container is run) and its files under layers/sbom/launch are written below DIR, keeping the
 * `layers/sbom/launch/<buildpack>/…` paths pack's `sbom download` writes.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { readTar, safeEntryPath } from '../image/tar-files.js';
import { layersFromSavedImage } from '../lifecycle/export/load.js';
import type { ContainerEngine } from '../ports.js';
import { readAppImage } from './rebase-app.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';

export interface SbomDownloadResult {
  outputDir: string;
  /** Paths written, relative to outputDir. */
  files: string[];
}

export async function downloadSbom(engine: ContainerEngine, image: string, outputDir: string): Promise<SbomDownloadResult> {
  const action = `download the SBOM of ${image}`;
  const { app, md } = await readAppImage(engine, image, action);
  const sha = md.sbom?.sha ?? '';
  if (sha === '') throw new KilnError({ action, cause: `${image} has no SBOM layer (no buildpack wrote a launch SBOM)`, exitCode: ExitCode.generic });
  const tmp = await makeKilnTempDir('sbom');
  try {
    const found = await layersFromSavedImage({ engine }, app.id, new Set([sha]), tmp);
    const layer = found.get(sha);
    if (layer === undefined) throw new KilnError({ action, cause: `layer ${sha} is not in docker save of the image` });
    const out = resolve(outputDir);
    const files: string[] = [];
    for (const e of await readTar(createReadStream(layer.path), { maxBytes: 512 * 1024 * 1024 })) {
      const rel = safeEntryPath(e.path);
      if (rel === undefined || e.type !== 'file' || !rel.startsWith('layers/sbom/launch/')) continue;
      const dest = join(out, rel);
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, e.content);
      files.push(rel);
    }
    return { outputDir: out, files: files.sort() };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

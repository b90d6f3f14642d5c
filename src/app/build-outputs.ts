/**
 * What `kiln build` writes besides the image, as pack does: `--sbom-output-dir` gets the build's
 * <layers>/sbom tree (`launch/`, `build/`, `cache/` by buildpack and layer; buildpack.md,
 * "Software-Bill-of-Materials"), `--report-output-dir` gets report.toml (platform.md, "report.toml (TOML)"),
 * and every `--tag` names the image (also a reused one).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { safeEntryPath } from '../image/tar-files.js';
import { stringifyToml } from '../cnb/toml.js';
import type { SbomCopy } from '../lifecycle/build-post.js';
import type { ContainerEngine } from '../ports.js';

function writeFailed(what: string, dir: string, e: unknown): KilnError {
  return new KilnError({ action: `write ${what} to ${dir}`, cause: e instanceof Error ? e.message : String(e), hint: 'pass a directory you can write to', exitCode: ExitCode.generic, subject: dir, original: e });
}

/** Writes the SBOM files below `dir` (paths as below <layers>/sbom); returns the paths written, relative to dir. */
export async function writeSbomOutput(dir: string, files: readonly SbomCopy[]): Promise<string[]> {
  const out = resolve(dir);
  const written: string[] = [];
  try {
    await mkdir(out, { recursive: true });
    for (const f of files) {
      const rel = safeEntryPath(f.to.replace(/^sbom\//, ''));
      if (rel === undefined) continue;
      await mkdir(dirname(join(out, rel)), { recursive: true });
      await writeFile(join(out, rel), f.content);
      written.push(rel);
    }
  } catch (e) {
    throw writeFailed('the SBOM files', out, e);
  }
  return written.sort();
}

/** report.toml (platform.md, "report.toml (TOML)"): every tag, the daemon's image id, and the digest once pushed. */
export function reportToml(r: { tags: readonly string[]; imageId: string; digest?: string }): string {
  return stringifyToml({ image: { tags: [...r.tags], ...(r.digest !== undefined ? { digest: r.digest } : {}), 'image-id': r.imageId } });
}

export async function writeReport(dir: string, r: { tags: readonly string[]; imageId: string; digest?: string }): Promise<string> {
  const out = resolve(dir);
  const file = join(out, 'report.toml');
  try {
    await mkdir(out, { recursive: true });
    await writeFile(file, reportToml(r));
  } catch (e) {
    throw writeFailed('report.toml', out, e);
  }
  return file;
}

/** Points every tag at the image (export already did for a built image; a reused one gets them here). */
export async function applyTags(engine: ContainerEngine, imageId: string, tags: readonly string[]): Promise<void> {
  for (const t of tags) await engine.tagImage(imageId, t);
}

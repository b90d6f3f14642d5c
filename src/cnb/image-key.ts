/**
 * Image references in config files (builder.toml build/run images and mirrors, run.toml, stack.toml)
 * are checked against the reference grammar when the file is read (image/image-ref.ts), so a bad one is
 * a config error naming the file and key, never a daemon call.
 */
import { imageRefProblem } from '../image/image-ref.js';
import type { DecodeContext } from './decode.js';

export function checkImageKey(ctx: DecodeContext, keyPath: string, ref: string | undefined): void {
  if (ref === undefined || ref === '') return;
  const problem = imageRefProblem(ref);
  if (problem !== undefined) ctx.error(keyPath, `"${ref}" is not a valid image reference: ${problem}`);
}

/** An image and its mirrors, as run.toml and builder.toml [[run.images]] hold them. */
export function checkImageAndMirrors(ctx: DecodeContext, keyPath: (key: string) => string, image: string, mirrors: readonly string[], mirrorsKey = 'mirrors'): void {
  checkImageKey(ctx, keyPath('image'), image);
  mirrors.forEach((m, i) => checkImageKey(ctx, `${keyPath(mirrorsKey)}[${i}]`, m));
}

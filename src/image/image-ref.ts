import { ExitCode, KilnError } from '../errors.js';

/**
 * "name" means "name:latest" (Docker's rule). An image archive's RepoTags must carry the tag, so image
 * names kiln writes (app images, builders) are normalised before anything else uses them; digests are
 * refused because kiln writes a tag.
 */
export function withDefaultTag(ref: string): string {
  if (ref.includes('@')) {
    throw new KilnError({ action: `use ${ref} as an image name to write`, cause: 'a digest reference cannot be written', hint: 'give a name with an optional :tag', exitCode: ExitCode.usage });
  }
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return last.includes(':') ? ref : `${ref}:latest`;
}

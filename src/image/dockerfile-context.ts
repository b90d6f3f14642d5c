/**
 * Whether a Dockerfile build can read its build context. image_extension.md, "Phase: Extension", makes the
 * app directory the context of a Dockerfile whose extension gives no context directory; only some
 * instructions ever read it. When none can, kiln sends an empty context: the result is the same, the app
 * need not be read out of its volume, and an app change does not change the extended image's cache key
 * (extend/cache.ts), so the Dockerfile is not built again.
 */
import { BASE_IMAGE_REF, dockerfileStructure, parseDockerfile } from './dockerfile.js';

/**
 * True when a build of `text` on a base whose ONBUILD triggers are `baseOnBuild` may read the context:
 * a COPY or ADD in the file (COPY --from counted too, to stay simple), a RUN with --mount (BuildKit), a
 * stage on any base other than `${base_image}` (its triggers are unknown here), or any ONBUILD trigger of
 * the base (triggers run first, and may COPY). The file's own ONBUILD lines run only in a later build on
 * top of this one, which checks its base again. A file that does not parse counts as reading.
 */
export function dockerfileReadsContext(text: string, baseOnBuild: readonly string[]): boolean {
  if (baseOnBuild.length > 0) return true;
  const parsed = parseDockerfile(text, 'Dockerfile').value;
  const structure = parsed !== undefined ? dockerfileStructure(parsed, 'Dockerfile').value : undefined;
  if (structure === undefined) return true;
  for (const stage of structure.stages) {
    if (stage.baseName !== BASE_IMAGE_REF) return true;
    for (const ins of stage.commands) {
      if (ins.keyword === 'COPY' || ins.keyword === 'ADD') return true;
      if (ins.keyword === 'RUN' && ins.flags.some((f) => f.toLowerCase().startsWith('--mount'))) return true;
    }
  }
  return false;
}

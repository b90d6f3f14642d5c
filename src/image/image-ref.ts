import { ExitCode, KilnError } from '../errors.js';

/**
 * The image reference grammar (the distribution project's `reference` grammar, which the Docker Engine
 * API and OCI registries use): `[domain[:port]/]path[:tag][@digest]`. Every image reference kiln takes
 * (flags, arguments, builder.toml, run.toml, `docker://` uris) is checked here before any call to the
 * daemon: a reference outside the grammar (uppercase in the path, an empty component from `//`, a bad
 * digest) makes the daemon answer with a redirect or a confusing error (issue 14), so it is refused with
 * the rule it breaks.
 */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME = 255;

/** Why `ref` is not an image reference, as the rule it breaks; undefined when it is one. */
export function imageRefProblem(ref: string): string | undefined {
  if (ref === '') return 'it is empty';
  if (/\s/.test(ref)) return 'it contains white space';
  let rest = ref;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return `the digest "${digest}" must be <algorithm>:<hex>, e.g. sha256: and 64 hex digits`;
    if (digest.startsWith('sha256:') && !/^sha256:[0-9a-f]{64}$/.test(digest)) return 'a sha256 digest is exactly 64 lowercase hex digits';
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    const tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `the tag "${tag}" must be 1 to 128 of letters, digits, '_', '.', '-' and not start with '.' or '-'`;
  }
  if (rest === '') return 'it has no repository name';
  if (rest.length > MAX_NAME) return `the repository name is longer than ${MAX_NAME} characters`;
  const parts = rest.split('/');
  if (parts.some((p) => p === '')) return "a name component is empty (no leading or trailing '/', no '//')";
  // The first component is a registry host when it looks like one (Docker's rule).
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    const problem = domainProblem(first);
    if (problem !== undefined) return problem;
    parts.shift();
  }
  for (const p of parts) {
    if (p.toLowerCase() !== p) return `the repository name must be lowercase ("${p}")`;
    if (!PATH_COMPONENT.test(p)) return `the name component "${p}" must be lowercase letters and digits, separated by '.', '_', '__' or '-'`;
  }
  return undefined;
}

function domainProblem(domain: string): string | undefined {
  const colon = domain.lastIndexOf(':');
  const host = colon >= 0 && !domain.endsWith(']') ? domain.slice(0, colon) : domain;
  const port = colon >= 0 && !domain.endsWith(']') ? domain.slice(colon + 1) : undefined;
  if (port !== undefined && !/^[0-9]+$/.test(port)) return `the registry port "${port}" must be a number`;
  if (/^\[[0-9a-fA-F:.]+\]$/.test(host)) return undefined;
  if (!host.split('.').every((c) => DOMAIN_COMPONENT.test(c))) return `the registry host "${host}" is not a host name`;
  return undefined;
}

/**
 * Throws a usage error (exit 3, or `exitCode`) naming `what` (the flag, argument or file key) and the
 * rule the reference breaks. Returns the reference.
 */
export function checkImageRef(ref: string, what: string, exitCode: number = ExitCode.usage): string {
  const problem = imageRefProblem(ref);
  if (problem !== undefined) {
    throw new KilnError({
      action: `use ${what} "${ref}"`,
      cause: `it is not a valid image reference: ${problem}`,
      hint: 'image references are [registry[:port]/]name[:tag][@sha256:<64 hex>], with a lowercase name',
      exitCode,
      subject: what,
    });
  }
  return ref;
}

/**
 * "name" means "name:latest" (Docker's rule). An image archive's RepoTags must carry the tag, so image
 * names kiln writes (app images, builders) are normalised before anything else uses them; digests are
 * refused because kiln writes a tag.
 */
export function withDefaultTag(ref: string, what = 'image name'): string {
  if (ref.includes('@')) {
    throw new KilnError({ action: `use ${ref} as an image name to write`, cause: 'a digest reference cannot be written', hint: 'give a name with an optional :tag', exitCode: ExitCode.usage });
  }
  checkImageRef(ref, what);
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return last.includes(':') ? ref : `${ref}:latest`;
}

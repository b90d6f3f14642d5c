/**
 * PURE: the instructions of an extension Dockerfile that reach outside its build context
 * (docs/reliability.md "Dockerfile builds"). The extension spec's Dockerfiles are single-stage and
 * build from `${base_image}` with the extension's own context (buildpacks/spec image_extension.md,
 * "Dockerfile Requirements"); anything else is the daemon fetching or copying on the module's behalf,
 * whatever network the RUN steps get:
 * - `ADD <url>`: the daemon downloads it (also with `--network none`); a source that uses a variable
 *   could name a URL, so it counts too (COPY copies local files; ADD adds only tar extraction);
 * - `COPY --from=<image>` (or ADD --from): the daemon copies files out of any image it holds, or pulls one;
 * - the same inside `ONBUILD`, which runs in the next extension's build on top of this one.
 * These are refused unless the user opts in (`--allow-dockerfile-remote`). BuildKit-only RUN flags
 * (`--mount`, `--network`, `--security`) could mount images or sockets, or pick a network past kiln's
 * choice, and are refused always: kiln builds with the daemon's classic builder, which has none of them.
 */
import type { SpecIssue } from '../cnb/models.js';
import { parseDockerfile, type DockerfileInstruction } from './dockerfile.js';

/** The opt-in flag, named in every message. */
export const ALLOW_REMOTE_FLAG = '--allow-dockerfile-remote';

/** A URL scheme (`https://`, `git://`, ...) or an scp-like git address (`git@host:repo`). */
const URL_LIKE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|git@)/;
/** A variable reference not escaped with a backslash ($x, ${x}). */
const VARIABLE = /(?:^|[^\\])\$(?:\{|[A-Za-z_])/;
const BUILDKIT_RUN_FLAGS = ['mount', 'network', 'security'];

function flagName(flag: string): string {
  return flag.replace(/^--/, '').split('=')[0]?.toLowerCase() ?? '';
}

function unquote(s: string): string {
  return s.length >= 2 && (s.startsWith('"') || s.startsWith("'")) && s.endsWith(s.charAt(0)) ? s.slice(1, -1) : s;
}

function issue(file: string, line: number, message: string): SpecIssue {
  return { severity: 'error', file, keyPath: '', line, message };
}

/** Issues for one instruction; `line` is where it stands (an ONBUILD's own line for its trigger, `where` = 'ONBUILD '). */
function instructionIssues(ins: DockerfileInstruction, file: string, line: number, allowRemote: boolean, where = ''): SpecIssue[] {
  const out: SpecIssue[] = [];
  if (ins.keyword === 'RUN') {
    for (const f of ins.flags) {
      if (BUILDKIT_RUN_FLAGS.includes(flagName(f))) out.push(issue(file, line, `${where}RUN ${f.split('=')[0] ?? f} is a BuildKit flag: extension Dockerfiles are built by the daemon's classic builder and may not mount, pick a network or change security`));
    }
  }
  if (allowRemote || (ins.keyword !== 'ADD' && ins.keyword !== 'COPY')) return out;
  const from = ins.flags.find((f) => flagName(f) === 'from');
  if (from !== undefined) {
    out.push(issue(file, line, `${where}${ins.keyword} ${from} copies from another image (any image in the daemon, or one it pulls); an extension Dockerfile is single-stage and copies only from its build context (allow with ${ALLOW_REMOTE_FLAG})`));
  }
  if (ins.keyword === 'ADD') {
    for (const raw of ins.args.slice(0, -1)) {
      const src = ins.json ? raw : unquote(raw);
      if (URL_LIKE.test(src)) out.push(issue(file, line, `${where}ADD ${src} makes the daemon download it, past the build's network; put the file in the extension's build context and COPY it (allow with ${ALLOW_REMOTE_FLAG})`));
      else if (VARIABLE.test(src)) out.push(issue(file, line, `${where}ADD ${src} uses a variable, which could name a URL the daemon downloads; use COPY for files of the build context (allow with ${ALLOW_REMOTE_FLAG})`));
    }
  }
  return out;
}

/**
 * Errors (file:line) for instructions that reach outside the build context; [] for a file that does not
 * parse (the structural validation reports that).
 */
export function remoteSourceIssues(text: string, file: string, opts: { allowRemote?: boolean } = {}): SpecIssue[] {
  const parsed = parseDockerfile(text, file).value;
  if (parsed === undefined) return [];
  const allow = opts.allowRemote === true;
  const out: SpecIssue[] = [];
  for (const ins of parsed.instructions) {
    if (ins.keyword === 'ONBUILD') {
      const trigger = parseDockerfile(ins.rest, file).value?.instructions[0];
      if (trigger !== undefined) out.push(...instructionIssues(trigger, file, ins.line, allow, 'ONBUILD '));
      continue;
    }
    out.push(...instructionIssues(ins, file, ins.line, allow));
  }
  return out;
}

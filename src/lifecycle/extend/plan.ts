/**
 * PURE parts of the extend phase (image_extension.md, "Phase: Extension"; platform.md, "`extender` (optional)"; image_extension.md, "extend-config.toml (TOML)", "Dockerfile Requirements"): the build args of one Dockerfile
 * application, the user checks and the rebasable computation.
 */
import type { ExtendArg } from '../../cnb/models.js';

export type ExtendKind = 'build' | 'run';

/** The label a run image (and each extension's run.Dockerfile) uses to declare rebasability. */
import { REBASABLE_LABEL } from '../../cnb/labels.js';

export { REBASABLE_LABEL };

/** `User` of an image config split on the first ':' ("1000:1000" -> 1000/1000, "cnb" -> cnb/""; image_extension.md, "Phase: Extension"). */
export function splitUser(user: string): { userId: string; groupId: string } {
  const i = user.indexOf(':');
  return i < 0 ? { userId: user, groupId: '' } : { userId: user.slice(0, i), groupId: user.slice(i + 1) };
}

/**
 * Build args in the lifecycle's order (image_extension.md, "extend-config.toml (TOML)"): base_image, build_id, user_id, group_id, then the
 * extension's own args from extend-config.toml (which cannot use the three reserved names).
 */
export function extendBuildArgs(input: { baseImage: string; buildId: string; user: string; extensionArgs: readonly ExtendArg[] }): ExtendArg[] {
  const { userId, groupId } = splitUser(input.user);
  return [
    { name: 'base_image', value: input.baseImage },
    { name: 'build_id', value: input.buildId },
    { name: 'user_id', value: userId },
    { name: 'group_id', value: groupId },
    ...input.extensionArgs,
  ];
}

/** The ordered args as the engine's map; a later duplicate wins, as with repeated --build-arg. */
export function buildArgsRecord(args: readonly ExtendArg[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) out[a.name] = a.value;
  return out;
}

/**
 * Whether an image config User runs as root: "", "0", "root", "0:<g>", "root:<g>". An empty User
 * means root to Docker, so a Dockerfile that clears it leaves the image as root.
 */
export function isRootUser(user: string): boolean {
  const { userId } = splitUser(user.trim());
  return userId === '' || userId === '0' || userId === 'root';
}

/** Go's strconv.ParseBool accepted true values; the lifecycle parses the label with it. */
export function labelIsTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/**
 * Rebasability after one more Dockerfile (platform.md, "`extender` (optional)"; image_extension.md, "Dockerfile Requirements"): start at true; AND with the resulting
 * image's label. A Dockerfile that does not set the label inherits the previous image's value.
 */
export function nextRebasable(previous: boolean, resultLabels: Readonly<Record<string, string>>): boolean {
  return previous && labelIsTrue(resultLabels[REBASABLE_LABEL]);
}

export interface UserCheck {
  warnings: string[];
  /** Set when the final run image is left as root (image_extension.md, "Phase: Extension", "Dockerfile Requirements": exit 102). */
  error?: string;
}

/**
 * The user rules of image_extension.md, "Phase: Extension"; platform.md, "`extender` (optional)": root after a Dockerfile warns; a final run image as root is an
 * error; a final user different from the original warns. `users[i]` is the User after step i.
 */
export function checkUsers(kind: ExtendKind, original: string, steps: readonly { extensionId: string; user: string }[]): UserCheck {
  const warnings: string[] = [];
  let error: string | undefined;
  steps.forEach((s, i) => {
    if (!isRootUser(s.user)) return;
    const last = i === steps.length - 1;
    if (last && kind === 'run') {
      error = `the run image is left with USER ${s.user === '' ? '(empty, i.e. root)' : s.user} after ${s.extensionId}'s run.Dockerfile; a run image left as root is refused`;
    } else warnings.push(rootUserWarning(s.extensionId, kind, i === 0 ? original : (steps[i - 1]?.user ?? original), s.user));
  });
  const final = steps[steps.length - 1];
  if (final !== undefined && error === undefined && final.user !== original) {
    warnings.push(`extensions changed the ${kind} image's user from "${original}" to "${final.user}"`);
  }
  return error !== undefined ? { warnings, error } : { warnings };
}

/** The layers a step added: the result's diffIDs above the previous image's (undefined if not a prefix). */
export function addedLayers(before: readonly string[], after: readonly string[]): string[] | undefined {
  if (after.length < before.length) return undefined;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) return undefined;
  return after.slice(before.length);
}

/** History created_by of an extension layer (platform.md exporter): `Layer: '<cmd>', Created by extension: <id>`. */
export function extensionLayerCreatedBy(command: string, extensionId: string): string {
  return `Layer: '${command}', Created by extension: ${extensionId}`;
}

/**
 * `base_image` is always the platform's (image_extension.md, build args of the extend phase): an
 * extension's own [[build.args]]/[[run.args]] entry with that name is dropped, with a warning naming the
 * extension, so it can never switch the base behind the recorded run image (the lifecycle passes its own
 * value last, to the same effect).
 */
export function platformBaseImageOnly(extensionId: string, kind: ExtendKind, args: readonly ExtendArg[]): { args: ExtendArg[]; warning?: string } {
  const kept = args.filter((a) => a.name !== 'base_image');
  if (kept.length === args.length) return { args: kept };
  return { args: kept, warning: `${extensionId}'s extend-config.toml sets the build arg "base_image" for its ${kind}.Dockerfile; it is ignored (base_image is always the image being extended). Remove it from [[${kind}.args]]` };
}

/**
 * The warning for a Dockerfile that leaves the image as root (platform.md extend phase): the next
 * Dockerfile receives that user as user_id/group_id, and a later extension has to set a non-root user.
 */
export function rootUserWarning(extensionId: string, kind: ExtendKind, previous: string, user: string): string {
  return `${extensionId}'s ${kind}.Dockerfile changed the user from "${previous}" to "${user === '' ? '(empty, i.e. root)' : user}"; root must not be the final user, so a later extension's Dockerfile has to set a non-root USER`;
}

/**
 * Rebasability of the extended run image (image_extension.md run.Dockerfile requirements, platform.md
 * extend phase): the run image itself must be labelled io.buildpacks.rebasable=true and every applied
 * run.Dockerfile must contain LABEL io.buildpacks.rebasable=true itself; a value inherited from the base
 * does not count. `dockerfilesOptIn` holds one entry per applied Dockerfile.
 */
export function extendedRebasable(originalLabels: Readonly<Record<string, string>>, dockerfilesOptIn: readonly boolean[], finalLabels: Readonly<Record<string, string>>): boolean {
  return labelIsTrue(originalLabels[REBASABLE_LABEL]) && dockerfilesOptIn.every(Boolean) && labelIsTrue(finalLabels[REBASABLE_LABEL]);
}

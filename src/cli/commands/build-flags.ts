/**
 * The `kiln build` flags pack also has (pack's internal/commands/build.go meanings): tags, modules added
 * to the builder, the CNB user, the previous image, the creation time, and the SBOM / report output
 * dirs. Declared and parsed here; build.ts puts them into the BuildRequest.
 */
import { APP_DIR, CNB_DIR, LAYERS_DIR, PLATFORM_DIR } from '../../cnb/paths.js';
import type { Command } from 'commander';
import { ExitCode, KilnError } from '../../errors.js';
import { checkImageRef, withDefaultTag } from '../../image/image-ref.js';
import type { BuildRequest } from '../../app/build-app.js';
import { posix } from 'node:path';
import { collect } from '../repeatable.js';

export interface PackBuildFlags {
  tag?: string[];
  buildpack?: string[];
  extension?: string[];
  preBuildpack?: string[];
  postBuildpack?: string[];
  previousImage?: string;
  sbomOutputDir?: string;
  reportOutputDir?: string;
  creationTime?: string;
  uid?: string;
  gid?: string;
  workspace?: string;
}

function usage(flag: string, cause: string, hint?: string): KilnError {
  return new KilnError({ action: `read ${flag}`, cause, ...(hint !== undefined ? { hint } : {}), exitCode: ExitCode.usage, subject: flag });
}

/** `--creation-time`: unix seconds or `now` -> RFC 3339 (seconds precision, as the reproducible default). */
export function parseCreationTime(value: string, now: () => Date = () => new Date()): string {
  let date: Date;
  if (value === 'now') date = now();
  else if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) date = new Date(Number(value) * 1000);
  else throw usage('--creation-time', `"${value}" is neither a Unix timestamp in seconds nor "now"`, "e.g. --creation-time 1641013200 or --creation-time now");
  if (Number.isNaN(date.getTime())) throw usage('--creation-time', `"${value}" is out of range`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `--uid` / `--gid`: a positive whole number (0 is root: modules never run as root). */
export function parseId(flag: '--uid' | '--gid', value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > 2147483647) {
    throw usage(flag, `"${value}" must be a positive number`, 'buildpacks never run as root (0); give the id of a non-root user');
  }
  return Number(value);
}

/** Paths the app must not be mounted on, under or above: the lifecycle's own (phase-context.ts) and the system's. */
const RESERVED = [LAYERS_DIR, PLATFORM_DIR, CNB_DIR, '/bin', '/sbin', '/lib', '/usr', '/etc', '/dev', '/proc', '/sys', '/tmp', '/kiln-volumes'];

/** `--workspace`: an absolute path (a relative one is taken below `/`, as pack), not `/` nor a reserved dir. */
export function parseWorkspace(value: string): string {
  const dir = posix.normalize(posix.join('/', value)).replace(/\/+$/, '');
  const bad = (cause: string): KilnError => usage('--workspace', `"${value}" ${cause}`, 'pick a directory of its own, e.g. --workspace /app');
  if (dir === '' || value.trim() === '') throw bad('is not a directory');
  if (/[\s:,]/.test(dir)) throw bad('must not contain spaces, colons or commas');
  if (RESERVED.some((r) => dir === r || dir.startsWith(`${r}/`) || r.startsWith(`${dir}/`))) throw bad(`is or overlaps a directory the build needs (${RESERVED.join(', ')})`);
  return dir;
}

/** A module flag's value (--buildpack, --extension, …): refused when empty. */
export function moduleValue(flag: string, value: string): string {
  if (value.trim() === '') throw usage(flag, 'is empty', 'name a directory, a .tgz/.cnb file, docker://<image> or <id>@<version>');
  return value;
}

/** The request fields of these flags. */
export function packFlagsRequest(image: string, f: PackBuildFlags): Partial<BuildRequest> {
  const main = withDefaultTag(image);
  const list = (v: string[] | undefined): string[] => v ?? [];
  const tags = [...new Set(list(f.tag).map((t) => withDefaultTag(checkImageRef(t, '--tag'))).filter((t) => t !== main))];
  const modules = {
    ...(list(f.buildpack).length > 0 ? { buildpacks: list(f.buildpack).map((v) => moduleValue('--buildpack', v)) } : {}),
    ...(list(f.extension).length > 0 ? { extensions: list(f.extension).map((v) => moduleValue('--extension', v)) } : {}),
    ...(list(f.preBuildpack).length > 0 ? { preBuildpacks: list(f.preBuildpack).map((v) => moduleValue('--pre-buildpack', v)) } : {}),
    ...(list(f.postBuildpack).length > 0 ? { postBuildpacks: list(f.postBuildpack).map((v) => moduleValue('--post-buildpack', v)) } : {}),
  };
  return {
    ...(tags.length > 0 ? { tags } : {}),
    ...(Object.keys(modules).length > 0 ? { modules } : {}),
    ...(f.uid !== undefined ? { uid: parseId('--uid', f.uid) } : {}),
    ...(f.gid !== undefined ? { gid: parseId('--gid', f.gid) } : {}),
    ...(f.previousImage !== undefined ? { previousImage: f.previousImage.startsWith('sha256:') ? f.previousImage : checkImageRef(f.previousImage, '--previous-image') } : {}),
    ...(f.creationTime !== undefined ? { creationTime: parseCreationTime(f.creationTime) } : {}),
    ...(f.sbomOutputDir !== undefined ? { sbomOutputDir: f.sbomOutputDir } : {}),
    ...(f.workspace !== undefined && parseWorkspace(f.workspace) !== APP_DIR ? { workspace: parseWorkspace(f.workspace) } : {}),
  };
}

const MODULE_FORMS = (kind: string): string =>
  `one of: <id>@<version> of a ${kind} the builder has, a ${kind} directory, a .tgz/.tar or .cnb file, or a package image (docker://<image>, or an image name the daemon has) (repeatable)`;

export function declarePackFlags(cmd: Command): Command {
  return cmd
    .option('-t, --tag <image>', "additional tag of the output image, in the form 'image:tag' or 'repository/image:tag'; pushed too with --publish (repeatable)", collect, [])
    .option('-b, --buildpack <buildpack>', `buildpack to use instead of the builder's order (and of project.toml's group), ${MODULE_FORMS('buildpack')}; ${'`from=builder`'} stands for the builder's order`, collect, [])
    .option('--extension <extension>', `extension to use instead of the builder's order-extensions, ${MODULE_FORMS('extension')}`, collect, [])
    .option('--pre-buildpack <buildpack>', "buildpack to prepend to every group of the order (repeatable; replaces project.toml's pre group)", collect, [])
    .option('--post-buildpack <buildpack>', "buildpack to append to every group of the order (repeatable; replaces project.toml's post group)", collect, [])
    .option('--previous-image <image>', 'set the previous image (whose layers and metadata the build reuses) to a tag reference, digest reference or image ID (default: the output image)')
    .option('--sbom-output-dir <dir>', 'path to export the SBOM contents to (launch/, build/, cache/ by buildpack); omitting the flag yields no SBOM files')
    .option('--report-output-dir <dir>', 'path to export the build report.toml to; omitting the flag yields no report file')
    .option('--creation-time <time>', "desired create time in the output image config: a Unix timestamp (e.g. '1641013200') or 'now' (default: 1980-01-01T00:00:01Z, or SOURCE_DATE_EPOCH)")
    .option('--uid <uid>', "override the UID of the user buildpacks run as (the builder's CNB_USER_ID); a positive number")
    .option('--workspace <dir>', 'location at which to mount the app dir in the build image, and where it is in the app image (default /workspace)')
    .option('--gid <gid>', "override the GID of the user's group (the builder's CNB_GROUP_ID); a positive number");
}

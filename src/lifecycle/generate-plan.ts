/**
 * Pure decisions of the generate phase (image_extension.md, "Phase: Generation", "Phase: Extension"; buildpack.md, "Buildpack Plan (TOML)"): which run image the build ends up on,
 * which build context each Dockerfile uses, and how the plan changes once extensions have consumed
 * their entries. The effects (running bin/generate, copying files) live elsewhere.
 */
import type { GroupMember, PlanEntry, PlanFile, PlanRequire } from '../cnb/models.js';
import { stringifyToml } from '../cnb/toml.js';

/** A run.Dockerfile of one extension, in group-extensions order. */
export interface RunDockerfileInfo {
  extensionId: string;
  /** The stage's FROM text exactly as written. */
  base: string;
  /** Whether any instruction follows FROM (ARG/LABEL/USER count, image_extension.md, "Dockerfile Requirements"). */
  hasInstructions: boolean;
}

export interface RunImageChoice {
  /** The run image to use: the switched-to FROM text, or the current image unchanged. */
  image: string;
  /** true when `image` differs from the current run image (the caller drops the target and warns if it is not in run.toml). */
  switched: boolean;
  /** Whether the run image must be extended (analyzed.toml run-image.extend). */
  extend: boolean;
  /** Extensions whose run.Dockerfile is superseded by a later switch (renamed to run.Dockerfile.ignore). */
  ignored: string[];
}

/** The base a run.Dockerfile uses to mean "keep the current run image". */
export const BASE_IMAGE_ARG = '${base_image}';

/**
 * image_extension.md, "Phase: Generation" and "Dockerfile Requirements": walk the run.Dockerfiles from the last backwards. The last one that
 * names a base other than `${base_image}` switches the image and supersedes every earlier one; any
 * non-superseded file with instructions makes the run image extended. A FROM equal to the current
 * image string (raw comparison, image_extension.md, "Dockerfile Requirements") is not a switch, but still supersedes earlier files.
 */
export function chooseRunImage(runDockerfiles: RunDockerfileInfo[], current: { image: string }): RunImageChoice {
  let newBase = '';
  let extend = false;
  let ignoreRest = false;
  const ignored: string[] = [];
  for (let i = runDockerfiles.length - 1; i >= 0; i--) {
    const df = runDockerfiles[i] as RunDockerfileInfo;
    if (ignoreRest) {
      ignored.unshift(df.extensionId);
      continue;
    }
    if (df.hasInstructions) extend = true;
    const base = df.base.trim();
    if (base !== BASE_IMAGE_ARG) {
      newBase = base;
      ignoreRest = true;
    }
  }
  const switched = newBase !== '' && newBase !== current.image;
  return { image: switched ? newBase : current.image, switched, extend, ignored };
}

export interface ContextDirs {
  context: boolean;
  contextBuild: boolean;
  contextRun: boolean;
}

export type BuildContext = 'context' | 'context.build' | 'context.run' | 'app';

/** image_extension.md, "Context Folders": `context.<kind>/` if present, else `context/`, else the app dir. */
export function selectBuildContext(kind: 'build' | 'run', dirs: ContextDirs): BuildContext {
  if (kind === 'build' && dirs.contextBuild) return 'context.build';
  if (kind === 'run' && dirs.contextRun) return 'context.run';
  if (dirs.context) return 'context';
  return 'app';
}

/** image_extension.md, "Context Folders": `context/` together with `context.build/` or `context.run/` is a generate error (exit 92). */
export function checkContextDirs(extensionId: string, dirs: ContextDirs): string | undefined {
  if (!dirs.context || (!dirs.contextBuild && !dirs.contextRun)) return undefined;
  const other = [dirs.contextBuild ? 'context.build/' : '', dirs.contextRun ? 'context.run/' : ''].filter((s) => s !== '').join(' and ');
  return `extension ${extensionId} produced both context/ and ${other}; use either the shared context/ or the per-kind directories`;
}

function entryNames(e: PlanEntry): string[] {
  return e.requires.map((r) => r.name);
}

function provides(e: PlanEntry, m: { id: string; version: string; extension: boolean }): boolean {
  return e.providers.some((p) => p.id === m.id && p.version === m.version && (p.extension === true) === m.extension);
}

/**
 * buildpack.md, "Buildpack Plan (TOML)": the buildpack plan of one module — every require of every entry it provides (matching
 * kind: an extension and a buildpack with the same id are different providers).
 */
export function buildpackPlanFor(plan: PlanFile, module: { id: string; version: string; extension: boolean }): PlanRequire[] {
  return plan.entries.filter((e) => provides(e, module)).flatMap((e) => e.requires);
}

/**
 * image_extension.md, "Detection": extensions cannot declare anything unmet, so every entry an extension in
 * group-extensions received is consumed; entries with those names are removed from the working plan
 * (buildpacks that also provided them no longer get them). Extensions are walked in group order,
 * each seeing the plan left by the ones before it, like the lifecycle.
 */
export function filterPlanAfterGenerate(plan: PlanFile, groupExtensions: GroupMember[]): PlanFile {
  let entries = plan.entries;
  for (const ext of groupExtensions) {
    const met = new Set(entries.filter((e) => provides(e, { id: ext.id, version: ext.version, extension: true })).flatMap(entryNames));
    if (met.size === 0) continue;
    entries = entries.filter((e) => !entryNames(e).some((n) => met.has(n)));
  }
  return { entries };
}

/** The buildpack plan file a module reads (CNB_BP_PLAN_PATH): `[[entries]]` with name and non-empty metadata. */
export function buildpackPlanToml(plan: PlanRequire[]): string {
  return stringifyToml({ entries: plan.map((p) => ({ name: p.name, ...(Object.keys(p.metadata).length > 0 ? { metadata: p.metadata } : {}) })) });
}

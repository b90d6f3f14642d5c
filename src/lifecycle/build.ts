/**
 * The build phase (buildpack.md, "Phase #5: Build"): each buildpack's `bin/build` runs in a container of the (extended)
 * builder image as the CNB user. The environment accumulates here, on the host, from earlier buildpacks'
 * build layers (read back from the layers volume); user platform env is re-applied for every buildpack.
 * Post-processing decisions are pure (build-post.ts); this file only moves files and runs containers.
 */
import { ExitCode, KilnError } from '../errors.js';
import { makeTar, withParentDirs, type TarFileEntry } from '../image/tar-files.js';
import type { PlanEntry, PlanRequire } from '../cnb/models.js';
import { applyBuildLayers, moduleExecutionEnv } from './build-env.js';
import { addLaunch, emptyLaunchAggregate, postProcess, removeMet, sortedProcesses, type AggregatedProcess, type PostLayer, type SbomCopy } from './build-post.js';
import { buildpackPlanFor, buildpackPlanToml } from './generate-plan.js';
import { allowedOuterEnv, moduleArgs, moduleCnbVars, type Env, type Prelude, type TargetVars } from './container/module-env.js';
import { hostsForPhase, type ModuleHosts } from './container/module-hosts.js';
import { runModule, SCRATCH_DIR, type RunVolumes } from './container/module-run.js';
import { scanLayersDir } from './container/layers-scan.js';
import { LAYERS_DIR, PLATFORM_DIR, escapeId, type PhaseContext } from './phase-context.js';
import { moduleKey, type BuilderInfo } from './read-builder.js';
import { readFromVolume, writeToVolume } from './container/volume-io.js';
import { shArgv } from './container/sh-script.js';

export interface BuildGroupMember {
  id: string;
  version: string;
}

export interface BuildInput {
  builder: BuilderInfo;
  /** Image to run in: the extended builder image, or the builder itself. */
  image: string;
  /** That image's ENV ("K=V"): its allow-listed part starts the build env (platform.md, "Buildpack Environment"). */
  imageEnv: readonly string[];
  volumes: RunVolumes;
  /** Buildpacks of the chosen group, in order. */
  group: readonly BuildGroupMember[];
  /** The working plan (already filtered by generate). */
  plan: readonly PlanEntry[];
  platformEnv: Env;
  target?: TargetVars;
  network?: string;
  /** Created by the last buildpack's container once its bin/build succeeded (module-env.ts Prelude). */
  doneFile?: string;
}

export interface BuiltBuildpack {
  id: string;
  version: string;
  api: string;
  homepage?: string;
  /** Layers with a .toml, alphabetically; ignored layers are not listed. */
  layers: PostLayer[];
  store?: Record<string, unknown>;
}

export interface BuildResult {
  buildpacks: BuiltBuildpack[];
  /** Sorted by type (buildpack.md, "launch.toml (TOML)"). */
  processes: AggregatedProcess[];
  /** buildpack-default-process-type. */
  defaultProcessType?: string;
  labels: { key: string; value: string }[];
  slices: { paths: string[] }[];
  warnings: string[];
  /** The SBOM files written to <layers>/sbom (buildpack.md, "Software-Bill-of-Materials"), for `--sbom-output-dir`. */
  sbom: SbomCopy[];
}

/**
 * <layers>/<bp>/ owned by the CNB user (buildpack.md, "Phase #5: Build"; existing contents stay) and the buildpack
 * plan, read-only for the buildpack (buildpack.md, "Buildpack Interface"): made by the build container itself before bin/build.
 */
function planAndDir(layersDir: string, planPath: string, plan: PlanRequire[]): Prelude {
  const text = buildpackPlanToml(plan);
  return { dirs: [layersDir, planPath.slice(0, planPath.lastIndexOf('/'))], files: [{ path: planPath, content: text, mode: 0o444 }] };
}

/** Renames each parameter (a layer dir) to <dir>.ignore; the names are never script text (sh-script.ts). */
export const RENAME_SCRIPT = 'set -e\nfor p; do rm -rf "$p.ignore"; mv "$p" "$p.ignore"; done';

/** Renames all-false layers to <layer>.ignore inside the volume, as the CNB user (buildpack.md, "Phase #5: Build", "Ignored Layers"). */
async function renameIgnored(ctx: PhaseContext, input: BuildInput, bpPath: string, names: string[], hosts: ModuleHosts | undefined): Promise<void> {
  if (names.length === 0) return;
  const [exe, ...args] = shArgv({ script: RENAME_SCRIPT, args: names.map((n) => `${bpPath}/${n}`) }, 'kiln-ignore');
  const code = await runModule(ctx, {
    image: input.image,
    imageEnv: [],
    user: input.builder.user,
    volumes: input.volumes,
    env: {},
    exe: exe ?? 'sh',
    args,
    ...(hosts !== undefined ? { hosts } : {}),
  });
  if (code !== 0) throw new KilnError({ action: `hide ignored layers of ${bpPath}`, cause: `mv exited with ${code}`, exitCode: ExitCode.buildError });
}

async function writeSbom(ctx: PhaseContext, input: BuildInput, copies: SbomCopy[]): Promise<void> {
  if (copies.length === 0) return;
  const entries = withParentDirs(copies.map((c): TarFileEntry => ({ path: c.to, content: c.content, mode: 0o644 })));
  await writeToVolume(ctx, { volume: input.volumes.layers, image: input.image, dest: '/', tar: await makeTar(entries) });
}

/** Runs the group's builds; throws exit 51 when a bin/build fails, 52 when its output is invalid. */
export async function runBuild(ctx: PhaseContext, input: BuildInput): Promise<BuildResult> {
  const exes = input.group.flatMap((m) => {
    const bp = input.builder.buildpacks.get(moduleKey(m.id, m.version));
    return bp !== undefined ? [`${bp.dir}/bin/build`] : [];
  });
  const hosts = hostsForPhase(ctx, exes, 1);
  try {
    return await buildAll(ctx, input, hosts);
  } finally {
    await hosts?.close();
  }
}

async function buildAll(ctx: PhaseContext, input: BuildInput, hosts: ModuleHosts | undefined): Promise<BuildResult> {
  let env: Env = allowedOuterEnv(input.imageEnv);
  let plan: PlanEntry[] = [...input.plan];
  let launch = emptyLaunchAggregate();
  const buildpacks: BuiltBuildpack[] = [];
  const warnings: string[] = [];
  const sbom: SbomCopy[] = [];
  for (const [index, member] of input.group.entries()) {
    const last = index === input.group.length - 1;
    const bp = input.builder.buildpacks.get(moduleKey(member.id, member.version));
    if (bp === undefined) {
      throw new KilnError({ action: 'run build', cause: `buildpack ${member.id}@${member.version} is not in the builder`, exitCode: ExitCode.buildError });
    }
    const d = bp.descriptor;
    const esc = escapeId(d.id);
    const layersDir = `${LAYERS_DIR}/${esc}`;
    const planRel = `build/${esc}/plan.toml`;
    const planPath = `${SCRATCH_DIR}/${planRel}`;
    const bpPlan = buildpackPlanFor({ entries: plan }, { id: d.id, version: d.version, extension: false });

    const cnbVars = moduleCnbVars({ phase: 'build', kind: 'buildpack', api: d.api, moduleDir: bp.dir, platformDir: PLATFORM_DIR, planPath, layersDir, ...(input.target !== undefined ? { target: input.target } : {}) });
    const runEnv = moduleExecutionEnv({ base: env, platformEnv: input.platformEnv, clearEnv: d.clearEnv, buildConfigEnv: input.builder.buildConfigEnv, cnbVars });
    ctx.reporter.emit({ type: 'info', message: `Running build for ${d.id}@${d.version}` });
    const code = await runModule(ctx, {
      image: input.image,
      imageEnv: input.imageEnv,
      user: input.builder.user,
      volumes: input.volumes,
      env: runEnv,
      exe: `${bp.dir}/bin/build`,
      args: moduleArgs('build', { platformDir: PLATFORM_DIR, planPath, layersDir }),
      prelude: { ...planAndDir(layersDir, planPath, bpPlan), ...(last && input.doneFile !== undefined ? { doneFile: input.doneFile } : {}) },
      ...(input.network !== undefined ? { network: input.network } : {}),
      onLine: (stream, line) => ctx.reporter.emit({ type: 'module-line', module: d.id, stream, line }),
      module: { label: `buildpack ${d.id}@${d.version}`, failExitCode: ExitCode.buildFailed },
      ...(hosts !== undefined ? { hosts } : {}),
    });
    if (code !== 0) {
      throw new KilnError({
        action: `build with buildpack ${d.id}@${d.version}`,
        cause: `bin/build exited with code ${code}`,
        subject: d.id,
        hint: 'see the buildpack output above',
        exitCode: ExitCode.buildFailed,
      });
    }

    const tar = await readFromVolume(ctx, { volume: input.volumes.layers, image: input.image, path: `/${esc}` });
    const entries = await scanLayersDir(tar, esc);
    const post = postProcess({ id: d.id, version: d.version, api: d.api, sbomFormats: d.sbomFormats, layersDir, entries, plan: bpPlan });
    warnings.push(...post.warnings);
    await renameIgnored(ctx, input, layersDir, post.ignore, hosts);
    // These changes affect subsequent buildpacks only (buildpack.md, "Phase #5: Build").
    env = applyBuildLayers(env, post.buildLayers);
    sbom.push(...post.sbom);
    plan = removeMet(plan, post.met);
    launch = addLaunch(launch, d.id, post.launch);
    buildpacks.push({
      id: d.id,
      version: d.version,
      api: d.api,
      ...(d.homepage !== '' ? { homepage: d.homepage } : {}),
      layers: post.layers.filter((l) => l.metadata.types.launch || l.metadata.types.build || l.metadata.types.cache),
      ...(post.store !== undefined ? { store: post.store } : {}),
    });
  }
  await writeSbom(ctx, input, sbom);
  return {
    buildpacks,
    processes: sortedProcesses(launch),
    ...(launch.defaultType !== undefined ? { defaultProcessType: launch.defaultType } : {}),
    labels: launch.labels,
    slices: launch.slices,
    warnings: [...warnings, ...launch.warnings],
    sbom,
  };
}

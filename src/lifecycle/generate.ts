/**
 * The generate phase (image_extension.md, "Phase: Generation"; docs/architecture.md, "The data flow of one build", step 6): each extension of group-extensions, in
 * order, runs its `bin/generate` in a container of the builder image as the CNB user, with the app
 * mounted read-only and CNB_OUTPUT_DIR = <layers>/generated/<escaped-id> (Platform >= 0.13 layout, kept
 * for the extender). An extension without bin/generate contributes its own generate/ directory, which
 * is copied into <generated>/<id>/ (the lifecycle reads `generate/` in place; image_extension.md, "Generation"). The outputs are read back, validated
 * (exit 92 with the Dockerfile's line), the run image is chosen and the plan filtered (generate-plan.ts).
 */
import { platformApi } from '../cnb/api-features.js';
import { ExitCode, KilnError } from '../errors.js';
import { formatDockerfileIssue, validateBuildDockerfile, validateRunDockerfile, type RunDockerfileInfo } from '../image/dockerfile.js';
import { remoteSourceIssues } from '../image/dockerfile-remote.js';
import { makeTar, readTar, withParentDirs, type TarFileEntry } from '../image/tar-files.js';
import { parseExtendConfig } from '../cnb/extend-config.js';
import type { ExtendArg, GroupMember, PlanFile, PlanRequire, SpecIssue } from '../cnb/models.js';
import { moduleExecutionEnv } from './build-env.js';
import type { ExtendStep } from './extend/extend.js';
import { buildpackPlanFor, buildpackPlanToml, checkContextDirs, chooseRunImage, filterPlanAfterGenerate, selectBuildContext, type RunImageChoice } from './generate-plan.js';
import { allowedOuterEnv, moduleArgs, moduleCnbVars, type Env, type Prelude, type TargetVars } from './container/module-env.js';
import { hostsForPhase, type ModuleHosts } from './container/module-hosts.js';
import { runModule, SCRATCH_DIR, type RunVolumes } from './container/module-run.js';
import { LAYERS_DIR, PLATFORM_DIR, escapeId, type PhaseContext } from './phase-context.js';
import { moduleKey, type BuilderExtension, type BuilderInfo } from './read-builder.js';
import { readFromVolume, writeToVolume } from './container/volume-io.js';

export interface GenerateInput {
  builder: BuilderInfo;
  volumes: RunVolumes;
  /** group-extensions of the chosen group, in order. */
  groupExtensions: GroupMember[];
  /** The working plan from detect. */
  plan: PlanFile;
  platformEnv: Env;
  /** The run image as analyzed.toml records it (raw string, image_extension.md, "Dockerfile Requirements"). */
  runImage: { image: string };
  /** The run image's target, for CNB_TARGET_* (extension API >= 0.10). */
  target?: TargetVars;
  network?: string;
  /** ADD <url> and COPY --from= are allowed in the Dockerfiles (--allow-dockerfile-remote, dockerfile-remote.ts). */
  allowDockerfileRemote?: boolean;
}

/** A generated build context (context/, context.build/ or context.run/) as a tar rooted at the dir. */
export interface GeneratedContexts {
  shared?: Buffer;
  build?: Buffer;
  run?: Buffer;
}

export interface GeneratedExtension {
  id: string;
  version: string;
  /** Where the output came from: the generate run's output dir, or the extension's static generate/ dir. */
  source: 'bin/generate' | 'generate/';
  buildDockerfile?: string;
  runDockerfile?: string;
  /** What the run.Dockerfile does (switch and/or extend), when there is one. */
  run?: RunDockerfileInfo;
  /** The run.Dockerfile is superseded by a later switch (two extensions switching or extend-then-switch: the last switch wins; image_extension.md, "Dockerfile Requirements") and is not applied. */
  ignored: boolean;
  args: { build: ExtendArg[]; run: ExtendArg[] };
  contexts: GeneratedContexts;
  /** The buildpack plan the extension received. */
  plan: PlanRequire[];
}

export interface GenerateResult {
  extensions: GeneratedExtension[];
  runImage: RunImageChoice & {
    /** False when a switched-to image is not in run.toml (a warning, image_extension.md, "Phase: Generation"). */
    inRunToml: boolean;
  };
  /** True when at least one build.Dockerfile exists: the builder image must be extended (platform.md, "`detector` Outputs"). */
  extendBuild: boolean;
  /** The plan after extensions consumed their entries (image_extension.md, "Phase: Generation", "Detection"). */
  plan: PlanFile;
  warnings: string[];
}

const OUTPUT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * <layers>/generated/<id>/ owned by the CNB user (created if missing, not emptied), and the plan file,
 * read-only for the extension (image_extension.md, "Generation": CNB_BP_PLAN_PATH is read-only): made by the generate
 * container itself before bin/generate starts (module-env.ts prelude).
 */
function prepare(escaped: string, plan: PlanRequire[]): { planPath: string; prelude: Prelude } {
  const planPath = `${SCRATCH_DIR}/generate/${escaped}/plan.toml`;
  const text = buildpackPlanToml(plan);
  return { planPath, prelude: { dirs: [`${LAYERS_DIR}/generated/${escaped}`, `${SCRATCH_DIR}/generate/${escaped}`], files: [{ path: planPath, content: text, mode: 0o444 }] } };
}

/** Runs bin/generate with the app volume read-only (image_extension.md, "Generation": it must not write there). */
async function runGenerateExe(ctx: PhaseContext, input: GenerateInput, ext: BuilderExtension, prepared: { planPath: string; prelude: Prelude }, outputDir: string, hosts?: ModuleHosts): Promise<number> {
  const { planPath } = prepared;
  const cnbVars = moduleCnbVars({
    phase: 'generate',
    kind: 'extension',
    api: ext.descriptor.api,
    moduleDir: ext.dir,
    platformDir: PLATFORM_DIR,
    planPath,
    outputDir,
    ...(input.target !== undefined ? { target: input.target } : {}),
  });
  const env = moduleExecutionEnv({ base: allowedOuterEnv(input.builder.env), platformEnv: input.platformEnv, clearEnv: false, buildConfigEnv: input.builder.buildConfigEnv, cnbVars });
  const args = moduleArgs('generate', { platformDir: PLATFORM_DIR, planPath, outputDir });
  return runModule(ctx, {
    image: input.builder.info.id,
    imageEnv: input.builder.env,
    user: input.builder.user,
    volumes: input.volumes,
    env,
    exe: `${ext.dir}/bin/generate`,
    args,
    appReadOnly: true,
    prelude: prepared.prelude,
    ...(input.network !== undefined ? { network: input.network } : {}),
    onLine: (stream, line) => ctx.reporter.emit({ type: 'module-line', module: ext.descriptor.id, stream, line }),
    module: { label: `extension ${ext.descriptor.id}@${ext.descriptor.version}`, failExitCode: ExitCode.generateFailed },
    ...(hosts !== undefined ? { hosts } : {}),
  });
}

/** One entry of an extension's output dir, relative to it. */
export interface OutputEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  content: Buffer;
  mode: number;
  linkname?: string;
}

/** The output dir's entries relative to it, read from the layers volume. */
async function readOutput(ctx: PhaseContext, input: GenerateInput, escaped: string): Promise<OutputEntry[]> {
  const tar = await readFromVolume(ctx, { volume: input.volumes.layers, image: input.builder.info.id, path: `/generated/${escaped}` });
  const entries = await readTar(tar, { maxBytes: OUTPUT_MAX_BYTES });
  const prefix = `${escaped}/`;
  return entries
    .filter((e) => e.path.startsWith(prefix))
    .map((e) => ({
      path: e.path.slice(prefix.length),
      type: e.type === 'directory' ? 'directory' : e.type === 'symlink' ? 'symlink' : 'file',
      content: e.content,
      mode: e.mode,
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
    }));
}

/** The static generate/ dir of an extension (image_extension.md, "Image Extension Interface"), copied into <generated>/<id>/ (image_extension.md, "Generation"). */
/**
 * Returns the entries at once; `written` settles when they are in the volume (nothing in this phase reads
 * them back, so the write overlaps the next extension's run; runGenerate waits for it before returning).
 */
function staticOutput(ctx: PhaseContext, input: GenerateInput, ext: BuilderExtension, escaped: string): { entries: OutputEntry[]; written: Promise<void> } {
  const out: OutputEntry[] = [...ext.files]
    .filter(([p]) => p.startsWith('generate/'))
    .map(([p, content]) => ({ path: p.slice('generate/'.length), type: 'file', content, mode: 0o644 }));
  if (out.length > 0) {
    const { uid, gid } = input.builder.user;
    const entries = withParentDirs(
      out.map((e): TarFileEntry => ({ path: `generated/${escaped}/${e.path}`, content: e.content, mode: 0o644, uid, gid })),
      { uid, gid },
    );
    return { entries: out, written: makeTar(entries).then((tar) => writeToVolume(ctx, { volume: input.volumes.layers, image: input.builder.info.id, dest: '/', tar })) };
  }
  return { entries: out, written: Promise.resolve() };
}

/** A tar of the entries under `dir/`, rooted at it; undefined when the dir is absent. */
async function contextTar(entries: OutputEntry[], dir: string): Promise<Buffer | undefined> {
  const prefix = `${dir}/`;
  const inside = entries.filter((e) => e.path.startsWith(prefix) || (e.path === dir && e.type === 'directory'));
  if (inside.length === 0) return undefined;
  return makeTar(
    inside
      .filter((e) => e.path !== dir)
      .map((e) => ({ path: e.path.slice(prefix.length), type: e.type, content: e.content, mode: e.mode, ...(e.linkname !== undefined ? { linkname: e.linkname } : {}) })),
  );
}

function generateError(ext: GroupMember, cause: string, hint?: string): KilnError {
  return new KilnError({ action: `collect the output of extension ${ext.id}`, cause, ...(hint !== undefined ? { hint } : {}), exitCode: ExitCode.generateError, subject: ext.id });
}

function failOnErrors(ext: GroupMember, issues: SpecIssue[], warnings: string[]): void {
  const errors = issues.filter((i) => i.severity === 'error');
  warnings.push(...issues.filter((i) => i.severity === 'warning').map(formatDockerfileIssue));
  if (errors.length > 0) throw generateError(ext, errors.map(formatDockerfileIssue).join('; '), 'fix the extension\'s generated files (buildpacks/spec image_extension.md, "Dockerfile Requirements")');
}

/** Validates one extension's output (image_extension.md, "Dockerfile Requirements"; image_extension.md, "extend-config.toml (TOML)", "Dockerfile Requirements", "Context Folders") into a GeneratedExtension. */
export async function collectOutput(ext: GroupMember, entries: OutputEntry[], where: string, warnings: string[], opts: { allowRemote?: boolean } = {}): Promise<Omit<GeneratedExtension, 'source' | 'ignored' | 'plan'>> {
  const file = (name: string): Buffer | undefined => {
    const entry = entries.find((e) => e.path === name);
    // A link would make kiln read (or the module choose) a file outside the output dir: refused, not skipped.
    if (entry !== undefined && entry.type !== 'file') {
      throw generateError(ext, `${where}/${name} is a ${entry.type}${entry.linkname !== undefined ? ` (to ${entry.linkname})` : ''}, not a regular file`, `make bin/generate of ${ext.id} write ${name} as a regular file`);
    }
    return entry?.content;
  };
  const has = (dir: string): boolean => entries.some((e) => e.path === dir || e.path.startsWith(`${dir}/`));
  const out: Omit<GeneratedExtension, 'source' | 'ignored' | 'plan'> = { id: ext.id, version: ext.version, args: { build: [], run: [] }, contexts: {} };
  const config = file('extend-config.toml');
  if (config !== undefined) {
    const parsed = parseExtendConfig(config.toString('utf8'), `${where}/extend-config.toml`);
    failOnErrors(ext, parsed.issues, warnings);
    if (parsed.value !== undefined) out.args = { build: parsed.value.build.args, run: parsed.value.run.args };
  }
  const build = file('build.Dockerfile');
  if (build !== undefined) {
    const text = build.toString('utf8');
    failOnErrors(ext, validateBuildDockerfile(text, `${where}/build.Dockerfile`).issues, warnings);
    failOnErrors(ext, remoteSourceIssues(text, `${where}/build.Dockerfile`, opts), warnings);
    out.buildDockerfile = text;
  }
  // Run-image extension is a Platform API feature (platform.md, "`extender` (optional)").
  const run = platformApi.supports('run-image-extension') ? file('run.Dockerfile') : undefined;
  if (run !== undefined) {
    const text = run.toString('utf8');
    const v = validateRunDockerfile(text, `${where}/run.Dockerfile`);
    failOnErrors(ext, v.issues, warnings);
    failOnErrors(ext, remoteSourceIssues(text, `${where}/run.Dockerfile`, opts), warnings);
    out.runDockerfile = text;
    if (v.value !== undefined) out.run = v.value;
  }
  const dirs = { context: has('context'), contextBuild: has('context.build'), contextRun: has('context.run') };
  const conflict = checkContextDirs(ext.id, dirs);
  if (conflict !== undefined) throw generateError(ext, conflict);
  const shared = await contextTar(entries, 'context');
  const forBuild = await contextTar(entries, 'context.build');
  const forRun = await contextTar(entries, 'context.run');
  out.contexts = { ...(shared ? { shared } : {}), ...(forBuild ? { build: forBuild } : {}), ...(forRun ? { run: forRun } : {}) };
  return out;
}

function extensionOf(builder: BuilderInfo, m: GroupMember): BuilderExtension {
  const ext = builder.extensions.get(moduleKey(m.id, m.version));
  if (ext === undefined) throw new KilnError({ action: `run generate of ${m.id}`, cause: `extension ${m.id}@${m.version} is not in the builder`, exitCode: ExitCode.generateError });
  return ext;
}

/** Runs the generate phase. Throws exit 91 when a bin/generate fails, 92 when an output is invalid. */
export async function runGenerate(ctx: PhaseContext, input: GenerateInput): Promise<GenerateResult> {
  const writes: Promise<void>[] = [];
  const exes = input.groupExtensions.flatMap((m) => {
    const ext = input.builder.extensions.get(moduleKey(m.id, m.version));
    return ext?.hasGenerate === true ? [`${ext.dir}/bin/generate`] : [];
  });
  const hosts = hostsForPhase(ctx, exes, 1);
  try {
    return await generateAll(ctx, input, writes, hosts);
  } finally {
    await hosts?.close();
    await Promise.allSettled(writes);
  }
}

async function generateAll(ctx: PhaseContext, input: GenerateInput, writes: Promise<void>[], hosts: ModuleHosts | undefined): Promise<GenerateResult> {
  const warnings: string[] = [];
  const extensions: GeneratedExtension[] = [];
  let working = input.plan;
  for (const member of input.groupExtensions) {
    const ext = extensionOf(input.builder, member);
    const escaped = escapeId(member.id);
    const outputDir = `${LAYERS_DIR}/generated/${escaped}`;
    const plan = buildpackPlanFor(working, { id: member.id, version: member.version, extension: true });
    let entries: OutputEntry[];
    let where: string;
    if (ext.hasGenerate) {
      const code = await runGenerateExe(ctx, input, ext, prepare(escaped, plan), outputDir, hosts);
      if (code !== 0) {
        throw new KilnError({
          action: `run generate of extension ${member.id}`,
          cause: `${ext.dir}/bin/generate exited with code ${code}`,
          hint: 'see the extension output above',
          exitCode: ExitCode.generateFailed,
          subject: member.id,
        });
      }
      entries = await readOutput(ctx, input, escaped);
      where = outputDir;
    } else {
      const st = staticOutput(ctx, input, ext, escaped);
      st.written.catch(() => undefined);
      writes.push(st.written);
      entries = st.entries;
      where = `${ext.dir}/generate`;
    }
    const collected = await collectOutput(member, entries, where, warnings, { allowRemote: input.allowDockerfileRemote === true });
    extensions.push({ ...collected, source: ext.hasGenerate ? 'bin/generate' : 'generate/', ignored: false, plan });
    // Everything an extension received is met (image_extension.md, "Phase: Generation"): later modules do not see those entries.
    working = filterPlanAfterGenerate(working, [member]);
  }
  const runFiles = extensions.filter((e) => e.run !== undefined);
  const choice = chooseRunImage(
    runFiles.map((e) => ({ extensionId: e.id, base: e.run?.switchesTo ?? '${base_image}', hasInstructions: e.run?.extends ?? false })),
    input.runImage,
  );
  for (const e of extensions) e.ignored = choice.ignored.includes(e.id);
  const known = input.builder.runImages.some((r) => r.image === choice.image || r.mirrors.includes(choice.image));
  if (choice.switched && !known) warnings.push(`run image ${choice.image} chosen by an extension is not listed in the builder's run.toml`);
  for (const w of warnings) ctx.reporter.emit({ type: 'warning', message: w });
  await Promise.all(writes);
  return {
    extensions,
    runImage: { ...choice, inRunToml: !choice.switched || known },
    extendBuild: extensions.some((e) => e.buildDockerfile !== undefined),
    plan: working,
    warnings,
  };
}

/**
 * The extend steps of one kind, in group order (image_extension.md, "Phase: Extension"): extensions with that Dockerfile, minus
 * superseded run.Dockerfiles; run.Dockerfiles that only switch (no instructions) are not applied.
 * Context: context.<kind>/, else context/, else the app (undefined).
 */
export function extendStepsFor(result: GenerateResult, kind: 'build' | 'run'): ExtendStep[] {
  const steps: ExtendStep[] = [];
  for (const e of result.extensions) {
    const dockerfile = kind === 'build' ? e.buildDockerfile : e.runDockerfile;
    if (dockerfile === undefined) continue;
    if (kind === 'run' && (e.ignored || e.run?.extends !== true)) continue;
    const which = selectBuildContext(kind, { context: e.contexts.shared !== undefined, contextBuild: e.contexts.build !== undefined, contextRun: e.contexts.run !== undefined });
    const context = which === 'context' ? e.contexts.shared : which === 'context.build' ? e.contexts.build : which === 'context.run' ? e.contexts.run : undefined;
    steps.push({ extensionId: e.id, dockerfile, args: kind === 'build' ? e.args.build : e.args.run, ...(context !== undefined ? { context } : {}) });
  }
  return steps;
}

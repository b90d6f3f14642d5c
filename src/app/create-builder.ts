/**
 * `kiln builder create`: builder.toml -> validated BuilderPlan -> reproducible module layers on top of
 * the build image -> one image archive loaded into the daemon and tagged (platform.md, "Build Image"). Nothing is
 * tagged unless the whole image loaded; temp files are removed in every case.
 */
import { readFile, rm } from 'node:fs/promises';
import { withDefaultTag } from '../image/image-ref.js';
import { dirname, resolve } from 'node:path';
import { planBuilder, type BuilderPlan } from '../builder/builder-plan.js';
import { writeBuilderImage } from '../builder/builder-image.js';
import { readModuleSources, type ModuleSource } from '../builder/module-source.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, ImageInfo, Labels, Reporter } from '../ports.js';
import { parseBuilderConfig } from '../cnb/builder-config.js';
import type { BuilderConfig, SpecIssue } from '../cnb/models.js';
import { formatIssue, SpecError, throwOnErrors } from '../cnb/spec-error.js';
import type { ImageFetcher } from './image-fetcher.js';
import { checkBaseImage } from './base-image-check.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';

export interface CreateBuilderRequest {
  /** Tag of the builder image. */
  imageName: string;
  /** Path of builder.toml. */
  configPath: string;
  /** Extra labels on the builder (e.g. io.kiln.test for tests). */
  labels?: Labels;
  kilnVersion: string;
  /** Pulls the build image and docker:// modules under the pull policy; default: never pull. */
  fetcher?: ImageFetcher;
}

export interface CreateBuilderResult {
  imageName: string;
  imageId: string;
  plan: BuilderPlan;
  warnings: string[];
}

const STACK_HINT = 'create the offline base images with `kiln stack create busybox` or `kiln stack create debian`, or name an image the daemon has in [build] image';

async function readConfig(configPath: string): Promise<{ text: string; config: BuilderConfig; warnings: SpecIssue[] }> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (e) {
    throw new KilnError({
      action: 'read builder.toml',
      cause: `cannot read ${configPath}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : String(e)}`,
      hint: 'pass the path of a builder.toml with --config',
      exitCode: ExitCode.config,
      subject: configPath,
      original: e,
    });
  }
  const result = parseBuilderConfig(text, configPath);
  const config = throwOnErrors(result, 'read builder.toml', 'fix the builder.toml keys named above');
  return { text, config, warnings: result.issues.filter((i) => i.severity === 'warning') };
}

/** CNB_USER_ID / CNB_GROUP_ID from the build image's env (platform.md, "Build Image"): required, numeric. */
export function cnbUserFromEnv(image: string, env: readonly string[]): { uid: number; gid: number } {
  const get = (name: string): number => {
    const entry = [...env].reverse().find((e) => e.startsWith(`${name}=`));
    const value = entry?.slice(name.length + 1);
    if (value === undefined || !/^\d+$/.test(value)) {
      throw new KilnError({
        action: `use build image ${image}`,
        cause: value === undefined ? `the image sets no ${name}` : `${name}=${value} is not a numeric id`,
        hint: `a CNB build image must set CNB_USER_ID and CNB_GROUP_ID; ${STACK_HINT}`,
        exitCode: ExitCode.config,
        subject: image,
      });
    }
    return Number(value);
  };
  return { uid: get('CNB_USER_ID'), gid: get('CNB_GROUP_ID') };
}

async function inspectBase(engine: ContainerEngine, image: string, configPath: string, fetcher?: ImageFetcher): Promise<ImageInfo> {
  if (fetcher !== undefined) return fetcher.ensure(image, `build image (named in ${configPath})`);
  const info = await engine.inspectImage(image);
  if (info === undefined) {
    throw new KilnError({
      action: 'create builder',
      cause: `the build image ${image} (named in ${configPath}) is not in the Docker daemon, and kiln does not pull`,
      hint: STACK_HINT,
      exitCode: ExitCode.missingImage,
      subject: image,
    });
  }
  return info;
}

export async function createBuilder(engine: ContainerEngine, req: CreateBuilderRequest, reporter?: Reporter): Promise<CreateBuilderResult> {
  const tag = withDefaultTag(req.imageName, 'builder name');
  const configPath = resolve(req.configPath);
  const { text, config, warnings } = await readConfig(configPath);
  const warn = (message: string): void => reporter?.emit({ type: 'warning', message });
  for (const w of warnings) warn(formatIssue(w));
  if (config.lifecycle !== undefined) {
    // kiln runs its own lifecycle on the host (docs/architecture.md, "The one big decision: the lifecycle runs on the host"): no /cnb/lifecycle is added.
    const note: SpecIssue = { severity: 'warning', file: configPath, keyPath: 'lifecycle', message: "is ignored: kiln's lifecycle is built in" };
    warnings.push(note);
    warn(formatIssue(note));
  }
  const base = await inspectBase(engine, config.buildImage, configPath, req.fetcher);
  const user = cnbUserFromEnv(config.buildImage, base.config.env);
  await checkBaseImage(engine, { image: config.buildImage, kind: 'build', user: `${user.uid}:${user.gid}`, labels: req.labels ?? {}, role: `build image (named in ${configPath})` });
  const tmp = await makeKilnTempDir('builder');
  try {
    const opts = { configDir: dirname(configPath), configFile: configPath, tmpRoot: tmp, engine, ...(req.fetcher !== undefined ? { fetchImage: (ref: string) => (req.fetcher as ImageFetcher).ensure(ref, 'package') } : {}) };
    const sources: ModuleSource[] = [];
    for (const [i, e] of config.buildpacks.entries()) sources.push(...(await readModuleSources(e, 'buildpack', i, opts)));
    for (const [i, e] of config.extensions.entries()) sources.push(...(await readModuleSources(e, 'extension', i, opts)));
    const planned = planBuilder({ config, configFile: configPath, configText: text, sources });
    for (const w of planned.issues.filter((i) => i.severity === 'warning')) warn(formatIssue(w));
    if (!planned.plan) throw new SpecError(planned.issues, `create builder ${req.imageName}`, `fix ${configPath} or the modules it names`);
    const plan = planned.plan;
    reporter?.emit({ type: 'info', message: `adding ${plan.buildpacks.length} buildpack(s) and ${plan.extensions.length} extension(s) to ${config.buildImage}` });
    const imageId = await writeBuilderImage(engine, {
      plan,
      base,
      user,
      tag,
      workDir: tmp,
      createdBy: { name: 'kiln', version: req.kilnVersion },
      labels: req.labels ?? {},
    });
    return { imageName: req.imageName, imageId, plan, warnings: [...warnings, ...planned.issues.filter((i) => i.severity === 'warning')].map(formatIssue) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * `kiln rebase`: put the app image's layers above runImage.topLayer (buildpack, app, launcher and
 * extension layers, platform.md, "`exporter`", "`rebaser`") onto a new run image, without running any buildpack. The new image
 * is loaded as an image archive (image-archive.ts): the new base's layers come from the daemon; the app
 * layers now sit on another chain, so their tars are taken out of `docker save` of the app image.
 */
import { rm } from 'node:fs/promises';
import { ExitCode, KilnError } from '../errors.js';
import { imageArchiveStream, reusablePrefixLength, type ArchiveLayer } from '../image/image-archive.js';
import { withDefaultTag } from '../image/image-ref.js';
import { LIFECYCLE_METADATA_LABEL, type LifecycleMetadata } from '../image/lifecycle-labels.js';
import { INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../lifecycle/cache/cache-volume.js';
import { candidateRunImages, planRebase, rebaseRefusals, type Reextension } from '../image/rebase-plan.js';
import { reextendRunImage } from './rebase-reextend.js';
import { layersFromSavedImage } from '../lifecycle/export/load.js';
import type { ContainerEngine, ImageInfo, Labels, Reporter } from '../ports.js';
import type { ExtensionNetwork } from '../lifecycle/extend/extend.js';
import { publishImage, registryAuthFor } from './publish.js';
import type { ImageFetcher } from './image-fetcher.js';
import { makeKilnTempDir } from '../kiln-temp-dir.js';
import { readAppImage } from './app-image.js';

export { readAppImage } from './app-image.js';

export interface RebaseRequest {
  /** The app image (rewritten in place: the same tag then names the rebased image). */
  image: string;
  /** New run image; default: the recorded runImage.image, else the first mirror present. */
  runImage?: string;
  force?: boolean;
  /** Re-apply the recorded run.Dockerfiles (label dev.kiln.extend.run) onto the new run image. */
  reextend?: boolean;
  publish?: boolean;
  /** Labels for the intermediate images a re-extension builds (removed before returning). */
  labels?: Labels;
  /** With reextend: network of the RUN steps (default none) and the remote-source opt-in (dockerfile-remote.ts). */
  extensionNetwork?: ExtensionNetwork;
  allowDockerfileRemote?: boolean;
}

export interface RebaseOutcome {
  imageId: string;
  previousImageId: string;
  runImage: string;
  runImageId: string;
  /** Refusals --force overrode (empty for an ordinary rebase). */
  forced: string[];
}

function rebaseError(image: string, cause: string, hint?: string, exitCode: number = ExitCode.rebase): KilnError {
  return new KilnError({ action: `rebase ${image}`, cause, ...(hint !== undefined ? { hint } : {}), exitCode });
}


async function chooseRunImage(engine: ContainerEngine, req: RebaseRequest, md: LifecycleMetadata, fetcher?: ImageFetcher): Promise<{ name: string; info: ImageInfo }> {
  // --run-image naming the recorded image also falls back to its recorded mirrors (platform.md run image resolution).
  const recorded = candidateRunImages(md);
  const names = req.runImage === undefined ? recorded : req.runImage === recorded[0] ? recorded : [req.runImage];
  if (names.length === 0) throw rebaseError(req.image, 'the image records no run image', 'pass --run-image');
  if (fetcher !== undefined) {
    const { ref, info } = await fetcher.ensureFirst(names, 'run image');
    return { name: ref, info };
  }
  for (const name of names) {
    const info = await engine.inspectImage(name);
    if (info !== undefined) return { name, info };
  }
  throw rebaseError(req.image, `run image ${names.join(' / ')} does not exist in the Docker daemon`, 'build, pull or load it first', ExitCode.missingImage);
}

export async function rebaseApp(deps: { engine: ContainerEngine; reporter: Reporter; fetcher?: ImageFetcher }, req: RebaseRequest): Promise<RebaseOutcome> {
  const { engine, reporter, fetcher } = deps;
  const image = withDefaultTag(req.image);
  // The app image is pulled only when the daemon lacks it: `always` must not replace a local image.
  if (fetcher !== undefined && fetcher.policy !== 'never' && (await engine.inspectImage(image)) === undefined) await fetcher.ensure(image, 'app image');
  const { app, md } = await readAppImage(engine, image, `rebase ${image}`);
  const run = await chooseRunImage(engine, req, md, fetcher);
  // --reextend re-applies the Dockerfiles, so the old extension layers' rebasability does not matter.
  const refusals = rebaseRefusals(app, md, run.name, run.info).filter((r) => !(req.reextend === true && r.kind === 'rebasable'));
  const fatal = refusals.find((r) => r.fatal === true);
  if (fatal !== undefined) throw rebaseError(image, fatal.reason, fatal.hint);
  if (refusals.length > 0 && req.force !== true) {
    const [first] = refusals;
    throw rebaseError(image, refusals.map((r) => r.reason).join('; '), first?.hint);
  }
  for (const r of refusals) reporter.emit({ type: 'warning', message: `--force: ${r.reason}` });

  const reext = req.reextend === true ? await reextendRunImage({ engine, reporter }, app, run.info, req.labels ?? {}, { network: req.extensionNetwork ?? 'none', allowRemote: req.allowDockerfileRemote === true }) : undefined;
  try {
    return await writeRebased(deps, req, image, app, md, run, refusals.map((r) => r.reason), reext?.result);
  } finally {
    await reext?.cleanup();
  }
}

async function writeRebased(
  deps: { engine: ContainerEngine; reporter: Reporter },
  req: RebaseRequest,
  image: string,
  app: ImageInfo,
  md: LifecycleMetadata,
  run: { name: string; info: ImageInfo },
  forced: string[],
  re: Reextension | undefined,
): Promise<RebaseOutcome> {
  const { engine, reporter } = deps;
  const plan = planRebase(app, md, run.name, run.info, re);
  if (plan.diffIds.join() === app.layers.join() && plan.labels[LIFECYCLE_METADATA_LABEL] === app.config.labels[LIFECYCLE_METADATA_LABEL]) {
    reporter.emit({ type: 'info', message: `${image} is already on ${run.name} (${run.info.id})` });
    if (req.publish === true) await publishImage(engine, reporter, image, await registryAuthFor(image));
    return { imageId: app.id, previousImageId: app.id, runImage: run.name, runImageId: run.info.id, forced: [] };
  }
  const baseLayers = re?.layers ?? run.info.layers;
  const reusable = reusablePrefixLength(plan.diffIds, [baseLayers, app.layers]);
  const baseCount = baseLayers.length;
  const wanted = new Set(plan.appLayers.filter((_, i) => baseCount + i >= reusable));
  const dir = await makeKilnTempDir('rebase');
  try {
    const files = wanted.size > 0 ? await layersFromSavedImage({ engine }, app.id, wanted, dir) : new Map();
    const layers: ArchiveLayer[] = plan.appLayers.map((diffId, i) => {
      if (baseCount + i < reusable) return { diffId, history: {}, reuse: true };
      const file = files.get(diffId);
      if (file === undefined) throw rebaseError(image, `layer ${diffId} was not found in docker save of the app image`);
      return { diffId, history: {}, tarPath: file.path };
    });
    reporter.emit({ type: 'info', message: `Rebasing ${image} onto ${run.name} (${plan.appLayers.length} app layers kept)` });
    const { imageId, stream } = await imageArchiveStream({
      base: { layers: baseLayers, os: app.os, architecture: app.architecture, ...(app.variant !== undefined ? { variant: app.variant } : {}) },
      layers,
      // The input key described the build on the old run image: a rebased image is not that build's output.
      config: { ...app.config, labels: Object.fromEntries(Object.entries(plan.labels).filter(([k]) => k !== INPUT_KEY_LABEL && k !== INPUT_IMAGES_LABEL)) },
      created: app.created !== '' ? app.created : '1980-01-01T00:00:01Z',
      // An image given by id is rebased to a new, untagged id.
      tags: /^(sha256:)?[0-9a-f]{12,64}$/.test(image) ? [] : [image],
    });
    await engine.loadImage(stream);
    if ((await engine.inspectImage(imageId)) === undefined) throw rebaseError(image, `the daemon did not report image ${imageId} after loading it`);
    if (!/^(sha256:)?[0-9a-f]{12,64}$/.test(image) && (await engine.inspectImage(image))?.id !== imageId) await engine.tagImage(imageId, image);
    reporter.emit({ type: 'info', message: `Rebased ${image}: ${imageId}` });
    if (req.publish === true) await publishImage(engine, reporter, image, await registryAuthFor(image));
    return { imageId, previousImageId: app.id, runImage: run.name, runImageId: run.info.id, forced };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

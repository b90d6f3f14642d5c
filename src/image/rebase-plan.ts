/**
 * What a rebase does, decided in pure code (platform.md, "`rebaser`"): which run image to use, whether
 * the app image may be rebased onto it, the new layer list (new base + every app layer above the
 * recorded runImage.topLayer, which includes extension layers, platform.md, "`exporter`") and the rewritten labels.
 */
import type { ImageInfo, Labels } from '../ports.js';
import { encodeLifecycleMetadata, LIFECYCLE_METADATA_LABEL, REBASABLE_LABEL, type LifecycleMetadata } from './lifecycle-labels.js';

/** A reason the rebase may not happen without --force (or not at all when `fatal`). */
export interface RebaseRefusal {
  kind: 'rebasable' | 'run-image' | 'target' | 'top-layer';
  reason: string;
  hint: string;
  /** Not even --force helps (e.g. the recorded top layer is not in the image). */
  fatal?: boolean;
}

/** A reference without its digest, for comparing names (the digest is ignored when run image names are compared; platform.md, "`rebaser`"). */
export function nameOf(ref: string): string {
  const at = ref.indexOf('@');
  return at >= 0 ? ref.slice(0, at) : ref;
}

/** Run image names to try, in order: the recorded image, then its mirrors (stack.runImage as fallback). */
export function candidateRunImages(md: LifecycleMetadata): string[] {
  const image = md.runImage.image !== '' ? md.runImage.image : md.stack.runImage.image;
  const mirrors = md.runImage.image !== '' ? md.runImage.mirrors : md.stack.runImage.mirrors;
  return [image, ...mirrors].filter((n) => n !== '');
}

/** Refusals a forced rebase overrides: rebasable=false, a run image outside image/mirrors, another os/arch. */
export function rebaseRefusals(app: ImageInfo, md: LifecycleMetadata, runImageName: string, newBase: ImageInfo): RebaseRefusal[] {
  const out: RebaseRefusal[] = [];
  if (app.config.labels[REBASABLE_LABEL] === 'false') {
    out.push({
      kind: 'rebasable',
      reason: `the image is labelled ${REBASABLE_LABEL}=false (a run.Dockerfile extended its run image without declaring the result rebasable)`,
      hint: 'use --reextend to re-apply the recorded run.Dockerfiles onto the new run image, or --force to move the extension layers as they are',
    });
  }
  const allowed = candidateRunImages(md).map(nameOf);
  if (!allowed.includes(nameOf(runImageName))) {
    out.push({
      kind: 'run-image',
      reason: `run image ${runImageName} is not the image the app was built on (${allowed.join(', ') || 'none recorded'}) nor one of its mirrors`,
      hint: 'pass --force to rebase onto it anyway (the label then records it as the run image)',
    });
  }
  if (app.os !== newBase.os || app.architecture !== newBase.architecture || (app.variant !== undefined && newBase.variant !== undefined && app.variant !== newBase.variant)) {
    out.push({
      kind: 'target',
      reason: `run image ${runImageName} is ${newBase.os}/${newBase.architecture} but the app image is ${app.os}/${app.architecture}`,
      hint: 'pick a run image of the same target, or --force',
    });
  }
  if (app.layers.indexOf(md.runImage.topLayer) < 0) {
    out.push({ kind: 'top-layer', reason: `the recorded run image top layer ${md.runImage.topLayer || '(none)'} is not a layer of the image`, hint: 'rebuild the image', fatal: true });
  }
  return out;
}

export interface RebasePlan {
  /** Every diffID of the rebased image, bottom to top. */
  diffIds: string[];
  /** The app's layers kept (above the old topLayer), bottom to top. */
  appLayers: string[];
  labels: Labels;
  metadata: LifecycleMetadata;
}

const BASE_LABEL = /^io\.buildpacks\.(base|stack)\./;

/**
 * The rebased image's layers and labels. `runImageName` is recorded as runImage.image (mirrors cleared)
 * only when it is not already the image or one of its mirrors (a forced rebase, platform.md, "`rebaser`").
 */
/**
 * How many layers right above runImage.topLayer no lifecycle label records: the extension layers, which
 * the exporter puts before any buildpack layer (platform.md, "`exporter`").
 */
export function extensionLayerCount(app: ImageInfo, md: LifecycleMetadata): number {
  const recorded = new Set<string>([...md.app.map((a) => a.sha), md.config.sha, md.launcher.sha, md.processTypes.sha, md.sbom?.sha ?? '']);
  for (const bp of md.buildpacks) for (const l of Object.values(bp.layers)) recorded.add(l.sha);
  const above = app.layers.slice(app.layers.indexOf(md.runImage.topLayer) + 1);
  let n = 0;
  while (n < above.length && !recorded.has(above[n] as string)) n++;
  return n;
}

/** A re-extended new base (--reextend): its layers replace the new base's and the old extension layers. */
export interface Reextension {
  layers: string[];
  rebasable: boolean;
}

export function planRebase(app: ImageInfo, md: LifecycleMetadata, runImageName: string, newBase: ImageInfo, re?: Reextension): RebasePlan {
  const top = app.layers.indexOf(md.runImage.topLayer);
  if (top < 0) throw new Error(`top layer ${md.runImage.topLayer} is not in the image`);
  const appLayers = app.layers.slice(top + 1 + (re !== undefined ? extensionLayerCount(app, md) : 0));
  const newTop = newBase.layers.at(-1);
  if (newTop === undefined) throw new Error(`run image ${runImageName} has no layers`);
  const listed = candidateRunImages(md).map(nameOf).includes(nameOf(runImageName));
  const runImage = listed ? { ...md.runImage } : { ...md.runImage, image: runImageName, mirrors: [] };
  runImage.topLayer = newTop;
  runImage.reference = newBase.id;
  const metadata: LifecycleMetadata = { ...md, runImage, stack: { runImage: { image: runImage.image, mirrors: [...runImage.mirrors] } } };
  const labels: Labels = {};
  // io.buildpacks.base.* / stack.* come from the new base; rebasable stays as it was (platform.md, "`rebaser`").
  for (const [k, v] of Object.entries(app.config.labels)) if (!BASE_LABEL.test(k)) labels[k] = v;
  for (const [k, v] of Object.entries(newBase.config.labels)) if (BASE_LABEL.test(k)) labels[k] = v;
  labels[LIFECYCLE_METADATA_LABEL] = encodeLifecycleMetadata(metadata);
  // Re-extended: the Dockerfiles decided rebasability again, on the new base (platform.md, "`extender` (optional)").
  if (re !== undefined) labels[REBASABLE_LABEL] = String(re.rebasable);
  return { diffIds: [...(re?.layers ?? newBase.layers), ...appLayers], appLayers, labels, metadata };
}

/**
 * The builder image labels (platform.md, "Build Image"), in the JSON shapes pack writes, and their decoding for
 * `kiln builder inspect`. Keys inside objects are written in a fixed order and module maps sorted by
 * id and version, so the same builder.toml always gives the same label bytes (and image id).
 */
import type { Labels } from '../ports.js';
import { PLATFORM_API, SUPPORTED_BUILDPACK_APIS } from '../cnb/api-version.js';
import type { BuildpackDescriptor, OrderGroup, RunImageRef, Target } from '../cnb/models.js';
import type { BuilderPlan, PlannedModule } from './builder-plan.js';

import {
  BUILD_IMAGE_LABEL,
  BUILDER_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  BUILDPACK_METADATA_LABEL,
  BUILDPACK_ORDER_LABEL,
  EXTENSION_LAYERS_LABEL,
  EXTENSION_METADATA_LABEL,
  ORDER_EXTENSIONS_LABEL,
  PACKAGE_METADATA_LABEL,
} from '../cnb/labels.js';

export { BUILD_IMAGE_LABEL, BUILDER_METADATA_LABEL, BUILDPACK_LAYERS_LABEL, BUILDPACK_ORDER_LABEL, EXTENSION_LAYERS_LABEL, ORDER_EXTENSIONS_LABEL, PACKAGE_METADATA_LABEL };
/** A builder must not carry these package labels (pack's builder format; distribution.md, "Buildpackage"). */
export const PACKAGE_METADATA_LABELS = [BUILDPACK_METADATA_LABEL, EXTENSION_METADATA_LABEL, PACKAGE_METADATA_LABEL];

/** An element of builder metadata's buildpacks/extensions lists (pack's ModuleInfo). */
export interface ModuleInfoJson {
  id: string;
  version: string;
  homepage?: string;
  name?: string;
}

export interface TargetJson {
  os: string;
  arch: string;
  variant?: string;
  distros?: { name: string; version: string }[];
}

/** One `<id>.<version>` value of io.buildpacks.buildpack.layers / io.buildpacks.extension.layers. */
export interface ModuleLayerJson {
  api: string;
  stacks?: { id: string; mixins?: string[] }[];
  targets?: TargetJson[];
  order?: OrderJson;
  layerDiffID: string;
  homepage?: string;
  name?: string;
}

export type ModuleLayersJson = Record<string, Record<string, ModuleLayerJson>>;
export type OrderJson = { group: { id: string; version?: string; optional?: boolean }[] }[];

export interface ApisJson {
  buildpack: { deprecated: string[]; supported: string[] };
  platform: { deprecated: string[]; supported: string[] };
}

export interface BuilderMetadataJson {
  description: string;
  buildpacks: ModuleInfoJson[];
  extensions?: ModuleInfoJson[];
  stack: { runImage: { image: string; mirrors?: string[] } };
  images?: { image: string; mirrors?: string[] }[];
  lifecycle: { version: string; api: { buildpack: string; platform: string }; apis: ApisJson };
  createdBy: { name: string; version: string };
}

function moduleInfo(m: PlannedModule): ModuleInfoJson {
  const d = m.descriptor;
  return { id: d.id, version: d.version, ...(d.homepage !== '' ? { homepage: d.homepage } : {}), ...(d.name !== '' ? { name: d.name } : {}) };
}

function targetJson(t: Target): TargetJson {
  return {
    os: t.os,
    arch: t.arch,
    ...(t.variant !== '' ? { variant: t.variant } : {}),
    ...(t.distros.length > 0 ? { distros: t.distros.map((d) => ({ name: d.name, version: d.version })) } : {}),
  };
}

export function orderJson(groups: OrderGroup[]): OrderJson {
  return groups.map((g) => ({
    group: g.group.map((r) => ({ id: r.id, ...(r.version !== '' ? { version: r.version } : {}), ...(r.optional ? { optional: true } : {}) })),
  }));
}

/**
 * io.buildpacks.buildpack.layers / io.buildpacks.extension.layers; diffIds keyed by imageDir. Packages
 * leave targets out (`targets: false`): their descriptors, in the layers, keep them.
 */
export function moduleLayersJson(modules: PlannedModule[], diffIds: ReadonlyMap<string, string>, opts: { targets?: boolean } = {}): ModuleLayersJson {
  const out: ModuleLayersJson = {};
  for (const m of modules) {
    const d = m.descriptor;
    const diffId = diffIds.get(m.imageDir);
    if (diffId === undefined) throw new Error(`no layer diffID for ${m.imageDir}`);
    const bp = d.kind === 'buildpack' ? (d as BuildpackDescriptor) : undefined;
    const value: ModuleLayerJson = {
      api: d.api,
      ...(bp && bp.stacks.length > 0 ? { stacks: bp.stacks.map((s) => ({ id: s.id, ...(s.mixins.length > 0 ? { mixins: s.mixins } : {}) })) } : {}),
      ...(d.targets.length > 0 && opts.targets !== false ? { targets: d.targets.map(targetJson) } : {}),
      ...(bp && bp.order.length > 0 ? { order: orderJson(bp.order) } : {}),
      layerDiffID: diffId,
      ...(d.homepage !== '' ? { homepage: d.homepage } : {}),
      ...(d.name !== '' ? { name: d.name } : {}),
    };
    (out[d.id] ??= {})[d.version] = value;
  }
  return out;
}

const runImageJson = (r: RunImageRef): { image: string; mirrors?: string[] } => ({ image: r.image, ...(r.mirrors.length > 0 ? { mirrors: r.mirrors } : {}) });

export function builderMetadataJson(plan: BuilderPlan, createdBy: { name: string; version: string }): BuilderMetadataJson {
  const first = plan.runImages[0];
  const supported = [...SUPPORTED_BUILDPACK_APIS];
  return {
    description: plan.description,
    buildpacks: plan.buildpacks.map(moduleInfo),
    ...(plan.extensions.length > 0 ? { extensions: plan.extensions.map(moduleInfo) } : {}),
    stack: { runImage: first ? runImageJson(first) : { image: '' } },
    images: plan.runImages.map(runImageJson),
    // kiln's lifecycle is built in: "version" is kiln's, "api" the deprecated single-version form.
    lifecycle: {
      version: createdBy.version,
      api: { buildpack: supported[supported.length - 1] ?? '', platform: PLATFORM_API },
      apis: { buildpack: { deprecated: [], supported }, platform: { deprecated: [], supported: [PLATFORM_API] } },
    },
    createdBy,
  };
}

/** Every label kiln sets on a builder image (on top of the build image's own labels). */
export function builderLabels(plan: BuilderPlan, diffIds: ReadonlyMap<string, string>, createdBy: { name: string; version: string }): Labels {
  const labels: Labels = {
    [BUILDER_METADATA_LABEL]: JSON.stringify(builderMetadataJson(plan, createdBy)),
    [BUILDPACK_LAYERS_LABEL]: JSON.stringify(moduleLayersJson(plan.buildpacks, diffIds)),
    [BUILDPACK_ORDER_LABEL]: JSON.stringify(orderJson(plan.order)),
    [BUILD_IMAGE_LABEL]: plan.buildImage,
  };
  if (plan.extensions.length > 0) labels[EXTENSION_LAYERS_LABEL] = JSON.stringify(moduleLayersJson(plan.extensions, diffIds));
  if (plan.orderExtensions.length > 0) labels[ORDER_EXTENSIONS_LABEL] = JSON.stringify(orderJson(plan.orderExtensions));
  return labels;
}

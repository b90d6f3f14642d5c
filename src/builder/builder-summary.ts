/**
 * A builder image's labels and env -> what `kiln builder inspect` shows (pure). Labels are read in
 * pack's shapes (platform.md, "Build Image"), so builders made by pack can be inspected too; anything malformed is
 * reported as a warning and left out rather than failing the whole inspect.
 */
import { BASE_ID_LABEL, STACK_ID_LABEL } from '../cnb/labels.js';
import type { ImageInfo } from '../ports.js';
import type { ModuleRef, OrderGroup, RunImageRef } from '../cnb/models.js';
import {
  BUILD_IMAGE_LABEL,
  BUILDER_METADATA_LABEL,
  BUILDPACK_LAYERS_LABEL,
  BUILDPACK_ORDER_LABEL,
  EXTENSION_LAYERS_LABEL,
  ORDER_EXTENSIONS_LABEL,
} from './builder-labels.js';


export interface SummaryModule {
  id: string;
  version: string;
  api: string;
  name?: string;
  homepage?: string;
  layerDiffID?: string;
  /** Composite buildpacks only. */
  order?: OrderGroup[];
}

export interface BuilderSummary {
  image: string;
  imageId: string;
  description: string;
  createdBy?: { name: string; version: string };
  buildImage?: string;
  /** io.buildpacks.base.id (or the legacy io.buildpacks.stack.id) of the build base. */
  baseId?: string;
  cnbUser?: { uid: number; gid: number };
  buildpacks: SummaryModule[];
  extensions: SummaryModule[];
  order: OrderGroup[];
  orderExtensions: OrderGroup[];
  runImages: RunImageRef[];
  lifecycle?: { version?: string; buildpackApis: string[]; platformApis: string[] };
  warnings: string[];
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strArray = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function parseJson(labels: Record<string, string>, name: string, warnings: string[]): unknown {
  const text = labels[name];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    warnings.push(`label ${name} is not valid JSON`);
    return undefined;
  }
}

export function decodeOrderJson(v: unknown): OrderGroup[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((g) => ({
    group: (Array.isArray(g.group) ? g.group : []).filter(isObj).map(
      (r): ModuleRef => ({ id: str(r.id) ?? '', version: str(r.version) ?? '', optional: r.optional === true }),
    ),
  }));
}

function decodeLayers(v: unknown): SummaryModule[] {
  if (!isObj(v)) return [];
  const out: SummaryModule[] = [];
  for (const id of Object.keys(v).sort()) {
    const versions = v[id];
    if (!isObj(versions)) continue;
    for (const version of Object.keys(versions).sort()) {
      const m = versions[version];
      if (!isObj(m)) continue;
      const name = str(m.name);
      const homepage = str(m.homepage);
      const layerDiffID = str(m.layerDiffID);
      const order = decodeOrderJson(m.order);
      out.push({
        id,
        version,
        api: str(m.api) ?? '',
        ...(name !== undefined ? { name } : {}),
        ...(homepage !== undefined ? { homepage } : {}),
        ...(layerDiffID !== undefined ? { layerDiffID } : {}),
        ...(order.length > 0 ? { order } : {}),
      });
    }
  }
  return out;
}

function decodeRunImages(meta: Json): RunImageRef[] {
  const images = Array.isArray(meta.images) ? meta.images.filter(isObj) : [];
  const fromImages = images.map((i) => ({ image: str(i.image) ?? '', mirrors: strArray(i.mirrors) })).filter((i) => i.image !== '');
  if (fromImages.length > 0) return fromImages;
  const stack = isObj(meta.stack) && isObj(meta.stack.runImage) ? meta.stack.runImage : undefined;
  const image = stack ? str(stack.image) : undefined;
  return image ? [{ image, mirrors: strArray(stack?.mirrors) }] : [];
}

function envValue(env: readonly string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i] ?? '';
    if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  }
  return undefined;
}

export function summariseBuilder(image: string, info: ImageInfo): BuilderSummary {
  const labels = info.config.labels;
  const warnings: string[] = [];
  const metaRaw = parseJson(labels, BUILDER_METADATA_LABEL, warnings);
  if (metaRaw === undefined && labels[BUILDER_METADATA_LABEL] === undefined) warnings.push(`${image} has no ${BUILDER_METADATA_LABEL} label: it may not be a builder`);
  const meta = isObj(metaRaw) ? metaRaw : {};
  const createdBy = isObj(meta.createdBy) ? { name: str(meta.createdBy.name) ?? '', version: str(meta.createdBy.version) ?? '' } : undefined;
  const lc = isObj(meta.lifecycle) ? meta.lifecycle : undefined;
  const apis = lc && isObj(lc.apis) ? lc.apis : {};
  const supported = (k: string): string[] => {
    const a = apis[k];
    return isObj(a) ? strArray(a.supported) : [];
  };
  const uid = envValue(info.config.env, 'CNB_USER_ID');
  const gid = envValue(info.config.env, 'CNB_GROUP_ID');
  const buildImage = labels[BUILD_IMAGE_LABEL];
  const baseId = labels[BASE_ID_LABEL] ?? labels[STACK_ID_LABEL];
  const lifecycleVersion = lc ? str(lc.version) : undefined;
  return {
    image,
    imageId: info.id,
    description: str(meta.description) ?? '',
    ...(createdBy ? { createdBy } : {}),
    ...(buildImage !== undefined ? { buildImage } : {}),
    ...(baseId !== undefined ? { baseId } : {}),
    ...(uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid) ? { cnbUser: { uid: Number(uid), gid: Number(gid) } } : {}),
    buildpacks: decodeLayers(parseJson(labels, BUILDPACK_LAYERS_LABEL, warnings)),
    extensions: decodeLayers(parseJson(labels, EXTENSION_LAYERS_LABEL, warnings)),
    order: decodeOrderJson(parseJson(labels, BUILDPACK_ORDER_LABEL, warnings)),
    orderExtensions: decodeOrderJson(parseJson(labels, ORDER_EXTENSIONS_LABEL, warnings)),
    runImages: decodeRunImages(meta),
    ...(lc ? { lifecycle: { ...(lifecycleVersion !== undefined ? { version: lifecycleVersion } : {}), buildpackApis: supported('buildpack'), platformApis: supported('platform') } } : {}),
    warnings,
  };
}

function formatOrder(groups: OrderGroup[], indent: string): string[] {
  if (groups.length === 0) return [`${indent}(none)`];
  const lines: string[] = [];
  groups.forEach((g, i) => {
    lines.push(`${indent}Group #${i + 1}:`);
    for (const r of g.group) lines.push(`${indent}  ${r.id}${r.version !== '' ? `@${r.version}` : ''}${r.optional ? ' (optional)' : ''}`);
  });
  return lines;
}

function formatModules(mods: SummaryModule[]): string[] {
  if (mods.length === 0) return ['  (none)'];
  return mods.map((m) => `  ${m.id}@${m.version}  api ${m.api}${m.name ? `  ${m.name}` : ''}${m.homepage ? `  ${m.homepage}` : ''}${m.order ? '  (composite)' : ''}`);
}

/** Human-readable text of a summary (stdout of `kiln builder inspect`). */
export function formatBuilderSummary(s: BuilderSummary): string {
  const lines = [
    `Builder: ${s.image}`,
    `Image id: ${s.imageId}`,
    ...(s.description !== '' ? [`Description: ${s.description}`] : []),
    ...(s.createdBy ? [`Created by: ${s.createdBy.name} ${s.createdBy.version}`] : []),
    `Build image: ${s.buildImage ?? '(unknown)'}${s.baseId ? ` (${s.baseId})` : ''}`,
    `CNB user: ${s.cnbUser ? `${s.cnbUser.uid}:${s.cnbUser.gid}` : '(missing CNB_USER_ID/CNB_GROUP_ID)'}`,
    'Run images:',
    ...(s.runImages.length > 0 ? s.runImages.map((r) => `  ${r.image}${r.mirrors.length > 0 ? ` (mirrors: ${r.mirrors.join(', ')})` : ''}`) : ['  (none)']),
    'Buildpacks:',
    ...formatModules(s.buildpacks),
    'Extensions:',
    ...formatModules(s.extensions),
    'Order:',
    ...formatOrder(s.order, '  '),
    'Order (extensions):',
    ...formatOrder(s.orderExtensions, '  '),
    ...s.warnings.map((w) => `Warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

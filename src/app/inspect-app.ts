/**
 * `kiln inspect <image>`: what an app image's labels (platform.md, "Labels") and layers say about it — run image
 * (and whether extensions extended it: layers above runImage.topLayer that no label records, platform.md, "`exporter`"),
 * buildpacks, processes, rebasable, each layer's role, SBOM presence. Pure summary + a text renderer.
 */
import { BUILD_METADATA_LABEL, decodeBuildMetadata, REBASABLE_LABEL, type BuildMetadata, type LifecycleMetadata } from '../image/lifecycle-labels.js';
import type { ContainerEngine, ImageInfo } from '../ports.js';
import { readAppImage } from './app-image.js';

export type LayerRole = 'run-image' | 'extension' | 'buildpack' | 'sbom' | 'app' | 'launcher' | 'config' | 'process-types' | 'unknown';

export interface AppImageSummary {
  image: string;
  id: string;
  created: string;
  runImage: { image: string; mirrors: string[]; reference: string; topLayer: string; extended: boolean; extensionLayers: number };
  /** Every extension of the build (io.buildpacks.build.metadata extensions), emitting a Dockerfile or not. */
  extensions: { id: string; version: string }[];
  rebasable: boolean;
  buildpacks: { id: string; version: string; homepage?: string; layers: string[] }[];
  processes: { type: string; command: string[]; args: string[]; default: boolean; buildpackId: string }[];
  defaultProcess?: string;
  /** Each layer's role, bottom to top; `owner` names the buildpack layer (`<id>:<layer>`). */
  layers: { diffId: string; role: LayerRole; owner?: string }[];
  sbom: { present: boolean; diffId?: string };
}

function roles(app: ImageInfo, md: LifecycleMetadata): Map<string, { role: LayerRole; owner?: string }> {
  const m = new Map<string, { role: LayerRole; owner?: string }>();
  for (const bp of md.buildpacks) for (const [name, l] of Object.entries(bp.layers)) if (l.sha !== '') m.set(l.sha, { role: 'buildpack', owner: `${bp.key}:${name}` });
  if (md.sbom !== undefined && md.sbom.sha !== '') m.set(md.sbom.sha, { role: 'sbom' });
  for (const a of md.app) m.set(a.sha, { role: 'app' });
  if (md.launcher.sha !== '') m.set(md.launcher.sha, { role: 'launcher' });
  if (md.config.sha !== '') m.set(md.config.sha, { role: 'config' });
  if (md.processTypes.sha !== '') m.set(md.processTypes.sha, { role: 'process-types' });
  const top = app.layers.indexOf(md.runImage.topLayer);
  app.layers.forEach((d, i) => {
    if (i <= top) m.set(`#${i}`, { role: 'run-image' });
    else if (!m.has(d)) m.set(`#${i}`, { role: 'extension' });
  });
  return m;
}

/** The summary of an image already read (pure). */
export function summariseAppImage(image: string, app: ImageInfo, md: LifecycleMetadata): AppImageSummary {
  const labelText = app.config.labels[BUILD_METADATA_LABEL];
  const build: BuildMetadata | undefined = labelText !== undefined ? decodeBuildMetadata(labelText) : undefined;
  const r = roles(app, md);
  const layers = app.layers.map((diffId, i) => {
    const byIndex = r.get(`#${i}`);
    const byDiff = r.get(diffId);
    const found = byIndex ?? byDiff ?? { role: 'unknown' as const };
    return { diffId, role: found.role, ...(found.owner !== undefined ? { owner: found.owner } : {}) };
  });
  const extensionLayers = layers.filter((l) => l.role === 'extension').length;
  const processes = (build?.processes ?? []).map((p) => ({ type: p.type, command: p.command, args: p.args, default: p.type === build?.defaultProcessType, buildpackId: p.buildpackId }));
  return {
    image,
    id: app.id,
    created: app.created,
    runImage: { ...md.runImage, extended: extensionLayers > 0, extensionLayers },
    extensions: (build?.extensions ?? []).map((e) => ({ id: e.id, version: e.version })),
    rebasable: app.config.labels[REBASABLE_LABEL] !== 'false',
    buildpacks: md.buildpacks.map((bp) => {
      const info = build?.buildpacks.find((b) => b.id === bp.key);
      return { id: bp.key, version: bp.version, ...(info?.homepage !== undefined ? { homepage: info.homepage } : {}), layers: Object.keys(bp.layers) };
    }),
    processes,
    ...(build?.defaultProcessType !== undefined ? { defaultProcess: build.defaultProcessType } : {}),
    layers,
    sbom: md.sbom !== undefined && md.sbom.sha !== '' ? { present: true, diffId: md.sbom.sha } : { present: false },
  };
}

export async function inspectApp(engine: ContainerEngine, image: string): Promise<AppImageSummary> {
  const { app, md } = await readAppImage(engine, image, `inspect ${image}`);
  return summariseAppImage(image, app, md);
}

const short = (d: string): string => d.replace(/^sha256:/, '').slice(0, 12);

export function formatAppImageSummary(s: AppImageSummary): string {
  const out: string[] = [`Image: ${s.image} (${short(s.id)})`, ''];
  out.push(`Run image: ${s.runImage.image}${s.runImage.mirrors.length > 0 ? ` (mirrors: ${s.runImage.mirrors.join(', ')})` : ''}`);
  out.push(`  reference: ${s.runImage.reference}`, `  top layer: ${s.runImage.topLayer}`);
  out.push(`  extended: ${s.runImage.extended ? `yes (${s.runImage.extensionLayers} extension layer(s))` : 'no'}`);
  out.push(`Rebasable: ${s.rebasable ? 'yes' : 'no'}`, '');
  out.push('Extensions:', ...(s.extensions.length > 0 ? s.extensions.map((e) => `  ${e.id}@${e.version}`) : ['  (none)']));
  out.push('Buildpacks:', ...s.buildpacks.map((b) => `  ${b.id}@${b.version}${b.layers.length > 0 ? ` layers: ${b.layers.join(', ')}` : ''}`));
  out.push('Processes:', ...(s.processes.length > 0 ? s.processes.map((p) => `  ${p.type}${p.default ? ' (default)' : ''}: ${[...p.command, ...p.args].join(' ')}`) : ['  (none)']));
  out.push('', 'Layers (bottom to top):', ...s.layers.map((l) => `  ${short(l.diffId)} ${l.role}${l.owner !== undefined ? ` ${l.owner}` : ''}`));
  out.push('', `SBOM: ${s.sbom.present ? `yes (layer ${short(s.sbom.diffId ?? '')}; kiln sbom download ${s.image})` : 'no'}`);
  return `${out.join('\n')}\n`;
}

/**
 * The layers a builder image adds on top of its build image (platform.md, "Build Image"):
 *   one per module:  cnb/, cnb/{buildpacks,extensions}/, …/<escaped-id>/, …/<version>/…  (root, 0755/0644)
 *   one config layer: /cnb/order.toml, /cnb/run.toml, /cnb/stack.toml, /cnb/build-config/env/*
 *   one dirs layer:   /layers and /workspace owned by the CNB user, /platform and /platform/env root 0755
 * Every entry has a fixed mtime and normalised modes (not the host umask), so the same inputs always
 * give the same diffIDs.
 */
import { layerFromDir, layerFromFiles, type LayerEntry } from '../image/layer-tar.js';
import type { TarFileEntry } from '../image/tar-files.js';
import type { BuilderPlan, PlannedModule } from './builder-plan.js';

export interface BuilderLayerSpec {
  /** Stable name used for the temp file and in messages: the module's imageDir, or "config"/"dirs". */
  name: string;
  entries: () => AsyncIterable<LayerEntry> | Iterable<LayerEntry>;
}

const ROOT_DIR = { uid: 0, gid: 0, mode: 0o755 };

/** Modules are root-owned and readable (and, for dirs/executables, runnable) by every user. */
function normaliseMode(e: LayerEntry): LayerEntry {
  if (e.type === 'symlink') return { ...e, uid: 0, gid: 0, mode: 0o777 };
  const exec = e.type === 'directory' || (e.mode & 0o111) !== 0;
  return { ...e, uid: 0, gid: 0, mode: exec ? 0o755 : 0o644 };
}

/** One module's layer: its parent directories and its files below /<imageDir> (also a package's layers, app/package-module.ts). */
export async function* moduleEntries(m: PlannedModule): AsyncIterable<LayerEntry> {
  const parts = m.imageDir.split('/');
  const parents = parts.slice(0, -1).map((_, i) => ({ path: `/${parts.slice(0, i + 1).join('/')}`, ...ROOT_DIR }));
  for await (const e of layerFromDir(m.hostDir, { prefix: `/${m.imageDir}`, uid: 0, gid: 0, parents, modes: 'world-readable', rootMode: 0o755 })) {
    yield normaliseMode(e);
  }
}

export function configLayerFiles(plan: BuilderPlan): TarFileEntry[] {
  const files: TarFileEntry[] = [
    { path: 'cnb', type: 'directory' },
    { path: 'cnb/order.toml', content: plan.orderToml },
    { path: 'cnb/run.toml', content: plan.runToml },
  ];
  if (plan.stackToml !== '') files.push({ path: 'cnb/stack.toml', content: plan.stackToml });
  if (plan.buildConfigEnv.length > 0) {
    files.push({ path: 'cnb/build-config', type: 'directory' }, { path: 'cnb/build-config/env', type: 'directory' });
    for (const f of plan.buildConfigEnv) files.push({ path: `cnb/build-config/env/${f.name}`, content: f.content });
  }
  return files;
}

/** /layers and /workspace belong to the CNB user (pack's default-dirs layer, platform.md, "Build Image"). */
export function dirsLayerFiles(user: { uid: number; gid: number }): TarFileEntry[] {
  return [
    { path: 'layers', type: 'directory', mode: 0o755, uid: user.uid, gid: user.gid },
    { path: 'platform', type: 'directory', mode: 0o755 },
    { path: 'platform/env', type: 'directory', mode: 0o755 },
    { path: 'workspace', type: 'directory', mode: 0o755, uid: user.uid, gid: user.gid },
  ];
}

/** Layers bottom to top: buildpacks (sorted), extensions (sorted), config, dirs. */
export function builderLayerSpecs(plan: BuilderPlan, user: { uid: number; gid: number }): BuilderLayerSpec[] {
  return [
    ...[...plan.buildpacks, ...plan.extensions].map((m) => ({ name: m.imageDir, entries: () => moduleEntries(m) })),
    { name: 'config', entries: () => layerFromFiles(configLayerFiles(plan)) },
    { name: 'dirs', entries: () => layerFromFiles(dirsLayerFiles(user)) },
  ];
}

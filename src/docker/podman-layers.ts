/**
 * Where the adapter finds layer tars podman wants in an archive (podman-archive.ts): images the
 * adapter has seen (every inspect records which image holds which diffID), else any image in the
 * daemon, inspected one by one. The tars come out of `GET /images/{id}/get`, where podman names each
 * layer file after its diffID (`<hex>.tar`).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tarStream from 'tar-stream';
import type { LayerSource } from './podman-archive.js';

export interface LayerHomes {
  /** Records the layers of an image the adapter inspected. */
  remember(imageId: string, layers: readonly string[]): void;
  source: LayerSource;
}

const LAYER_NAME = /^(?:\.\/)?([0-9a-f]{64})(?:\.tar|\/layer\.tar)$/;

export function layerHomes(docker: Docker): LayerHomes {
  const homes = new Map<string, string>();
  const inspected = new Set<string>();
  const remember = (imageId: string, layers: readonly string[]): void => {
    inspected.add(imageId);
    for (const l of layers) if (!homes.has(l)) homes.set(l, imageId);
  };

  /** An image holding one of `wanted`: a remembered one, else the first found by inspecting the rest. */
  async function imageWith(wanted: ReadonlySet<string>, tried: ReadonlySet<string>): Promise<string | undefined> {
    const known = (): string | undefined => {
      for (const d of wanted) {
        const id = homes.get(d);
        if (id !== undefined && !tried.has(id)) return id;
      }
      return undefined;
    };
    const hit = known();
    if (hit !== undefined) return hit;
    for (const img of await docker.listImages({ all: true })) {
      if (inspected.has(img.Id)) continue;
      const raw = (await docker.getImage(img.Id).inspect().catch(() => undefined)) as { RootFS?: { Layers?: unknown } } | undefined;
      const layers = Array.isArray(raw?.RootFS?.Layers) ? raw.RootFS.Layers.filter((l): l is string => typeof l === 'string') : [];
      remember(img.Id, layers);
      if (layers.some((l) => wanted.has(l))) return known();
    }
    return undefined;
  }

  const source: LayerSource = async (diffIds, each) => {
    const wanted = new Set(diffIds);
    const tried = new Set<string>();
    while (wanted.size > 0) {
      const id = await imageWith(wanted, tried);
      if (id === undefined) return;
      tried.add(id);
      const saved = (await docker.getImage(id).get()) as unknown as Readable;
      const extract = tarStream.extract();
      saved.on('error', (e: Error) => extract.destroy(e));
      saved.pipe(extract);
      for await (const entry of extract) {
        const hex = LAYER_NAME.exec(entry.header.name)?.[1];
        const diffId = hex !== undefined ? `sha256:${hex}` : undefined;
        if (entry.header.type === 'file' && diffId !== undefined && wanted.has(diffId)) {
          wanted.delete(diffId);
          await each(diffId, { size: entry.header.size ?? 0, content: entry as unknown as Readable });
        } else entry.resume();
      }
    }
  };
  return { remember, source };
}

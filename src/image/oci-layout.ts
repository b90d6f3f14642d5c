/**
 * An OCI image layout tar (image-spec v1.0: oci-layout, index.json, blobs/sha256/…) of one image whose
 * layers are stored uncompressed: the `.cnb` file format of distribution.md, "Buildpackage".
 */
import { readFile } from 'node:fs/promises';
import { digestHex, sha256Hex } from './digest.js';
import { makeTar, type TarFileEntry } from './tar-files.js';

const blob = (digest: string): string => `blobs/sha256/${digestHex(digest)}`;

/** The layout's bytes; `layers` bottom to top, each a tar on disk with its diffID (its digest, uncompressed). */
export async function ociLayoutTar(configJson: Buffer, configDigest: string, layers: ReadonlyArray<{ diffId: string; tarPath: string }>): Promise<Buffer> {
  const contents = await Promise.all(layers.map(async (l) => ({ diffId: l.diffId, content: await readFile(l.tarPath) })));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configJson.length },
      layers: contents.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.diffId, size: l.content.length })),
    }),
  );
  const manifestDigest = `sha256:${sha256Hex(manifest)}`;
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length }] };
  const seen = new Set<string>();
  const layerBlobs: TarFileEntry[] = [];
  for (const l of contents) {
    if (seen.has(l.diffId)) continue;
    seen.add(l.diffId);
    layerBlobs.push({ path: blob(l.diffId), content: l.content });
  }
  return makeTar([
    { path: 'oci-layout', content: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { path: 'index.json', content: JSON.stringify(index) },
    { path: 'blobs', type: 'directory' },
    { path: 'blobs/sha256', type: 'directory' },
    ...layerBlobs,
    { path: blob(configDigest), content: configJson },
    { path: blob(manifestDigest), content: manifest },
  ]);
}

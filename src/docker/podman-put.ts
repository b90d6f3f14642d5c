/**
 * Archive uploads that span volumes, on podman (issue 19 point 3). Docker extracts a tar put at `/`
 * of a created container through the container's mounts, so `workspace/app.py` lands in the volume
 * mounted at /workspace (lifecycle/container/volume-io.ts sends one tar for all the volumes of a
 * build that way). podman 4.3 extracts it into the container's own file system, under the mount point,
 * where no module ever sees it. On podman the adapter therefore splits such a tar: entries below a
 * volume's mount point go in a request of their own to that mount point (podman resolves a path inside
 * a volume to the volume), the rest to the original destination. The input's entries are grouped by
 * volume already, so this is one request per volume, streamed.
 */
import { posix } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as tarStream from 'tar-stream';

type EntryHeader = Parameters<tarStream.Pack['entry']>[0];

/** Mount points strictly below `dest` (absolute, no trailing slash): the ones a put at `dest` spans. */
export function mountsBelow(dest: string, mounts: readonly string[]): string[] {
  const d = posix.normalize(`/${dest}`).replace(/\/+$/, '');
  return mounts.map((m) => posix.normalize(`/${m}`).replace(/\/+$/, '')).filter((m) => m !== d && m.startsWith(`${d}/`));
}

/** Where an entry goes: the deepest mount holding it ('' for none) and its name relative to that. */
export function placeEntry(dest: string, name: string, mounts: readonly string[]): { mount: string; name: string } {
  const abs = posix.normalize(posix.join('/', dest, name)).replace(/\/+$/, '');
  let best = '';
  for (const m of mounts) if ((abs === m || abs.startsWith(`${m}/`)) && m.length > best.length) best = m;
  if (best === '') return { mount: '', name };
  const rel = abs === best ? '.' : abs.slice(best.length + 1);
  return { mount: best, name: name.endsWith('/') && rel !== '.' ? `${rel}/` : rel };
}

/**
 * Sends `tar` (extracted at `dest`) as one request per target: `put(target, stream)` is called for
 * each run of entries with the same target, one at a time. A failed request fails the whole upload.
 */
export async function putAcrossMounts(tar: Readable | Buffer, dest: string, mounts: readonly string[], put: (target: string, body: Readable) => Promise<void>): Promise<void> {
  const extract = tarStream.extract();
  const input = Buffer.isBuffer(tar) ? Readable.from([tar]) : tar;
  input.on('error', (e: Error) => extract.destroy(e));
  input.pipe(extract);
  let current: { mount: string; pack: tarStream.Pack; done: Promise<void> } | undefined;
  let failure: Error | undefined;
  const finish = async (): Promise<void> => {
    if (current === undefined) return;
    const { pack, done } = current;
    current = undefined;
    pack.finalize();
    await done;
  };
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const placed = placeEntry(dest, h.name, mounts);
      if (current?.mount !== placed.mount) {
        await finish();
        const pack = tarStream.pack();
        const body = new PassThrough();
        pack.pipe(body);
        const done = put(placed.mount === '' ? dest : placed.mount, body);
        done.catch((e: unknown) => {
          failure = e instanceof Error ? e : new Error(String(e));
          extract.destroy(failure);
        });
        current = { mount: placed.mount, pack, done };
      }
      const header: EntryHeader = { ...h, name: placed.name };
      if (h.type === 'link' && typeof h.linkname === 'string') header.linkname = placeEntry(dest, h.linkname, mounts).name;
      const pack = current.pack;
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
        if (h.type === 'file' || h.type === 'contiguous-file') entry.pipe(sink as unknown as NodeJS.WritableStream);
        else entry.resume(); // entries without content are finished by tar-stream itself
      });
    }
    await finish();
  } catch (e) {
    current?.pack.destroy();
    throw failure ?? e;
  }
}

/**
 * What differs when the daemon behind the Docker API is podman (`podman system service`; README
 * "podman"), decided in pure code here so docker-engine.ts applies it in one place and lifecycle/ and
 * app/ never ask which daemon they talk to. Seen on podman 4.3:
 *  - image archives must carry every layer tar (podman-archive.ts);
 *  - a commit answers with a bare hex id (no `sha256:`), image names come back fully qualified
 *    (`docker.io/library/busybox:latest`, `localhost/app:1`);
 *  - creating containers in parallel that mount the same named volumes can deadlock the daemon, so
 *    creates are made one at a time (serialQueue);
 *  - an empty Entrypoint does not clear the image's (explicitEntrypoint), and an import ignores its
 *    tag (docker-engine.ts names it repo:tag);
 *  - a tar put at `/` is not extracted through the container's volume mounts (podman-put.ts splits it);
 *  - attach streams may end with podman's own error line (withoutAttachNoise);
 *  - NOT corrected: an archive read of a path inside a volume reports every entry with the reading
 *    container's uid/gid (the files themselves keep the tar's owners; kiln's lifecycle sets the owners
 *    of image layers itself, docs/architecture.md "Known traps", so nothing depends on them).
 */
import type { ImageInfo, OutputStream } from '../ports.js';

/** The parts of `GET /version` that tell the daemon apart. */
export interface VersionAnswer {
  Version?: unknown;
  Platform?: { Name?: unknown } | null;
  Components?: Array<{ Name?: unknown; Version?: unknown }> | null;
}

export interface DaemonKind {
  podman: boolean;
  /** The engine's version ("4.3.1", "20.10.24"), '' when not reported. */
  version: string;
}

/** podman says so in a component's name ("Podman Engine") or the platform name. */
export function daemonKind(v: VersionAnswer): DaemonKind {
  const named = (x: unknown): boolean => typeof x === 'string' && /podman/i.test(x);
  const engine = (v.Components ?? []).find((c) => named(c.Name));
  const podman = engine !== undefined || named(v.Platform?.Name);
  const version = typeof engine?.Version === 'string' ? engine.Version : typeof v.Version === 'string' ? v.Version : '';
  return { podman, version };
}

/** `sha256:<hex>` for an image id the daemon gave as bare hex; anything else unchanged. */
export function normaliseImageId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? `sha256:${id}` : id;
}

/**
 * An image name as Docker reports it: `docker.io/library/x` -> `x`, `docker.io/x/y` -> `x/y`, and
 * podman's `localhost/x` (its name for an unqualified local image) -> `x`. Names with another
 * registry are unchanged.
 */
export function normaliseImageName(name: string): string {
  if (name.startsWith('docker.io/library/')) return name.slice('docker.io/library/'.length);
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  if (name.startsWith('localhost/')) return name.slice('localhost/'.length);
  return name;
}

/** An inspected image with Docker's id and name forms. */
export function normaliseImageInfo(info: ImageInfo): ImageInfo {
  const names = (xs: string[]): string[] => [...new Set(xs.map(normaliseImageName))];
  return { ...info, id: normaliseImageId(info.id), repoTags: names(info.repoTags), repoDigests: names(info.repoDigests) };
}

/**
 * Runs the calls given to it one at a time, in order (a failed call does not stop the next). Used for
 * container creates on podman, whose parallel creates on shared named volumes can deadlock (fixed in
 * later podman versions; the README names the tested ones).
 */
export function serialQueue(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

/**
 * podman 4.3 ends some attach streams of containers that have just exited with its own error text as
 * an output line ("Error: read unixpacket @->/proc/self/fd/13/attach: read: connection reset by
 * peer"); the module's output before it is complete. Such lines are not the module's and are dropped.
 */
export const PODMAN_ATTACH_NOISE = /^Error: read unixpacket [^ ]*\/attach: read: connection reset by peer$/;

/** The spec with podman's attach noise left out of its output lines. */
export function withoutAttachNoise<S extends { onLine?: (stream: OutputStream, line: string) => void }>(spec: S): S {
  const onLine = spec.onLine;
  if (onLine === undefined) return spec;
  return { ...spec, onLine: (stream: OutputStream, line: string) => (PODMAN_ATTACH_NOISE.test(line) ? undefined : onLine(stream, line)) };
}

/**
 * podman 4.3 keeps the image's ENTRYPOINT when a create asks for an empty one (Docker's way of
 * clearing it), so the command would become its arguments. On podman the command's executable is
 * made the entrypoint instead, which runs exactly the command on both.
 */
export function explicitEntrypoint<O extends { Entrypoint?: string | string[] | undefined; Cmd?: string | string[] | undefined }>(opts: O): O {
  const cmd = Array.isArray(opts.Cmd) ? opts.Cmd : [];
  if (cmd.length === 0 || !(Array.isArray(opts.Entrypoint) && opts.Entrypoint.length === 0)) return opts;
  return { ...opts, Entrypoint: cmd.slice(0, 1), Cmd: cmd.slice(1) };
}

/**
 * The ContainerEngine port (src/ports.ts) on a Docker daemon through dockerode — the only adapter that
 * knows Docker's API. Every failure becomes a KilnError: an unreachable daemon is one error naming
 * DOCKER_HOST or the socket, a missing image names the image, anything else keeps the daemon's words.
 */
import type { Readable } from 'node:stream';
import './lazy-deps.js';
import Docker from 'dockerode';
import { ExitCode, KilnError } from '../errors.js';
import type { BuildSpec, ContainerEngine, ContainerSpec, ExecSpec, ImageInfo, Labels, ResourceFilter, RunResult, RunSpec } from '../ports.js';
import { checkImageRef } from '../image/image-ref.js';
import { callDeadlines } from './call-deadline.js';
import { resolveDaemonTarget } from './connection.js';
import { refuseDaemonRedirects } from './no-redirects.js';
import { isNotFound, missingImage, toDaemonError, daemonMessage, isConnectionError, daemonUnreachable } from './errors.js';
import { buildImageStream, dialStream, loadedRefs, splitRef, toImageInfo } from './image-ops.js';
import { followJsonStream, StreamError } from './json-stream.js';
import { containerCreateOptions, runContainer } from './run-container.js';
import { execInContainer, startContainer } from './exec-container.js';
import { pullImageStream, registryAuthHeader } from './registry-pull.js';
import { completeImageArchive, dockerSaveLayout } from './podman-archive.js';
import { layerHomes } from './podman-layers.js';
import { mountsBelow, putAcrossMounts } from './podman-put.js';
import { daemonKind, normaliseImageInfo, normaliseImageName, explicitEntrypoint, serialQueue, withoutAttachNoise, type DaemonKind, type VersionAnswer } from './podman-quirks.js';

export interface DockerEngineOptions {
  /** Overrides DOCKER_HOST: unix:///path, /path, tcp://host:port or ssh://[user@]host[:port]. */
  host?: string;
  /** The environment the target is read from (DOCKER_HOST, contexts, HOME for ~/.ssh); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Missing paths in getArchive are reported with this cause prefix (volume-io relies on it). */
export const NO_SUCH_PATH = 'no such file or directory';

export function createDockerEngine(opts: DockerEngineOptions = {}): ContainerEngine {
  const target = resolveDaemonTarget(opts.host, opts.env);
  refuseDaemonRedirects();
  const docker = new Docker(target.options);
  const where = target.description;
  // Listing, removing and killing — what a cleanup does — never wait forever (call-deadline.ts).
  const deadline = callDeadlines(where);

  const wrap = (e: unknown, action: string, exitCode: number = ExitCode.generic): KilnError => toDaemonError(e, action, where, exitCode);

  // Docker or podman (podman-quirks.ts): asked once, when a difference first matters. A failed version
  // request is not remembered; the call that needed it fails with that error.
  let kind: Promise<DaemonKind> | undefined;
  const daemon = (): Promise<DaemonKind> => {
    if (kind === undefined) {
      const asked = docker.version().then((v) => daemonKind(v as VersionAnswer));
      asked.catch(() => {
        if (kind === asked) kind = undefined;
      });
      kind = asked;
    }
    return kind;
  };
  const isPodman = async (action: string): Promise<boolean> => {
    try {
      return (await daemon()).podman;
    } catch (e) {
      throw wrap(e, action);
    }
  };
  const podmanLayers = layerHomes(docker);
  const oneCreateAtATime = serialQueue();
  // Volume mount points of containers (podman-put.ts), asked once per container.
  const mountsOf = new Map<string, Promise<string[]>>();
  const volumeMounts = (id: string): Promise<string[]> => {
    let known = mountsOf.get(id);
    if (known === undefined) {
      known = docker
        .getContainer(id)
        .inspect()
        .then((c) => (c.Mounts ?? []).filter((m) => m.Type === 'volume').map((m) => m.Destination));
      known.catch(() => mountsOf.delete(id));
      mountsOf.set(id, known);
    }
    return known;
  };

  async function guard<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw wrap(e, action);
    }
  }

  /** Every reference is checked against the grammar before it reaches a URL (image-ref.ts). */
  const refOk = (ref: string): string => checkImageRef(ref, 'image reference');

  async function inspectImage(ref: string): Promise<ImageInfo | undefined> {
    refOk(ref);
    try {
      const info = toImageInfo((await docker.getImage(ref).inspect()) as Parameters<typeof toImageInfo>[0]);
      if (!(await daemon()).podman) return info;
      podmanLayers.remember(info.id, info.layers);
      return normaliseImageInfo(info);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw wrap(e, `inspect image ${ref}`);
    }
  }

  async function createContainer(spec: ContainerSpec): Promise<string> {
    refOk(spec.image);
    try {
      const podman = (await daemon()).podman;
      const options = containerCreateOptions(spec);
      const create = (): Promise<Docker.Container> => docker.createContainer(podman ? explicitEntrypoint(options) : options);
      const c = podman ? await oneCreateAtATime(create) : await create();
      return c.id;
    } catch (e) {
      if (isNotFound(e) && /no such image/i.test(daemonMessage(e))) throw missingImage(spec.image, 'create a container', e);
      throw wrap(e, `create a container of ${spec.image}`);
    }
  }

  async function removeContainer(id: string): Promise<void> {
    mountsOf.delete(id);
    try {
      await deadline.run(`remove container ${id.slice(0, 12)}`, (abortSignal) => docker.getContainer(id).remove({ force: true, v: false, abortSignal }));
    } catch (e) {
      // Gone already, or being removed by the daemon: both mean "removed".
      if (isNotFound(e) || /removal of container .* is already in progress/i.test(daemonMessage(e))) return;
      throw wrap(e, `remove container ${id.slice(0, 12)}`);
    }
  }

  const labelFilters = (filter: ResourceFilter): string => JSON.stringify({ label: filter.labels });

  const engine: ContainerEngine = {
    async ping() {
      try {
        await docker.ping();
      } catch (e) {
        if (isConnectionError(e)) throw daemonUnreachable(where, e);
        throw wrap(e, 'connect to the Docker daemon', ExitCode.daemon);
      }
    },

    runContainer: async (spec: RunSpec): Promise<RunResult> =>
      runContainer({ docker, create: createContainer, remove: removeContainer, wrap, deadline }, (await isPodman(`run ${spec.name ?? spec.image}`)) ? withoutAttachNoise(spec) : spec),
    createContainer,
    startContainer: (spec: ContainerSpec): Promise<string> => startContainer({ docker, create: createContainer, remove: removeContainer, wrap }, spec),
    execInContainer: (id: string, spec: ExecSpec): Promise<RunResult> => execInContainer({ docker, create: createContainer, remove: removeContainer, wrap, deadline }, id, spec),
    removeContainer,

    async putArchive(containerId, destPath, tar) {
      await guard(`copy files to ${destPath}`, async () => {
        const container = docker.getContainer(containerId);
        const below = (await daemon()).podman ? mountsBelow(destPath, await volumeMounts(containerId)) : [];
        if (below.length === 0) await container.putArchive(tar, { path: destPath });
        else await putAcrossMounts(tar, destPath, below, async (path, body) => void (await container.putArchive(body, { path })));
      });
    },

    async getArchive(containerId, srcPath) {
      try {
        return (await docker.getContainer(containerId).getArchive({ path: srcPath })) as unknown as Readable;
      } catch (e) {
        // The modem prefixes every 404 with "no such container"; the daemon itself says "No such container: <id>".
        if (isNotFound(e) && !/No such container:/.test(daemonMessage(e))) {
          throw new KilnError({ action: `copy ${srcPath} out of a container`, cause: `${NO_SUCH_PATH}: ${srcPath}`, subject: srcPath, original: e, kind: 'missing-path' });
        }
        throw wrap(e, `copy ${srcPath} out of a container`);
      }
    },

    async buildImage(spec: BuildSpec) {
      if (spec.tag !== undefined) refOk(spec.tag);
      const what = spec.tag !== undefined ? `build image ${spec.tag}` : `build an image from ${spec.dockerfile}`;
      let built: string | undefined;
      try {
        built = await buildImageStream(docker, spec);
      } catch (e) {
        if (spec.signal?.aborted === true) {
          throw new KilnError({ action: what, cause: 'the build was interrupted', exitCode: ExitCode.interrupted, original: e, kind: 'interrupted' });
        }
        if (e instanceof StreamError) throw new KilnError({ action: what, cause: e.message, original: e });
        throw wrap(e, what);
      }
      if (built === undefined) throw new KilnError({ action: what, cause: 'the daemon did not report the id of the built image' });
      const info = await inspectImage(built);
      if (info === undefined) throw missingImage(built, what);
      return { imageId: info.id };
    },

    async loadImage(archive) {
      try {
        const podman = (await daemon()).podman;
        const file = podman ? completeImageArchive(archive, podmanLayers.source) : archive;
        const stream = await dialStream(docker, { path: '/images/load?', method: 'POST', options: { _query: { quiet: '0' } }, file });
        const refs = loadedRefs(await followJsonStream(stream));
        return podman ? refs.map(normaliseImageName) : refs;
      } catch (e) {
        if (e instanceof StreamError) throw new KilnError({ action: 'load an image archive', cause: e.message, original: e });
        throw wrap(e, 'load an image archive');
      }
    },

    async importImage(rootfs, o) {
      const { repo, tag } = splitRef(refOk(o.ref));
      const action = `import image ${o.ref}`;
      try {
        // podman's import ignores `tag` (the image becomes repo:latest) but takes the whole reference as repo.
        const query: Record<string, unknown> = (await daemon()).podman ? { fromSrc: '-', repo: `${repo}:${tag}` } : { fromSrc: '-', repo, tag };
        if (o.changes !== undefined && o.changes.length > 0) query.changes = o.changes;
        const stream = await dialStream(docker, { path: '/images/create?', method: 'POST', options: { _query: query }, file: rootfs });
        await followJsonStream(stream);
      } catch (e) {
        if (e instanceof StreamError) throw new KilnError({ action, cause: e.message, original: e });
        throw wrap(e, action);
      }
      const info = await inspectImage(o.ref);
      if (info === undefined) throw missingImage(o.ref, action);
      return info.id;
    },

    async saveImage(ref) {
      if ((await inspectImage(ref)) === undefined) throw missingImage(ref, `save image ${ref}`);
      return guard(`save image ${ref}`, async () => {
        const podman = (await daemon()).podman;
        const saved = (await docker.getImage(ref).get()) as unknown as Readable;
        return podman ? dockerSaveLayout(saved) : saved;
      });
    },

    inspectImage,

    async pullImage(ref, o = {}) {
      await pullImageStream(docker, ref, o, (e) => wrap(e, `pull image ${ref}`));
    },

    async pushImage(ref, o = {}) {
      const action = `push image ${ref}`;
      if ((await inspectImage(ref)) === undefined) throw missingImage(ref, action);
      const { repo, tag } = splitRef(ref);
      try {
        // The daemon wants an X-Registry-Auth header even for a registry without auth: an empty config.
        const stream = await dialStream(docker, {
          path: `/images/${repo}/push?`,
          method: 'POST',
          options: { _query: { tag } },
          headers: { 'X-Registry-Auth': registryAuthHeader(o.auth) },
        });
        await followJsonStream(stream);
      } catch (e) {
        if (e instanceof StreamError) {
          throw new KilnError({ action, cause: e.message, hint: 'check that the registry answers and accepts pushes (a plain-HTTP registry must be on 127.0.0.1 or in the daemon\'s insecure-registries)', original: e });
        }
        throw wrap(e, action);
      }
    },

    async tagImage(ref, targetRef) {
      refOk(ref);
      const { repo, tag } = splitRef(refOk(targetRef));
      try {
        await docker.getImage(ref).tag({ repo, tag });
      } catch (e) {
        if (isNotFound(e)) throw missingImage(ref, `tag image ${ref} as ${targetRef}`, e);
        throw wrap(e, `tag image ${ref} as ${targetRef}`);
      }
    },

    async removeImage(ref, o) {
      refOk(ref);
      try {
        await deadline.run(`remove image ${ref}`, (abortSignal) => docker.getImage(ref).remove({ force: o?.force ?? false, abortSignal }));
      } catch (e) {
        if (isNotFound(e)) return;
        throw wrap(e, `remove image ${ref}`);
      }
    },

    async createVolume(name: string, labels: Labels) {
      await guard(`create volume ${name}`, async () => {
        await docker.createVolume({ Name: name, Labels: labels });
      });
    },

    async removeVolume(name) {
      try {
        await deadline.run(`remove volume ${name}`, (abortSignal) => docker.getVolume(name).remove({ abortSignal }));
      } catch (e) {
        if (isNotFound(e)) return;
        throw wrap(e, `remove volume ${name}`);
      }
    },

    async volumeExists(name) {
      try {
        await docker.getVolume(name).inspect();
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw wrap(e, `inspect volume ${name}`);
      }
    },

    listContainers: (filter) =>
      guard('list containers', () => deadline.run('list containers', async (abortSignal) => (await docker.listContainers({ all: true, filters: labelFilters(filter), abortSignal })).map((c) => c.Id))),
    listImages: (filter) => guard('list images', () => deadline.run('list images', async (abortSignal) => (await docker.listImages({ filters: labelFilters(filter), abortSignal })).map((i) => i.Id))),
    listVolumes: (filter) =>
      guard('list volumes', () => deadline.run('list volumes', async (abortSignal) => ((await docker.listVolumes({ filters: labelFilters(filter), abortSignal })).Volumes ?? []).map((v) => v.Name))),
    listLabelled: (kind, filter) =>
      guard(`list ${kind}s`, () =>
        deadline.run(`list ${kind}s`, async (abortSignal) => {
          const filters = labelFilters(filter);
          if (kind === 'container') return (await docker.listContainers({ all: true, filters, abortSignal })).map((c) => ({ id: c.Id, labels: c.Labels ?? {} }));
          if (kind === 'image') return (await docker.listImages({ all: true, filters, abortSignal })).map((i) => ({ id: i.Id, labels: i.Labels ?? {} }));
          return ((await docker.listVolumes({ filters, abortSignal })).Volumes ?? []).map((v) => ({ id: v.Name, labels: (v.Labels as Labels | null) ?? {} }));
        }),
      ),
  };
  return engine;
}

/**
 * The one recording fake of the ContainerEngine port (src/ports.ts) for unit tests of orchestration
 * (docs/architecture.md, "Layers": the lifecycle and app layers know the port, not the daemon). It keeps
 * volumes, containers and images in memory, records every call in order, and lets a test replace any
 * method (`overrides`); a replaced method is still recorded. Resources carry their labels, so the list
 * calls filter like the daemon does and a test can check that cleanup left nothing behind.
 */
import { Readable } from 'node:stream';
import { makeTar } from '../../src/image/tar-files.js';
import type { BuildSpec, ContainerEngine, ContainerSpec, ImageInfo, Labels, LabelledResource, PullOptions, RegistryAuth, ResourceFilter, ResourceKind, RunResult, RunSpec } from '../../src/ports.js';

type Method = keyof ContainerEngine;
type Overrides = { [M in Method]?: NonNullable<ContainerEngine[M]> };

export interface FakeCall {
  method: Method | 'note';
  /** A short text: the volume, container id, image or command the call was about. */
  what: string;
}

/** A minimal image (`id`, linux/amd64, no layers); `over` replaces fields. */
export function fakeImage(id: string, over: Partial<ImageInfo> = {}): ImageInfo {
  return {
    id,
    repoTags: [],
    repoDigests: [],
    os: 'linux',
    architecture: 'amd64',
    layers: [],
    config: { env: [], user: '', workingDir: '', entrypoint: null, cmd: null, labels: {} },
    size: 0,
    created: '',
    ...over,
  };
}

/** A method a test says its code must not use: calling it fails the test. */
export function notUsed(name: string): () => never {
  return () => {
    throw new Error(`${name} is not used in this test`);
  };
}

function matches(labels: Labels, filter: ResourceFilter): boolean {
  return filter.labels.every((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? labels[f] !== undefined : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

async function bytesOf(tar: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(tar)) return tar;
  const chunks: Buffer[] = [];
  for await (const c of tar) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class FakeEngine implements ContainerEngine {
  /** Every call, in the order made. */
  readonly calls: FakeCall[] = [];
  readonly volumes = new Map<string, Labels>();
  readonly containers = new Map<string, ContainerSpec>();
  readonly images = new Map<string, ImageInfo>();
  /** reference -> image id. */
  readonly tags = new Map<string, string>();
  readonly runs: RunSpec[] = [];
  readonly builds: BuildSpec[] = [];
  readonly puts: { container: string; dest: string; tar: Buffer }[] = [];
  pushImage?: (ref: string, opts?: { auth?: RegistryAuth }) => Promise<void>;
  pullImage?: (ref: string, opts?: PullOptions) => Promise<void>;
  listLabelled?: (kind: ResourceKind, filter: ResourceFilter) => Promise<LabelledResource[]>;
  private next = 0;

  constructor(private readonly overrides: Overrides = {}) {
    // Methods may be passed around detached (`const { inspectImage } = engine`), as with the real adapter.
    for (const m of Object.getOwnPropertyNames(FakeEngine.prototype) as (keyof this)[]) {
      const f = this[m];
      if (m !== 'constructor' && typeof f === 'function') this[m] = f.bind(this) as this[keyof this];
    }
    // The optional methods exist only when a test gives them (code may check for them).
    if (overrides.pushImage !== undefined) this.pushImage = (ref, opts) => this.call('pushImage', ref, [ref, opts], () => Promise.resolve());
    if (overrides.pullImage !== undefined) this.pullImage = (ref, opts) => this.call('pullImage', ref, [ref, opts], () => Promise.resolve());
    if (overrides.listLabelled !== undefined) this.listLabelled = (kind, filter) => this.call('listLabelled', kind, [kind, filter], () => Promise.resolve([]));
  }

  /** Puts a test's own entry into the call log (to see what happened between engine calls). */
  note(what: string): void {
    this.calls.push({ method: 'note', what });
  }

  /** The calls of one method, as their `what`. */
  whats(method: Method): string[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.what);
  }

  private call<T>(method: Method, what: string, args: unknown[], fallback: () => Promise<T>): Promise<T> {
    this.calls.push({ method, what });
    const o = this.overrides[method] as ((...a: unknown[]) => Promise<T>) | undefined;
    return o !== undefined ? o(...args) : fallback();
  }

  private newId(prefix: string): string {
    this.next += 1;
    return `${prefix}${this.next}`;
  }

  ping(): Promise<void> {
    return this.call('ping', '', [], () => Promise.resolve());
  }

  runContainer(spec: RunSpec): Promise<RunResult> {
    return this.call('runContainer', spec.cmd.join(' '), [spec], () => {
      this.runs.push(spec);
      return Promise.resolve({ exitCode: 0 });
    });
  }

  createContainer(spec: ContainerSpec): Promise<string> {
    return this.call('createContainer', spec.image, [spec], () => {
      const id = this.newId('c');
      this.containers.set(id, spec);
      return Promise.resolve(id);
    });
  }

  removeContainer(id: string): Promise<void> {
    return this.call('removeContainer', id, [id], () => {
      this.containers.delete(id);
      return Promise.resolve();
    });
  }

  putArchive(containerId: string, destPath: string, tar: Readable | Buffer): Promise<void> {
    return this.call('putArchive', destPath, [containerId, destPath, tar], async () => {
      this.puts.push({ container: containerId, dest: destPath, tar: await bytesOf(tar) });
    });
  }

  getArchive(containerId: string, srcPath: string): Promise<Readable> {
    return this.call('getArchive', srcPath, [containerId, srcPath], async () => Readable.from([await makeTar([])]));
  }

  buildImage(spec: BuildSpec): Promise<{ imageId: string }> {
    return this.call('buildImage', spec.dockerfile, [spec], () => {
      this.builds.push(spec);
      const imageId = `sha256:${this.newId('built')}`;
      this.images.set(imageId, fakeImage(imageId, { config: { ...fakeImage(imageId).config, labels: spec.labels } }));
      if (spec.tag !== undefined) this.tags.set(spec.tag, imageId);
      return Promise.resolve({ imageId });
    });
  }

  loadImage(archive: Readable | Buffer): Promise<string[]> {
    return this.call('loadImage', '', [archive], async () => {
      await bytesOf(archive);
      return [];
    });
  }

  importImage(rootfs: Readable | Buffer, opts: { ref: string; changes?: string[] }): Promise<string> {
    return this.call('importImage', opts.ref, [rootfs, opts], () => {
      const id = `sha256:${this.newId('imported')}`;
      this.images.set(id, fakeImage(id));
      this.tags.set(opts.ref, id);
      return Promise.resolve(id);
    });
  }

  saveImage(ref: string): Promise<Readable> {
    return this.call('saveImage', ref, [ref], () => Promise.reject(new Error(`the fake engine cannot save ${ref}`)));
  }

  inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.call('inspectImage', ref, [ref], () => Promise.resolve(this.images.get(this.tags.get(ref) ?? ref)));
  }

  tagImage(ref: string, target: string): Promise<void> {
    return this.call('tagImage', `${ref} ${target}`, [ref, target], () => {
      this.tags.set(target, this.tags.get(ref) ?? ref);
      return Promise.resolve();
    });
  }

  removeImage(ref: string, opts?: { force?: boolean }): Promise<void> {
    return this.call('removeImage', ref, [ref, opts], () => {
      this.images.delete(this.tags.get(ref) ?? ref);
      this.tags.delete(ref);
      return Promise.resolve();
    });
  }

  createVolume(name: string, labels: Labels): Promise<void> {
    return this.call('createVolume', name, [name, labels], () => {
      this.volumes.set(name, labels);
      return Promise.resolve();
    });
  }

  removeVolume(name: string): Promise<void> {
    return this.call('removeVolume', name, [name], () => {
      this.volumes.delete(name);
      return Promise.resolve();
    });
  }

  volumeExists(name: string): Promise<boolean> {
    return this.call('volumeExists', name, [name], () => Promise.resolve(this.volumes.has(name)));
  }

  listContainers(filter: ResourceFilter): Promise<string[]> {
    return this.call('listContainers', filter.labels.join(','), [filter], () => Promise.resolve([...this.containers].filter(([, s]) => matches(s.labels, filter)).map(([id]) => id)));
  }

  listVolumes(filter: ResourceFilter): Promise<string[]> {
    return this.call('listVolumes', filter.labels.join(','), [filter], () => Promise.resolve([...this.volumes].filter(([, l]) => matches(l, filter)).map(([name]) => name)));
  }

  listImages(filter: ResourceFilter): Promise<string[]> {
    return this.call('listImages', filter.labels.join(','), [filter], () => Promise.resolve([...this.images.values()].filter((i) => matches(i.config.labels, filter)).map((i) => i.id)));
  }
}

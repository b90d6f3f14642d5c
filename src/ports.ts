/**
 * Our interfaces to the outside world. The lifecycle, builder and app layers depend on these only;
 * src/docker/ implements ContainerEngine (the only place that imports dockerode), src/ui/ implements
 * Reporter, and cli/main.ts wires them together. Tests use recording fakes of the same interfaces.
 */
import type { Readable } from 'node:stream';

/** Labels every kiln-created resource carries, so cleanup works after a crash (docs/architecture.md, "Conventions"). */
export type Labels = Record<string, string>;

export interface Mount {
  /** 'volume': a named volume; 'bind': a host path. */
  type: 'volume' | 'bind';
  source: string;
  target: string;
  readOnly?: boolean;
}

export type OutputStream = 'stdout' | 'stderr';

/**
 * Limits of one container's cgroup (issue 14 point 7): at most `pids` processes and threads, at most
 * `memoryBytes` of memory (no swap beyond it). Unset: no limit.
 */
export interface ResourceLimits {
  pids?: number;
  memoryBytes?: number;
}

export interface ContainerSpec {
  image: string;
  /** Executable and its arguments (the container's Entrypoint is cleared and this becomes its Cmd). */
  cmd: string[];
  /** "uid:gid" (or a user name); never defaulted to root by the adapter. */
  user: string;
  /** The environment to add on top of the image's own ENV, as a map. */
  env?: Record<string, string>;
  workingDir?: string;
  mounts?: Mount[];
  /** Docker network mode; defaults to 'none'. */
  network?: string;
  labels: Labels;
  /** A CPU weight of 2 instead of the default 1024: the container gets only CPU that others leave idle. */
  lowPriority?: boolean;
  /** pids and memory limits of the container (module containers: lifecycle/container/module-limits.ts). */
  limits?: ResourceLimits;
}

export interface RunSpec extends ContainerSpec {
  /** What runs, for messages (e.g. a module's executable and id); default: the command and the image. */
  name?: string;
  /** Non-zero exit codes that are a normal answer (detect's 100): not examined for a limit or a kill. */
  answerCodes?: number[];
  /** Called once per complete line of demultiplexed output, without the trailing newline. */
  onLine?: (stream: OutputStream, line: string) => void;
  /** Aborting kills and removes the container; runContainer then rejects. */
  signal?: AbortSignal;
  /** Kill the container after this many milliseconds (reported as a timeout error). */
  timeoutMs?: number;
  /**
   * When the process exits 0, commit the container's filesystem changes (volume mounts are not part of
   * them) into an untagged image carrying the container's labels, before the container is removed.
   */
  commit?: boolean;
}

/**
 * A process run in a started container (ContainerEngine.execInContainer): what RunSpec says about the
 * process, without the container's own settings (image, mounts, network, limits: the container has them).
 */
export interface ExecSpec {
  cmd: string[];
  /** "uid:gid"; never defaulted to root by the adapter. */
  user: string;
  /** Added on top of the container's environment (the image's ENV: kept containers add none). */
  env?: Record<string, string>;
  workingDir?: string;
  name?: string;
  answerCodes?: number[];
  onLine?: (stream: OutputStream, line: string) => void;
  /** Aborting kills the WHOLE container (the caller removes it); execInContainer then rejects. */
  signal?: AbortSignal;
  /** Kill the whole container after this many milliseconds (reported as a timeout error). */
  timeoutMs?: number;
  /** The container's limits, to tell a run that ended on one (the pids limit is watched as in a run). */
  limits?: ResourceLimits;
}

export interface RunResult {
  exitCode: number;
  /** The committed image (RunSpec.commit, exit code 0 only). */
  imageId?: string;
  /**
   * The run ended on a limit of ContainerSpec.limits: the kernel killed it out of memory, or it reached
   * its pids limit (kiln then kills it, since nothing in it can fork any more).
   */
  killed?: 'memory' | 'pids';
}

export interface BuildSpec {
  /** A tar of the build context (Dockerfile included). */
  context: Readable | Buffer;
  /** Path of the Dockerfile inside the context tar. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Tag given to the result, if any. */
  tag?: string;
  labels: Labels;
  /** Network mode for RUN steps ('host' when packages are needed). */
  network?: string;
  /** Called for every line of build output. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  /** Disable the daemon's step cache. */
  noCache?: boolean;
  /** Memory limit of each RUN step's container (the build API has no pids limit). */
  memoryBytes?: number;
}

export interface ImageConfig {
  env: string[];
  user: string;
  workingDir: string;
  entrypoint: string[] | null;
  cmd: string[] | null;
  labels: Labels;
  /** ONBUILD triggers, when the image has any (a Dockerfile build on it runs them first). */
  onBuild?: string[];
}

export interface ImageInfo {
  /** sha256:… image id. */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  os: string;
  architecture: string;
  variant?: string;
  /** Layer diffIDs, bottom to top. */
  layers: string[];
  config: ImageConfig;
  size: number;
  created: string;
}

export interface ResourceFilter {
  /** label key=value pairs (or bare keys) every listed resource must carry. */
  labels: string[];
}

/** Registry credentials for one pull or push (src/registry/docker-credentials.ts reads them). Never printed. */
export interface RegistryAuth {
  serverAddress: string;
  username?: string;
  password?: string;
  /** An OAuth identity token (a credential helper's `<token>` user). */
  identityToken?: string;
}

/** One line of the daemon's pull progress: a layer (or the image) and what is happening to it. */
export interface PullProgress {
  layer: string;
  status: string;
  current?: number;
  total?: number;
}

export interface PullOptions {
  auth?: RegistryAuth;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

export interface ContainerEngine {
  /** Throws a KilnError naming DOCKER_HOST (or the socket) when the daemon does not answer. */
  ping(): Promise<void>;

  /** Creates, starts, streams, waits for and removes one container; resolves with its exit code. */
  runContainer(spec: RunSpec): Promise<RunResult>;
  /** Creates (does not start) a container; returns its id. */
  createContainer(spec: ContainerSpec): Promise<string>;
  /**
   * Creates and starts a container whose command keeps it up, to run processes in with
   * execInContainer (lifecycle/container/module-hosts.ts); the caller removes it. Optional, like
   * execInContainer, so recording fakes need not implement them: without them modules run with runContainer.
   */
  startContainer?(spec: ContainerSpec): Promise<string>;
  /**
   * Runs one process in a started container with runContainer's guarantees: output streamed per line,
   * its exit code, a limit, a kill from outside (exit 4) or the kernel's OOM killer told apart. An abort,
   * a timeout or the pids limit kills the whole container (the process may have children), which the
   * caller must then remove; `killed` set means the same.
   */
  execInContainer?(id: string, spec: ExecSpec): Promise<RunResult>;
  removeContainer(id: string): Promise<void>;
  /** Extracts a tar stream into a (created or running) container at destPath. */
  putArchive(containerId: string, destPath: string, tar: Readable | Buffer): Promise<void>;
  /** A tar stream of srcPath inside the container (its last path element is the tar's root entry). */
  getArchive(containerId: string, srcPath: string): Promise<Readable>;

  /** Builds an image from a context tar; rejects with the daemon's own message on an error line. */
  buildImage(spec: BuildSpec): Promise<{ imageId: string }>;
  /** Loads a docker-save style image archive; resolves with the loaded image ids/refs. */
  loadImage(archive: Readable | Buffer): Promise<string[]>;
  /** Creates an image from a single rootfs tar (docker import), with Dockerfile-style changes. */
  importImage(rootfs: Readable | Buffer, opts: { ref: string; changes?: string[] }): Promise<string>;
  /** An image archive (docker save) of one image. */
  saveImage(ref: string): Promise<Readable>;
  /** undefined when the image does not exist. */
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  tagImage(ref: string, target: string): Promise<void>;
  /**
   * Pushes a tagged image to its registry (the reference names it: `host:port/repo:tag`). Optional so
   * recording fakes need not implement it; the Docker adapter does. Rejects on the stream's error line.
   */
  pushImage?(ref: string, opts?: { auth?: RegistryAuth }): Promise<void>;
  /**
   * Pulls `ref` through the daemon (src/app/image-fetcher.ts decides when). Optional like pushImage.
   * Rejects with a KilnError (exit 5) that keeps the daemon's reason and names the registry.
   */
  pullImage?(ref: string, opts?: PullOptions): Promise<void>;
  /** Removes an image (untag); missing images are not an error. */
  removeImage(ref: string, opts?: { force?: boolean }): Promise<void>;

  createVolume(name: string, labels: Labels): Promise<void>;
  /** Missing volumes are not an error. */
  removeVolume(name: string): Promise<void>;
  volumeExists(name: string): Promise<boolean>;

  /** Lists ids (containers, images) or names (volumes) of resources carrying the labels. */
  listContainers(filter: ResourceFilter): Promise<string[]>;
  listVolumes(filter: ResourceFilter): Promise<string[]>;
  listImages(filter: ResourceFilter): Promise<string[]>;
  /**
   * Like the list calls, with every resource's labels (sessions left behind, `kiln prune`). Optional so
   * recording fakes need not implement it; the Docker adapter does.
   */
  listLabelled?(kind: ResourceKind, filter: ResourceFilter): Promise<LabelledResource[]>;
}

export type ResourceKind = 'container' | 'volume' | 'image';

export interface LabelledResource {
  /** Container or image id, volume name. */
  id: string;
  labels: Labels;
}

/** Progress events: the lifecycle emits them, ui/ renders them (plain, TTY, --json). */
export type KilnEvent =
  | { type: 'phase-start'; phase: string }
  | { type: 'phase-end'; phase: string; elapsedMs: number }
  | { type: 'module-line'; module: string; stream: OutputStream; line: string }
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'debug'; message: string }
  | { type: 'layer'; decision: 'reused' | 'added' | 'cached' | 'restored'; layer: string }
  | { type: 'wait-start'; id: string; message: string }
  | { type: 'wait-end'; id: string }
  /** A pull through the daemon (image-fetcher.ts): start, each layer's progress, end. */
  | { type: 'pull-start'; image: string; registry: string; policy: string }
  | { type: 'pull-progress'; image: string; layer: string; status: string; current?: number; total?: number }
  | { type: 'pull-end'; image: string; ok: boolean; elapsedMs: number; imageId?: string }
  /** The outcome of a command (kiln build's summary); --json prints it on stdout. */
  | { type: 'result'; result: BuildSummary };

/** What a finished build made (rendered as the final summary; `--json` prints it on stdout). */
export interface BuildSummary {
  image: string;
  imageId: string;
  /** Bytes, when the daemon reported it. */
  size?: number;
  processes: string[];
  defaultProcess?: string;
  runImage: string;
  buildpacks: string[];
  /** Extensions whose Dockerfiles changed the build or the run image. */
  extensions: { id: string; changed: ('build' | 'run')[]; /** The run image its FROM-only run.Dockerfile switched to. */ switchedTo?: string }[];
  layers: { reused: number; added: number; other: number };
  elapsedMs: number;
  warnings: number;
}

export interface Reporter {
  emit(event: KilnEvent): void;
}

export interface Clock {
  now(): number;
}

export interface IdSource {
  /** A fresh random id (hex). */
  newId(): string;
}

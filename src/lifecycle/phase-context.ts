import type { ContainerEngine, IdSource, Labels, Reporter, ResourceLimits } from '../ports.js';

/**
 * A created (never started) container that mounts every volume of one build, kept for the whole build,
 * so a copy in or out of those volumes is one archive request instead of create + copy + remove (issue 5,
 * warm rebuilds). Creating it also seeds the volumes mounted over image directories (seedVolumeFromImage:
 * /workspace and /layers of the builder). Session cleanup removes it with the rest
 * (app/build-session.ts). Made by container/volume-io.ts createVolumeHost.
 */
export interface VolumeHost {
  id: string;
  /** volume name -> where it is mounted in the host container. */
  mounts: Map<string, string>;
}

/** What every lifecycle phase is given: the engine, where to report, what to label, when to stop. */
export interface PhaseContext {
  engine: ContainerEngine;
  reporter: Reporter;
  /** Labels to put on every container, volume and image a phase creates (io.kiln.* session labels). */
  labels: Labels;
  ids: IdSource;
  signal?: AbortSignal;
  /** Kill a module container (detect, generate, build) that runs longer than this (`kiln build --timeout`). */
  moduleTimeoutMs?: number;
  /** pids and memory limits of module containers and Dockerfile builds (module-limits.ts effectiveLimits). */
  moduleLimits?: ResourceLimits;
  /** The build's volume host (volume-io.ts): archive copies of its volumes go through it. */
  volumeHost?: VolumeHost;
}

/** The builder's CNB user (CNB_USER_ID / CNB_GROUP_ID from the build image). */
export interface CnbUser {
  uid: number;
  gid: number;
}

/** Named volumes one build uses, mounted at /workspace, /layers and /platform in module containers. */
export interface BuildVolumes {
  app: string;
  layers: string;
  platform: string;
}

/** The well-known paths and the id escaping live in cnb/paths.ts; re-exported for the phases. */
export { APP_DIR, BUILDPACKS_DIR, escapeId, EXTENSIONS_DIR, LAYERS_DIR, PLATFORM_DIR } from '../cnb/paths.js';

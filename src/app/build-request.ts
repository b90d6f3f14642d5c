/**
 * What one build is asked to do (the one options object `kiln build` fills from its flags, see
 * docs/architecture.md "How do I ... add a flag") and what its phases are given once the session has read
 * the builder and chosen the run image, and what they return. Types only: build-app.ts, build-phases.ts,
 * build-steps.ts, build-extensions.ts and input-key.ts all read them, so they live apart from each of those (no import circle).
 */
import type { ImageInfo, Mount, Labels, ResourceLimits } from '../ports.js';
import type { ExtensionNetwork } from '../lifecycle/extend/extend.js';
import type { Env, TargetVars } from '../lifecycle/container/module-env.js';
import type { RunVolumes } from '../lifecycle/container/module-run.js';
import type { BuilderInfo } from '../lifecycle/read-builder.js';
import type { ExportResult } from '../lifecycle/export/types.js';
import type { SbomCopy } from '../lifecycle/build-post.js';
import type { GroupMember, ProjectDescriptor, Target } from '../cnb/models.js';
import type { ImageFetcher } from './image-fetcher.js';
import type { ModuleFlags } from './module-choice.js';

export interface BuildRequest {
  /** The app image to write. */
  image: string;
  builder: string;
  /** App source directory (default: cwd). */
  path: string;
  /** User platform env (--env-file entries first, --env after, later wins). */
  env: Env;
  runImage?: string;
  defaultProcess?: string;
  /** project.toml path (default <path>/project.toml when it exists). */
  descriptor?: string;
  network?: string;
  /**
   * Network of Dockerfile RUN steps (--extension-network, default 'none'); 'host' only after the CLI
   * checked that it gives no path to the daemon's API (docker/api-exposure.ts).
   */
  extensionNetwork?: ExtensionNetwork;
  /** ADD <url> and COPY --from= allowed in extension Dockerfiles (--allow-dockerfile-remote). */
  allowDockerfileRemote?: boolean;
  /** --volume mounts for module containers. */
  volumes: Mount[];
  /** Extra labels on every resource of the session (e.g. the test label). */
  labels?: Labels;
  /** Per-run limit for each module container (detect, generate, build), in seconds (--timeout). */
  timeoutSeconds?: number;
  /** Cache volume name (--cache-volume); default kiln-cache-<sha256(image)[:12]> (lifecycle/cache/cache-volume.ts). */
  cacheVolume?: string;
  /** Start with an empty cache volume and without this app's cached extended images (--clear-cache). */
  clearCache?: boolean;
  /** Run image -> mirrors the user configured (`kiln config run-image-mirrors`), tried before run.toml's. */
  runImageMirrors?: Record<string, string[]>;
  /** Never reuse the previous image, even when every input is unchanged (--no-reuse; app/input-key.ts). */
  noReuse?: boolean;
  /** pids / memory limits of module containers and Dockerfile builds; unset: the defaults (module-limits.ts). */
  limits?: ResourceLimits;
  /** How many bin/detect runs go at once (default: lifecycle/detect.ts). */
  detectParallel?: number;
  /** Further tags of the app image (-t/--tag): each is written with it (and pushed with --publish). */
  tags?: string[];
  /** Modules added to the builder (--buildpack, --extension, --pre-buildpack, --post-buildpack; app/module-choice.ts). */
  modules?: ModuleFlags;
  /** The CNB user of the build instead of the builder's (--uid / --gid; app/ephemeral-builder.ts). */
  uid?: number;
  gid?: number;
  /** The image analyze reads as the previous image (--previous-image); default: the app image. */
  previousImage?: string;
  /** The image's creation time, RFC 3339 (--creation-time); default reproducible (platform.md, "Build Reproducibility"). */
  creationTime?: string;
  /** Where the app is in module containers and in the image (--workspace; app/workspace.ts); default /workspace. */
  workspace?: string;
  /** --sbom-output-dir: the SBOM files come back in the outcome (app/build-outputs.ts); the previous image is never reused. */
  sbomOutputDir?: string;
}

export interface PhasesInput {
  req: BuildRequest;
  builder: BuilderInfo;
  project: ProjectDescriptor | undefined;
  /** The session's volumes (build-session.ts). */
  volumes: RunVolumes;
  platformEnv: Env;
  runImage: { ref: string; info: ImageInfo; vars: TargetVars; target: Target };
  /** Images that must survive cleanup (the app image). */
  keepImage: (id: string) => void;
  /** Images the build needs after detect (a run image an extension switched to), under the pull policy. */
  fetcher: ImageFetcher;
  /** The build's input key (input-key.ts), written on the image; absent when the app could not be fingerprinted. */
  inputKey?: string;
}

export interface PhasesResult {
  imageId: string;
  group: GroupMember[];
  groupExtensions: GroupMember[];
  processes: string[];
  defaultProcessType?: string;
  runImage: string;
  warnings: string[];
  export: ExportResult;
  /** Dockerfile builds the extend step ran (0 when extended images were reused). */
  dockerBuilds: number;
  /** The cache volume used. */
  cacheVolume: string;
  /** The build's SBOM files (paths below <layers>), for --sbom-output-dir; absent when the image was reused. */
  sbom?: SbomCopy[];
}

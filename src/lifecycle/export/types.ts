/**
 * What the export phase is given (produced from the build phase's results by the build use case) and
 * what it returns. Kept apart from export/export.ts so pure code and tests can import it without the engine.
 */
import type { LifecycleMetadata } from '../../image/lifecycle-labels.js';
import type { ImageInfo } from '../../ports.js';
import type { GroupMember, LaunchLabel, LayerMetadataFile, Slice } from '../../cnb/models.js';
import type { LaunchProcess } from './config-metadata.js';
import type { CnbUser } from '../phase-context.js';

/** One layer a run Dockerfile added (platform.md, "`exporter`"): already in the daemon as part of the extended image. */
export interface ExtensionLayer {
  diffId: string;
  extensionId: string;
  /** The Dockerfile instruction, for history `Layer: '<cmd>', Created by extension: <id>`. */
  command: string;
}

export interface ExtendedRunImage {
  /** The image the run Dockerfiles produced; its config replaces the run image's (platform.md, "`exporter`"). */
  info: ImageInfo;
  /** Layers above the original run image's, bottom to top (info.layers = run layers ++ these). */
  extensionLayers: ExtensionLayer[];
  /** io.buildpacks.rebasable after the run Dockerfiles (false when any left it false/unset). */
  rebasable: boolean;
}

export interface ExportRunImage {
  /** The original (un-extended, possibly switched) run image. */
  info: ImageInfo;
  /** runImage.reference: registry digest reference or daemon image id of `info`. */
  reference: string;
  /** runImage.image / mirrors as selected from run.toml (platform.md, "`exporter` Outputs"). */
  image: string;
  mirrors: string[];
  extended?: ExtendedRunImage;
}

export interface ExportInput {
  /** Image name first, then further tags. */
  tags: string[];
  runImage: ExportRunImage;
  /** Owner of layer contents in the image (platform.md, "Build Reproducibility"). */
  user: CnbUser;
  /** Named volumes holding <layers> and <app> after the build. */
  volumes: { layers: string; app: string };
  /** Where the app is in the image (<app>, --workspace); default APP_DIR. */
  appDir?: string;
  /** Any local image to create never-started helper containers from (the builder image). */
  helperImage: string;
  group: GroupMember[];
  groupExtensions: GroupMember[];
  /** buildpack id -> layer name -> parsed `<layers>/<bp>/<layer>.toml`; every layer, launch or not. */
  layerMetadata: Record<string, Record<string, LayerMetadataFile>>;
  /** buildpack id -> `[metadata]` of store.toml, only for buildpacks that wrote one. */
  storeMetadata: Record<string, Record<string, unknown>>;
  /** Aggregated over the group (later wins per type), sorted by type (buildpack.md, "launch.toml (TOML)"). */
  processes: LaunchProcess[];
  /** buildpack-default-process-type from the aggregation. */
  defaultProcessType?: string;
  /** The platform's -process-type / CNB_PROCESS_TYPE; must name a process (platform.md, "`exporter` Inputs"). */
  processTypeOverride?: string;
  /** launch.toml labels in group order (later duplicates win). */
  labels: LaunchLabel[];
  /** kiln's own image labels (the input key, app/input-key.ts); not part of the config metadata. */
  platformLabels?: Record<string, string>;
  /** launch.toml slices in group order. */
  slices: Slice[];
  /** project-metadata.toml as a table; {} when absent. */
  projectMetadata: Record<string, unknown>;
  /** Decoded io.buildpacks.lifecycle.metadata of the previous image, when there is one. */
  previous?: LifecycleMetadata;
  /** The previous image's id, to take reused layers (buildpack.md, "Phase #6: Export") from when needed. */
  previousImageId?: string;
  /**
   * Dirs whose content is unchanged since a tar of them became a layer of the previous image (issue 5,
   * cache/fingerprint.ts): launch layer `volumePath` ("<bp>/<layer>") or "app" -> that diffID. Such
   * a dir is not tarred again; the layer comes from the daemon (same chain) or the previous image.
   */
  unchanged?: Record<string, string>;
  /**
   * Bytes of the files of each launch layer dir, by volume path (the build's scan of the layers dir).
   * A changed launch layer of at least COMMIT_THRESHOLD bytes (export/transport.ts) is committed by
   * the daemon (export/commit.ts); every other one, and one without a count, goes through a temp file.
   */
  layerBytes?: Record<string, number>;
  /** Image `created` (SOURCE_DATE_EPOCH as RFC 3339); default 1980-01-01T00:00:01Z. */
  created?: string;
}

export interface ExportResult {
  imageId: string;
  tags: string[];
  /** All layer diffIDs of the image, bottom to top. */
  layers: string[];
  /** The labels written (lifecycle/build/project metadata among them). */
  labels: Record<string, string>;
}

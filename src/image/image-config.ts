/**
 * The image config JSON (docker/OCI image config: architecture, os, config, rootfs, history) and the
 * image id that follows from it. docker load takes the id as sha256 of the config file's bytes, so the
 * JSON is canonical — keys sorted at every level, no whitespace — and identical inputs give an
 * identical id (platform.md, "Build Reproducibility": reproducible images; `created` is passed in, 1980-01-01T00:00:01Z or
 * SOURCE_DATE_EPOCH).
 */
import type { ImageConfig } from '../ports.js';
import { sha256Hex } from './digest.js';

/** One history entry; there is one without `empty_layer` per diffID (buildpack.md, "Phase #6: Export" lists the created_by texts). */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The runtime config of the image: the port's ImageConfig plus the fields export may carry over. */
export interface RuntimeConfig extends ImageConfig {
  /** e.g. "8080/tcp". */
  exposedPorts?: string[];
  volumes?: string[];
  stopSignal?: string;
}

export interface ImageConfigInput {
  os: string;
  architecture: string;
  variant?: string;
  /** RFC 3339 time of the image (and of history entries that carry none). */
  created: string;
  config: RuntimeConfig;
  /** Every layer's diffID, bottom to top (base layers included). */
  diffIds: string[];
  /** History, bottom to top; entries without empty_layer must match diffIds one to one. */
  history: HistoryEntry[];
}

function setOf(values: string[] | undefined): Record<string, Record<string, never>> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return Object.fromEntries(values.map((v) => [v, {}]));
}

/** The config document as docker spells it (before canonical serialisation). */
export function imageConfigDocument(input: ImageConfigInput): Record<string, unknown> {
  const nonEmpty = input.history.filter((h) => h.empty_layer !== true).length;
  if (nonEmpty !== input.diffIds.length) {
    throw new Error(`image config: ${input.diffIds.length} layers but ${nonEmpty} non-empty history entries`);
  }
  const c = input.config;
  const config: Record<string, unknown> = {
    Env: c.env,
    User: c.user,
    WorkingDir: c.workingDir,
    Entrypoint: c.entrypoint,
    Cmd: c.cmd,
    Labels: c.labels,
  };
  const ports = setOf(c.exposedPorts);
  if (ports !== undefined) config.ExposedPorts = ports;
  const volumes = setOf(c.volumes);
  if (volumes !== undefined) config.Volumes = volumes;
  if (c.stopSignal !== undefined && c.stopSignal !== '') config.StopSignal = c.stopSignal;
  const doc: Record<string, unknown> = {
    architecture: input.architecture,
    os: input.os,
    created: input.created,
    config,
    rootfs: { type: 'layers', diff_ids: input.diffIds },
    history: input.history.map((h) => ({ created: input.created, ...h })),
  };
  if (input.variant !== undefined && input.variant !== '') doc.variant = input.variant;
  return doc;
}

/** JSON with object keys sorted (code-point order) at every level; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj).sort()) {
      if (obj[k] !== undefined) out[k] = sortKeys(obj[k]);
    }
    return out;
  }
  return value;
}

/** The canonical config bytes and the image id (`sha256:` of those bytes) docker load will give it. */
export function imageConfigJson(input: ImageConfigInput): { json: Buffer; imageId: string } {
  const json = Buffer.from(canonicalJson(imageConfigDocument(input)));
  return { json, imageId: `sha256:${sha256Hex(json)}` };
}

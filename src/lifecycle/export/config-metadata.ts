/**
 * The text of `<layers>/config/metadata.toml` (platform.md, "`metadata.toml` (TOML)"): what the launcher of the real lifecycle
 * reads. Our own launcher reads the shell-friendly process table next to it (launcher/process-table.ts),
 * but we still write this file so tools that know the CNB layout (and a swapped-in real launcher) work.
 */
import type { GroupMember, LaunchLabel, ProcessSpec, Slice } from '../../cnb/models.js';
import { stringifyToml } from '../../cnb/toml.js';

/** A process as aggregated over the group, with the buildpack that defined it. */
export interface LaunchProcess extends ProcessSpec {
  buildpackId: string;
}

export interface ConfigMetadataInput {
  group: GroupMember[];
  groupExtensions: GroupMember[];
  /** Sorted by type (the caller's aggregation does that, buildpack.md, "launch.toml (TOML)"). */
  processes: LaunchProcess[];
  defaultProcessType?: string;
  slices: Slice[];
  labels: LaunchLabel[];
}

function moduleTable(m: GroupMember): Record<string, unknown> {
  return { id: m.id, version: m.version, api: m.api, ...(m.homepage ? { homepage: m.homepage } : {}) };
}

/** Platform >= 0.10: `command` is an array; no `default` key is written. */
export function configMetadataToml(input: ConfigMetadataInput): string {
  const doc: Record<string, unknown> = {};
  if (input.defaultProcessType !== undefined && input.defaultProcessType !== '') doc['buildpack-default-process-type'] = input.defaultProcessType;
  doc.buildpacks = input.group.map(moduleTable);
  if (input.groupExtensions.length > 0) doc.extensions = input.groupExtensions.map(moduleTable);
  if (input.processes.length > 0) {
    doc.processes = input.processes.map((p) => ({
      type: p.type,
      command: p.command,
      args: p.args,
      direct: p.direct,
      'buildpack-id': p.buildpackId,
      ...(p.workingDir !== undefined && p.workingDir !== '' ? { 'working-dir': p.workingDir } : {}),
      ...(p.execEnv !== undefined && p.execEnv.length > 0 ? { 'exec-env': p.execEnv } : {}),
    }));
  }
  if (input.slices.length > 0) doc.slices = input.slices.map((s) => ({ paths: s.paths }));
  if (input.labels.length > 0) doc.labels = input.labels.map((l) => ({ key: l.key, value: l.value }));
  return stringifyToml(doc);
}

/**
 * group.toml and plan.toml (platform.md, "`group.toml` (TOML)", "`plan.toml` (TOML)"): the detector's outputs, which kiln writes and reads back.
 */
import { decodeToml, type TableReader } from './decode.js';
import { decodeRequire } from './detect-plan.js';
import type { GroupFile, GroupMember, ParseResult, PlanEntry, PlanFile } from './models.js';
import { stringifyToml } from './toml.js';

export function parseGroupFile(text: string, file: string): ParseResult<GroupFile> {
  return decodeToml(text, file, (root) => ({
    group: root.tableArray('group', decodeMember),
    groupExtensions: root.tableArray('group-extensions', decodeMember),
  }));
}

function decodeMember(m: TableReader): GroupMember {
  const member: GroupMember = {
    id: m.reqString('id', { nonEmpty: true }),
    version: m.reqString('version', { nonEmpty: true }),
    api: m.reqString('api', { nonEmpty: true }),
  };
  const homepage = m.optString('homepage');
  if (homepage) member.homepage = homepage;
  // Older lifecycles wrote these; they carry nothing group membership does not already say.
  m.ignore('extension', 'optional');
  return member;
}

/** homepage is omitted when empty; no extension/optional keys are written (platform.md, "`group.toml` (TOML)"). */
export function stringifyGroupFile(g: GroupFile): string {
  const member = (m: GroupMember): Record<string, unknown> => ({
    id: m.id,
    version: m.version,
    api: m.api,
    ...(m.homepage ? { homepage: m.homepage } : {}),
  });
  const doc: Record<string, unknown> = { group: g.group.map(member) };
  if (g.groupExtensions.length > 0) doc['group-extensions'] = g.groupExtensions.map(member);
  return stringifyToml(doc);
}

export function parsePlanFile(text: string, file: string): ParseResult<PlanFile> {
  return decodeToml(text, file, (root) => ({
    entries: root.tableArray(
      'entries',
      (e): PlanEntry => ({
        providers: e.tableArray('providers', (p) => {
          const provider = { id: p.reqString('id', { nonEmpty: true }), version: p.reqString('version', { nonEmpty: true }) };
          const ext = p.optBool('extension');
          return ext ? { ...provider, extension: true } : provider;
        }),
        requires: e.tableArray('requires', decodeRequire),
      }),
    ),
  }));
}

/** `extension = true` only for extension providers; metadata only when non-empty (platform.md, "`plan.toml` (TOML)"). */
export function stringifyPlanFile(p: PlanFile): string {
  return stringifyToml({
    entries: p.entries.map((e) => ({
      providers: e.providers.map((pr) => ({ id: pr.id, version: pr.version, ...(pr.extension ? { extension: true } : {}) })),
      requires: e.requires.map((r) => ({ name: r.name, ...(Object.keys(r.metadata).length > 0 ? { metadata: r.metadata } : {}) })),
    })),
  });
}

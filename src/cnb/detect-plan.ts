/**
 * The build plan a module's bin/detect writes (buildpack.md, "Buildpack Interface: Detection"): [[provides]], [[requires]] and [[or]]
 * alternatives. An empty file is an empty plan.
 */
import { decodeToml, isTable, type TableReader } from './decode.js';
import type { DetectPlan, ParseResult, PlanProvide, PlanRequire, PlanSection } from './models.js';

export function parseDetectPlan(text: string, file: string): ParseResult<DetectPlan> {
  return decodeToml(text, file, (root) => {
    const top = decodeSection(root);
    const or = root.tableArray('or', (alt) => decodeSection(alt));
    return { ...top, or };
  });
}

function decodeSection(t: TableReader): PlanSection {
  return { provides: t.tableArray('provides', decodeProvide), requires: t.tableArray('requires', decodeRequire) };
}

function decodeProvide(p: TableReader): PlanProvide {
  return { name: p.reqString('name', { nonEmpty: true }) };
}

/** Also used for plan.toml entries. */
export function decodeRequire(r: TableReader): PlanRequire {
  const name = r.reqString('name', { nonEmpty: true });
  const metadata = r.freeTable('metadata');
  if (r.has('version')) {
    r.raw('version');
    // A top-level version was moved under metadata long ago; the lifecycle rejects it (buildpack.md, "Build Plan (TOML)").
    const both = isTable(metadata) && metadata['version'] !== undefined;
    r.ctx.error(
      r.keyPath('version'),
      both
        ? 'is given both at top level and in metadata; keep only metadata.version'
        : 'a top-level version is not allowed; put it under [requires.metadata] as version',
    );
  }
  return { name, metadata };
}

/** Whether any section asks for something: an extension's plan must not (buildpack.md, "Buildpack Interface: Detection"; image_extension.md, "Detection"). */
export function planHasRequires(p: DetectPlan): boolean {
  return p.requires.length > 0 || p.or.some((alt) => alt.requires.length > 0);
}

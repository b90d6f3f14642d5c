/**
 * A buildpack or extension package (distribution.md, "Buildpackage") planned from the modules its uris
 * gave (pure): the package's own module, and every module of the package, each one layer, sorted by id
 * and version. A composite's members must all be in the package (its own uri or [[dependencies]]);
 * an extension package holds one extension. Issues name the user's file (package.toml, or the
 * --path directory) and the entry.
 */
import { indexKeyLines } from '../cnb/decode.js';
import type { ModuleKind, SpecIssue } from '../cnb/models.js';
import type { ModuleSource } from './module-source.js';
import { checkComposites, planModules, uriKeyOf, type PlannedModule } from './module-plan.js';

export interface PackagePlan {
  kind: ModuleKind;
  /** The module of `[buildpack] uri` / `[extension] uri` (or --path): the package's metadata. */
  main: PlannedModule;
  /** Every module, sorted by id then version; one layer each. */
  modules: PlannedModule[];
}

export interface PackagePlanInput {
  kind: ModuleKind;
  /** package.toml (or the module directory) as named in errors, and its text for line numbers. */
  configFile: string;
  configText?: string;
  /** The main entry's modules first (the main one first of all), then each dependency's. */
  sources: ModuleSource[];
}

function compareModules(a: PlannedModule, b: PlannedModule): number {
  const ai = `${a.descriptor.id}\u0000${a.descriptor.version}`;
  const bi = `${b.descriptor.id}\u0000${b.descriptor.version}`;
  return ai < bi ? -1 : ai > bi ? 1 : 0;
}

export function planPackage(input: PackagePlanInput): { plan?: PackagePlan; issues: SpecIssue[] } {
  const { kind, configFile } = input;
  const lines = input.configText !== undefined ? indexKeyLines(input.configText) : new Map<string, number>();
  const issues: SpecIssue[] = [];
  const configIssue = (keyPath: string, message: string): void => {
    const line = lines.get(keyPath) ?? lines.get(keyPath.replace(/\.[^.[]+$/, ''));
    issues.push({ severity: 'error', file: configFile, keyPath, ...(line !== undefined ? { line } : {}), message });
  };
  const [first] = input.sources;
  if (first === undefined) {
    configIssue(`${kind}.uri`, `names no ${kind}`);
    return { issues };
  }
  if (first.main === false) configIssue(uriKeyOf(first), `${first.entry.uri} holds several ${kind}s and does not say which one is its own; package the composite's directory (or its package) instead`);
  const modules = planModules(input.sources, configIssue, issues);
  if (issues.some((i) => i.severity === 'error')) return { issues };
  const all = [...modules.values()].sort(compareModules);
  const main = all.find((m) => m.hostDir === first.dir);
  if (main === undefined) {
    configIssue(uriKeyOf(first), `${first.entry.uri} gave no usable ${kind}`);
    return { issues };
  }
  if (kind === 'extension' && all.length > 1) {
    configIssue(uriKeyOf(first), `an extension package holds one extension; ${first.entry.uri} gave ${all.map((m) => `${m.descriptor.id}@${m.descriptor.version}`).join(', ')}`);
    return { issues };
  }
  const providers =
    first.keyPath?.startsWith('-') !== true
      ? `${configFile} (its ${kind} uri or any [[dependencies]] entry)`
      : 'the package: give a composite its members as [[dependencies]] of a package.toml (--config)';
  checkComposites(all.filter((m) => m.kind === 'buildpack'), issues, providers);
  if (issues.some((i) => i.severity === 'error')) return { issues };
  return { plan: { kind, main, modules: all }, issues };
}

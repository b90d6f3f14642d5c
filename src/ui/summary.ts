/**
 * The final summary of a build: collected from the event stream (which extensions' Dockerfiles ran in
 * which extend phase, layer decisions, warnings) plus the build's outcome, then rendered for people.
 */
import type { BuildSummary, KilnEvent, Reporter } from '../ports.js';
import { formatBytes, formatDuration, type Style } from './style.js';

export interface SummaryFacts {
  extensions: Map<string, Set<'build' | 'run'>>;
  /** Extension id -> the run image its run.Dockerfile switched to. */
  switched: Map<string, string>;
  layers: { reused: number; added: number; other: number };
  warnings: number;
  startedAt: number;
}

const EXTEND_INFO = /^(?:Applying (build|run)\.Dockerfile|Reusing the extended (build|run) image) of (\S+)/;
/** build-extensions.ts says which extension switched the run image. */
const SWITCH_INFO = /^Run image switched to (\S+) by (\S+)$/;

/** A reporter decorator that records what the summary needs and passes every event on. */
export function collectSummary(inner: Reporter, now: () => number = Date.now): { reporter: Reporter; facts: SummaryFacts } {
  const facts: SummaryFacts = { extensions: new Map(), switched: new Map(), layers: { reused: 0, added: 0, other: 0 }, warnings: 0, startedAt: now() };
  let phase = '';
  const note = (id: string, kind: 'build' | 'run'): void => {
    const set = facts.extensions.get(id) ?? new Set();
    set.add(kind);
    facts.extensions.set(id, set);
  };
  const reporter: Reporter = {
    emit(e: KilnEvent) {
      if (e.type === 'phase-start') phase = e.phase.toLowerCase();
      else if (e.type === 'phase-end') phase = '';
      else if (e.type === 'module-line' && phase.startsWith('extending')) note(e.module, phase.includes('run') ? 'run' : 'build');
      else if (e.type === 'info') {
        // lifecycle/extend/extend.ts says which extension's Dockerfile it applies, or whose extended image it reuses.
        const m = EXTEND_INFO.exec(e.message);
        if (m !== null && m[3] !== undefined) note(m[3], (m[1] ?? m[2]) === 'run' ? 'run' : 'build');
        const sw = SWITCH_INFO.exec(e.message);
        if (sw?.[1] !== undefined && sw[2] !== undefined) facts.switched.set(sw[2], sw[1]);
      } else if (e.type === 'layer') {
        if (e.decision === 'reused') facts.layers.reused++;
        else if (e.decision === 'added') facts.layers.added++;
        else facts.layers.other++;
      } else if (e.type === 'warning') facts.warnings++;
      inner.emit(e);
    },
  };
  return { reporter, facts };
}

export interface BuildOutcomeLike {
  imageId: string;
  processes: string[];
  defaultProcessType?: string;
  runImage: string;
  group: { id: string; version: string }[];
  groupExtensions: { id: string; version: string }[];
}

export function summaryOf(image: string, outcome: BuildOutcomeLike, facts: SummaryFacts, size: number | undefined, now: number): BuildSummary {
  return {
    image,
    imageId: outcome.imageId,
    ...(size !== undefined ? { size } : {}),
    processes: outcome.processes,
    ...(outcome.defaultProcessType !== undefined ? { defaultProcess: outcome.defaultProcessType } : {}),
    runImage: outcome.runImage,
    buildpacks: outcome.group.map((m) => `${m.id}@${m.version}`),
    extensions: outcome.groupExtensions.map((m) => {
      const switchedTo = facts.switched.get(m.id);
      return { id: `${m.id}@${m.version}`, changed: [...(facts.extensions.get(m.id) ?? [])].sort(), ...(switchedTo !== undefined ? { switchedTo } : {}) };
    }),
    layers: { ...facts.layers },
    elapsedMs: now - facts.startedAt,
    warnings: facts.warnings,
  };
}

/** The summary block people read at the end of `kiln build`. */
export function formatSummary(s: BuildSummary, style: Style): string[] {
  const rows: [string, string][] = [
    ['image', `${s.image}`],
    ['id', s.imageId],
    ...(s.size !== undefined ? [['size', formatBytes(s.size)] as [string, string]] : []),
    ['processes', s.processes.length > 0 ? s.processes.map((p) => (p === s.defaultProcess ? `${p} (default)` : p)).join(', ') : '(none)'],
    ['run image', s.runImage],
    ['buildpacks', s.buildpacks.join(', ') || '(none)'],
  ];
  for (const [i, e] of s.extensions.entries()) {
    const parts = [...(e.switchedTo !== undefined ? [`switched the run image to ${e.switchedTo}`] : []), ...(e.changed.length > 0 ? [`changed the ${e.changed.join(' and ')} image`] : [])];
    const what = parts.length > 0 ? parts.join(' and ') : 'no Dockerfile applied';
    rows.push([i === 0 ? 'extensions' : '', `${e.id}: ${what}`]);
  }
  rows.push(['layers', `${s.layers.added} new, ${s.layers.reused} reused${s.layers.other > 0 ? `, ${s.layers.other} restored or cached` : ''}`]);
  rows.push(['took', `${formatDuration(s.elapsedMs)}${s.warnings > 0 ? `, ${s.warnings} warning(s)` : ''}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [style.green(style.bold('Summary')), ...rows.map(([k, v]) => `  ${style.dim(k.padEnd(width))}  ${v}`)];
}

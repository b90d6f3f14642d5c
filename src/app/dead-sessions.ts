/**
 * Sessions whose resources are still in the daemon, and whether their kiln still runs (issue 14 point
 * 10, session-owner.ts): `kiln prune` removes the dead ones, and every build points them out.
 */
import { ExitCode, KilnError } from '../errors.js';
import { deadTempDirs } from '../kiln-temp-dir.js';
import type { ContainerEngine, LabelledResource, Labels, Reporter, ResourceKind } from '../ports.js';
import { ownerState, ownerText, SESSION_LABEL, SESSION_PID_LABEL, type OwnerState } from './session-owner.js';

export interface LeftSession {
  id: string;
  state: OwnerState;
  owner: string;
  containers: string[];
  volumes: string[];
  images: string[];
}

function filterOf(label: string, own: Labels = {}): { labels: string[] } {
  return { labels: [label, ...Object.entries(own).map(([k, v]) => `${k}=${v}`)] };
}

export async function listLabelled(engine: ContainerEngine, kind: ResourceKind, label: string, own?: Labels): Promise<LabelledResource[]> {
  if (engine.listLabelled === undefined) throw new KilnError({ action: 'list what kiln left behind', cause: 'this engine cannot list labels', exitCode: ExitCode.generic });
  return engine.listLabelled(kind, filterOf(label, own));
}

/** Every session that still has resources, with the state of its owner process. */
export async function findSessions(engine: ContainerEngine, own?: Labels): Promise<LeftSession[]> {
  const [containers, volumes, images] = await Promise.all((['container', 'volume', 'image'] as const).map((k) => listLabelled(engine, k, SESSION_LABEL, own)));
  const sessions = new Map<string, LeftSession & { ownerLabels?: Labels }>();
  const add = (r: LabelledResource, key: 'containers' | 'volumes' | 'images'): void => {
    const id = r.labels[SESSION_LABEL] ?? '';
    let s = sessions.get(id);
    if (s === undefined) {
      s = { id, state: 'unknown', owner: '', containers: [], volumes: [], images: [] };
      sessions.set(id, s);
    }
    s[key].push(r.id);
    if (s.ownerLabels === undefined && r.labels[SESSION_PID_LABEL] !== undefined) s.ownerLabels = r.labels;
  };
  for (const r of containers ?? []) add(r, 'containers');
  for (const r of volumes ?? []) add(r, 'volumes');
  for (const r of images ?? []) add(r, 'images');
  return [...sessions.values()].map(({ ownerLabels, ...s }) => ({ ...s, state: ownerLabels !== undefined ? ownerState(ownerLabels) : 'unknown', owner: ownerText(ownerLabels ?? {}) }));
}

export function counts(s: Pick<LeftSession, 'containers' | 'volumes' | 'images'>): string {
  return `${s.containers.length} container(s), ${s.volumes.length} volume(s), ${s.images.length} image(s)`;
}

/**
 * Tells the user (one warning) when dead kiln sessions left resources behind; run alongside a build, so
 * it costs no time. Failures are ignored: this is advice, not part of the build.
 */
export async function warnAboutDeadSessions(engine: ContainerEngine, reporter: Reporter, own?: Labels): Promise<void> {
  if (engine.listLabelled === undefined) return;
  const [sessions, dirs] = await Promise.all([findSessions(engine, own), deadTempDirs()]);
  const dead = sessions.filter((s) => s.state === 'dead');
  if (dead.length === 0 && dirs.length === 0) return;
  const total = { containers: dead.flatMap((s) => s.containers), volumes: dead.flatMap((s) => s.volumes), images: dead.flatMap((s) => s.images) };
  const what = [...(dead.length > 0 ? [`${counts(total)} (label ${SESSION_LABEL}=${dead[0]?.id ?? ''}${dead.length > 1 ? ', …' : ''})`] : []), ...(dirs.length > 0 ? [`${dirs.length} temp dir(s) (${dirs[0] ?? ''}${dirs.length > 1 ? ', …' : ''})`] : [])];
  reporter.emit({ type: 'warning', message: `earlier kiln runs ended without cleaning up (killed?) and left ${what.join(' and ')} behind: remove them with \`kiln prune\`` });
}


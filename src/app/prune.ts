/**
 * `kiln prune` (issue 14 point 10): removes what kiln runs that died before their cleanup (SIGKILL, a
 * crash, a host reboot) left behind — every container, volume and image of a session whose owner
 * process is gone (session-owner.ts) — and, when asked, cache volumes of app images that no longer exist
 * and kept extended images. A live session (a concurrent build) is never touched; a cache volume a build
 * holds the lock of is kept; kept extended images are only removed while no kiln session is alive.
 */
import { CACHE_LABEL } from '../lifecycle/cache/cache-volume.js';
import { EXTEND_CACHE_LABEL } from '../lifecycle/extend/cache.js';
import { EPHEMERAL_BUILDER_LABEL } from './ephemeral-builder.js';
import type { ContainerEngine, Labels, Reporter } from '../ports.js';
import { cleanup } from './build-app.js';
import { lockCacheVolume } from './build-lock.js';
import { deadTempDirs, removeTempDir } from '../kiln-temp-dir.js';
import { counts, findSessions, listLabelled, type LeftSession } from './dead-sessions.js';
import { SESSION_LABEL } from './session-owner.js';

export interface PruneRequest {
  /** Also cache volumes whose app image no longer exists. */
  caches?: boolean;
  /** Also kept extended images (io.kiln.extend-cache) and ephemeral builders (io.kiln.ephemeral-builder). */
  extended?: boolean;
  /** Say what would go, remove nothing. */
  dryRun?: boolean;
  /** Only resources that carry these labels too (KILN_LABELS). */
  labels?: Labels;
}

export interface PruneResult {
  sessions: LeftSession[];
  /** Temp dirs of dead kiln processes removed (or, dry run, to remove). */
  tempDirs: string[];
  /** Cache volumes removed (or, dry run, to remove). */
  caches: string[];
  extended: string[];
}

/** Removes images, children before parents (a parent with a child cannot go first). */
async function removeImages(engine: ContainerEngine, ids: string[]): Promise<string[]> {
  const removed: string[] = [];
  let left = ids;
  for (let round = 0; round < 5 && left.length > 0; round++) {
    const failed: string[] = [];
    for (const id of left) {
      try {
        await engine.removeImage(id, { force: false });
        removed.push(id);
      } catch {
        failed.push(id);
      }
    }
    if (failed.length === left.length) break;
    left = failed;
  }
  return removed;
}

export async function prune(deps: { engine: ContainerEngine; reporter: Reporter }, req: PruneRequest): Promise<PruneResult> {
  const { engine, reporter } = deps;
  const say = (message: string): void => reporter.emit({ type: 'info', message });
  const verb = req.dryRun === true ? 'would remove' : 'removed';
  const sessions = await findSessions(engine, req.labels);
  for (const s of sessions) {
    if (s.state === 'dead') {
      if (req.dryRun !== true) await cleanup(engine, s.id, new Set(), [], reporter);
      say(`${verb} session ${s.id} of ${s.owner} (no longer running): ${counts(s)}`);
    } else if (s.state === 'alive') {
      say(`kept session ${s.id}: its kiln (${s.owner}) is still running`);
    } else {
      say(`kept session ${s.id} of ${s.owner}: kiln cannot tell from this host whether it still runs; if not, remove what carries label ${SESSION_LABEL}=${s.id} (docker rm/volume rm/rmi)`);
    }
  }
  const tempDirs = await deadTempDirs();
  for (const dir of tempDirs) {
    if (req.dryRun !== true) await removeTempDir(dir);
    say(`${verb} temp dir ${dir} (its kiln is no longer running)`);
  }
  const caches: string[] = [];
  if (req.caches === true) {
    for (const v of await listLabelled(engine, 'volume', CACHE_LABEL, req.labels)) {
      const image = v.labels[CACHE_LABEL] ?? '';
      // An image kiln cannot inspect (a label value that is no reference) counts as existing: kept.
      if (image !== '' && (await engine.inspectImage(image).then((i) => i !== undefined, () => true))) continue;
      let lock: { release(): void };
      try {
        // A build of that image holds this lock while it uses the volume (its image may not exist yet).
        lock = lockCacheVolume(v.id, image);
      } catch {
        say(`kept cache volume ${v.id}: a kiln build is using it`);
        continue;
      }
      try {
        if (req.dryRun !== true) await engine.removeVolume(v.id);
        caches.push(v.id);
        say(`${verb} cache volume ${v.id} (image ${image} no longer exists)`);
      } catch (e) {
        say(`kept cache volume ${v.id}: ${(e as Error).message}`);
      } finally {
        lock.release();
      }
    }
  }
  let extended: string[] = [];
  if (req.extended === true) {
    const alive = sessions.filter((s) => s.state === 'alive');
    if (alive.length > 0) {
      reporter.emit({ type: 'warning', message: `kept the extended images: a kiln run (${alive[0]?.owner ?? ''}) is running and may be using them; prune --extended again when it has finished` });
    } else {
      // Extended images first, then the ephemeral builders (app/ephemeral-builder.ts) they may be built on.
      const ids = [...(await listLabelled(engine, 'image', EXTEND_CACHE_LABEL, req.labels)), ...(await listLabelled(engine, 'image', EPHEMERAL_BUILDER_LABEL, req.labels))].map((i) => i.id);
      extended = req.dryRun === true ? ids : await removeImages(engine, ids);
      say(`${verb} ${extended.length} kept extended image(s)${extended.length < ids.length ? ` (${ids.length - extended.length} in use, kept)` : ''}`);
    }
  }
  return { sessions, tempDirs, caches, extended };
}

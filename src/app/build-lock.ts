/**
 * One build at a time per cache volume (issue 8: two builds of the same image name or cache volume at
 * once must not corrupt the cache). The lock is a file, created exclusively, that records the owner:
 * its pid and the process's start time (so a pid the kernel has reused for another process is not taken
 * for a live build, issue 14), the image and when it was taken. A lock whose process is gone is stale and
 * taken over, so a killed kiln never blocks the next build; the second build fails at once naming the
 * lock file. Locks live in a directory per user (`kiln-locks-<uid>` in $KILN_TMPDIR or the OS temp dir,
 * mode 0700, refused unless it is a real directory this user owns), so a user can build after root did
 * and nobody else can plant or remove one's locks.
 * Limit: builds driven by different users, hosts or containers against one daemon do not see each
 * other's locks (docs/reliability.md "Concurrency").
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { processAlive, processStart } from '../process-identity.js';

export interface BuildLock {
  release(): void;
}

/** What a lock file holds (one JSON line; a bare pid from older kilns is read too). */
interface LockOwner {
  pid: number;
  /** The process's start time (/proc/<pid>/stat field 22, clock ticks since boot), when known. */
  start?: string;
  image?: string;
  since?: string;
}

/** Lock files this process holds now (two builds in one process, e.g. through the API, see each other). */
const held = new Set<string>();

function alive(owner: LockOwner): boolean {
  // A live pid with a different start time than the lock's is a reused pid, not the lock's owner.
  return processAlive(owner.pid, owner.start ?? '');
}

function readOwner(file: string): LockOwner | undefined {
  const text = readFileSync(file, 'utf8').trim();
  if (/^\d+$/.test(text)) return { pid: Number(text) };
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    return typeof o.pid === 'number' && Number.isInteger(o.pid) && o.pid > 0 ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** The default lock directory of this user. */
export function defaultLockDir(): string {
  const uid = process.getuid?.() ?? 'user';
  return join(process.env.KILN_TMPDIR ?? tmpdir(), `kiln-locks-${uid}`);
}

/** Makes `dir` (0700) and refuses one that is a symlink, not a directory, or owned by someone else. */
function ensureOwnDir(dir: string, image: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  const problem = !st.isDirectory() ? 'it is not a directory (or is a symlink)' : uid !== undefined && st.uid !== uid ? `it belongs to uid ${st.uid}, not to you (uid ${uid})` : (st.mode & 0o022) !== 0 ? 'others may write to it' : undefined;
  if (problem !== undefined) {
    throw new KilnError({ action: `build ${image}`, cause: `the lock directory ${dir} cannot be trusted: ${problem}`, hint: `remove ${dir}, or set KILN_TMPDIR to a directory of your own`, exitCode: ExitCode.generic, subject: dir });
  }
}

export function lockCacheVolume(volume: string, image: string, dir: string = defaultLockDir()): BuildLock {
  ensureOwnDir(dir, image);
  const file = join(dir, `${volume.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
  const start = processStart(process.pid);
  const me: LockOwner = { pid: process.pid, ...(start !== '' ? { start } : {}), image, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx', mode: 0o600 });
      held.add(file);
      return {
        release: () => {
          held.delete(file);
          rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(file);
      const busy = owner === undefined ? false : owner.pid === process.pid && (owner.start === undefined || owner.start === me.start) ? held.has(file) : alive(owner);
      if (busy && owner !== undefined) {
        throw new KilnError({
          action: `build ${image}`,
          cause: `another kiln build (pid ${owner.pid}) is using cache volume ${volume}${owner.image !== undefined ? ` for ${owner.image}` : ''}${owner.since !== undefined ? ` since ${owner.since}` : ''}; its lock file is ${file}`,
          hint: `wait for it to finish, or give this build its own --cache-volume; if no kiln is running, remove ${file}`,
          exitCode: ExitCode.generic,
          subject: volume,
        });
      }
      // Stale: its kiln is gone, its pid now belongs to another process, or it is this process's own,
      // left by a crash of an earlier build.
      rmSync(file, { force: true });
    }
  }
  throw new KilnError({ action: `build ${image}`, cause: `could not take the lock ${file}`, hint: `remove ${file} if no kiln build is running`, exitCode: ExitCode.generic, subject: file });
}

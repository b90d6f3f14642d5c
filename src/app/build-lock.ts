/**
 * One build at a time per cache volume (issue 8: two builds of the same image name or cache volume at
 * once must not corrupt the cache). The lock is a file in the host's temp dir, created exclusively and
 * holding the owner's pid; a lock whose pid is gone is stale and taken over, so a killed kiln never
 * blocks the next build. The second build fails at once with a clear message instead of waiting.
 * Limit: builds driven from different hosts (or containers) against one daemon do not see each other's
 * locks (docs/reliability.md "Concurrency").
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';

export interface BuildLock {
  release(): void;
}

/** Lock files this process holds now (two builds in one process, e.g. through the API, see each other). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockCacheVolume(volume: string, image: string, dir: string = join(process.env.KILN_TMPDIR ?? tmpdir(), 'kiln-locks')): BuildLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${volume.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(file);
      return {
        release: () => {
          held.delete(file);
          rmSync(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8').trim());
      const busy = owner === process.pid ? held.has(file) : Number.isInteger(owner) && owner > 0 && alive(owner);
      if (busy) {
        throw new KilnError({
          action: `build ${image}`,
          cause: `another kiln build (pid ${owner}) is using cache volume ${volume}`,
          hint: 'wait for it to finish, or give this build its own --cache-volume',
          exitCode: ExitCode.generic,
          subject: volume,
        });
      }
      // Stale: its kiln is gone (or it is this process's, left by a crash of an earlier build).
      rmSync(file, { force: true });
    }
  }
  throw new KilnError({ action: `build ${image}`, cause: `could not take the lock ${file}`, exitCode: ExitCode.generic });
}

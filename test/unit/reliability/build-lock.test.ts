/** The per-cache-volume build lock (src/app/build-lock.ts): busy while held, stale locks taken over. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockCacheVolume } from '../../../src/app/build-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockCacheVolume', () => {
  it('a second lock of the same volume fails while the first is held, and works once released', () => {
    const first = lockCacheVolume('kiln-cache-aaa', 'app:1', dir);
    expect(() => lockCacheVolume('kiln-cache-aaa', 'app:1', dir)).toThrow(/another kiln build \(pid \d+\) is using cache volume kiln-cache-aaa/);
    const other = lockCacheVolume('kiln-cache-bbb', 'other:1', dir);
    first.release();
    lockCacheVolume('kiln-cache-aaa', 'app:1', dir).release();
    other.release();
  });

  it('a lock held by another live process is busy; one left by a dead process is taken over', () => {
    writeFileSync(join(dir, 'kiln-cache-live.lock'), `${process.ppid}\n`);
    expect(() => lockCacheVolume('kiln-cache-live', 'app:1', dir)).toThrow(/pid/);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'kiln-cache-dead.lock'), `${dead}\n`);
    lockCacheVolume('kiln-cache-dead', 'app:1', dir).release();
  });

  it('a lock file with garbage in it is stale', () => {
    writeFileSync(join(dir, 'kiln-cache-junk.lock'), 'not a pid');
    lockCacheVolume('kiln-cache-junk', 'app:1', dir).release();
  });
});

/** The per-cache-volume build lock (src/app/build-lock.ts): busy while held, stale locks taken over. */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultLockDir, lockCacheVolume } from '../../../src/app/build-lock.js';
import { processStart } from '../../../src/process-identity.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-lock-'));
chmodSync(dir, 0o755);
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

describe('lockCacheVolume: owner identity, error text and users (issue 14)', () => {
  it('records pid and start time; a live pid with another start time (reused pid) is stale', () => {
    const held = lockCacheVolume('kiln-cache-rec', 'app:1', dir);
    const rec = JSON.parse(readFileSync(join(dir, 'kiln-cache-rec.lock'), 'utf8')) as { pid: number; start?: string; image?: string };
    expect(rec.pid).toBe(process.pid);
    expect(rec.image).toBe('app:1');
    if (processStart(process.pid) !== '') expect(rec.start).toBe(processStart(process.pid));
    held.release();
    // The parent process is alive; with its real start time the lock is busy, with another it is stale.
    const start = processStart(process.ppid);
    if (start === '') return; // no /proc: only the pid can be checked
    writeFileSync(join(dir, 'kiln-cache-reused.lock'), `${JSON.stringify({ pid: process.ppid, start })}\n`);
    expect(() => lockCacheVolume('kiln-cache-reused', 'app:1', dir)).toThrow(/pid/);
    writeFileSync(join(dir, 'kiln-cache-reused.lock'), `${JSON.stringify({ pid: process.ppid, start: String(Number(start) + 1) })}\n`);
    lockCacheVolume('kiln-cache-reused', 'app:1', dir).release();
  });

  it('the busy error names the lock file', () => {
    const held = lockCacheVolume('kiln-cache-named', 'app:1', dir);
    try {
      expect(() => lockCacheVolume('kiln-cache-named', 'app:2', dir)).toThrow(join(dir, 'kiln-cache-named.lock'));
    } finally {
      held.release();
    }
  });

  it('the default directory is per user, and one that is not the user\'s own is refused', () => {
    expect(defaultLockDir()).toMatch(new RegExp(`kiln-locks-${process.getuid?.() ?? 'user'}$`));
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => lockCacheVolume('kiln-cache-open', 'app:1', open)).toThrow(/cannot be trusted/);
    symlinkSync(dir, join(dir, 'link'));
    expect(() => lockCacheVolume('kiln-cache-link', 'app:1', join(dir, 'link'))).toThrow(/cannot be trusted/);
  });

  it.runIf(process.getuid?.() === 0)('a non-root user can build after root used kiln (same KILN_TMPDIR)', () => {
    const shared = join(dir, 'shared-tmp');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const env = { ...process.env, KILN_TMPDIR: shared };
    // The other user must be able to read the module: a checkout may sit in a dir only root can enter
    // (mktemp -d), so the built dist/ is copied below the world-readable test dir.
    const dist = join(dir, 'dist');
    cpSync(join(import.meta.dirname, '../../../dist'), dist, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const script = `import('${join(dist, 'app/build-lock.js')}').then((m) => { m.lockCacheVolume('kiln-cache-users', 'app:1').release(); process.stdout.write('locked'); })`;
    const asRoot = spawnSync(process.execPath, ['-e', script], { env });
    expect(asRoot.stdout.toString(), asRoot.stderr.toString()).toBe('locked');
    const asNobody = spawnSync(process.execPath, ['-e', script], { env, uid: 65534, gid: 65534, cwd: '/' });
    expect(asNobody.stdout.toString(), asNobody.stderr.toString()).toBe('locked');
  });
});

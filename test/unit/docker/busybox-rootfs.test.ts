/** The busybox rootfs layout (src/stacks/busybox.ts), with a stand-in binary so no download happens. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar } from '../../../src/image/tar-files.js';
import { BUSYBOX_APPLETS, busyboxRootfsTar } from '../../../src/stacks/busybox.js';

let dir = '';
const saved = process.env.KILN_BUSYBOX;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-bb-'));
  // Not executable: the applet list cannot be asked for, so every wished-for applet is linked.
  await writeFile(join(dir, 'busybox'), 'not really busybox');
  process.env.KILN_BUSYBOX = join(dir, 'busybox');
});

afterAll(async () => {
  if (saved === undefined) delete process.env.KILN_BUSYBOX;
  else process.env.KILN_BUSYBOX = saved;
  await rm(dir, { recursive: true, force: true });
});

describe('busyboxRootfsTar', () => {
  it('has the binary, applet links, users, a home owned by the CNB user, /tmp 1777 and os-release', async () => {
    const entries = await readTar(await busyboxRootfsTar({ uid: 1234, gid: 2345, userName: 'cnb' }));
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755, uid: 0 });
    expect(byPath.get('bin/busybox')?.content.toString()).toBe('not really busybox');
    for (const applet of ['sh', 'ls', 'cat', 'id', 'awk', 'sed', 'tar', 'nc', 'httpd', '[']) {
      expect(BUSYBOX_APPLETS).toContain(applet);
      expect(byPath.get(`bin/${applet}`)).toMatchObject({ type: 'symlink', linkname: 'busybox' });
    }
    expect(byPath.get('usr/bin/env')).toMatchObject({ type: 'symlink', linkname: '/bin/busybox' });
    expect(byPath.get('etc/passwd')?.content.toString()).toBe('root:x:0:0:root:/root:/bin/sh\ncnb:x:1234:2345:cnb:/home/cnb:/bin/sh\n');
    expect(byPath.get('etc/group')?.content.toString()).toBe('root:x:0:\ncnb:x:2345:\n');
    expect(byPath.get('home/cnb')).toMatchObject({ type: 'directory', uid: 1234, gid: 2345, mode: 0o755 });
    expect(byPath.get('tmp')).toMatchObject({ type: 'directory', mode: 0o1777 });
    expect(byPath.get('etc/os-release')?.content.toString()).toMatch(/^ID=busybox$/m);
  });

  it('is reproducible', async () => {
    const a = await busyboxRootfsTar({ uid: 1000, gid: 1000 });
    const b = await busyboxRootfsTar({ uid: 1000, gid: 1000 });
    expect(a.equals(b)).toBe(true);
  });
});

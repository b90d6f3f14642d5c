/**
 * Offline base images: a busybox rootfs (static binary + applet links + passwd/group for the CNB user)
 * imported as a build or run image with the labels and env a CNB stack needs (platform.md, "Build Image": build image
 * needs a non-root User with a writable home, CNB_USER_ID/CNB_GROUP_ID and PATH; run image needs PATH
 * and should carry io.buildpacks.base.* and io.buildpacks.rebasable=true). Nothing is pulled: the
 * static busybox comes from Debian's busybox-static package, downloaded with apt but not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BASE_DESCRIPTION_LABEL, BASE_DISTRO_NAME_LABEL, BASE_DISTRO_VERSION_LABEL, BASE_ID_LABEL, BASE_MAINTAINER_LABEL, BUSYBOX_BASE_ID, REBASABLE_LABEL } from '../cnb/labels.js';
import { ExitCode, KilnError } from '../errors.js';
import { kilnCacheDir } from '../kiln-cache-dir.js';
import { makeTar, type TarFileEntry } from '../image/tar-files.js';
import type { ContainerEngine, Labels } from '../ports.js';

const run = promisify(execFile);

/** Applets linked into /bin (those the binary lacks are skipped). */
export const BUSYBOX_APPLETS = [
  'sh', 'ash', 'ls', 'cat', 'echo', 'env', 'id', 'mkdir', 'cp', 'mv', 'rm', 'rmdir', 'chmod', 'chown', 'find',
  'grep', 'egrep', 'fgrep', 'sed', 'awk', 'sort', 'uniq', 'head', 'tail', 'wc', 'tr', 'cut', 'test', '[', '[[',
  'printf', 'sleep', 'true', 'false', 'uname', 'tar', 'gzip', 'gunzip', 'zcat', 'wget', 'basename', 'dirname',
  'readlink', 'realpath', 'ln', 'touch', 'stat', 'xargs', 'date', 'hostname', 'whoami', 'nc', 'httpd', 'pwd',
  'tee', 'expr', 'seq', 'mktemp', 'dd', 'diff', 'cmp', 'md5sum', 'sha256sum', 'base64', 'which', 'kill', 'ps',
  'du', 'df', 'od', 'timeout', 'nproc', 'yes', 'vi', 'unzip',
];

export { BUSYBOX_BASE_ID };

function cacheDir(): string {
  return kilnCacheDir('busybox');
}

function unavailable(cause: string, original?: unknown): KilnError {
  return new KilnError({
    action: 'get a static busybox binary',
    cause,
    hint: 'set KILN_BUSYBOX to the path of a static busybox binary, or make `apt-get download busybox-static` work (Debian/Ubuntu apt sources)',
    exitCode: ExitCode.generic,
    original,
  });
}

async function download(dir: string): Promise<void> {
  try {
    await run('apt-get', ['download', 'busybox-static'], { cwd: dir });
  } catch {
    // Missing package lists are the usual reason: refresh them once and retry.
    try {
      await run('apt-get', ['update'], { cwd: dir });
      await run('apt-get', ['download', 'busybox-static'], { cwd: dir });
    } catch (e) {
      const stderr = (e as { stderr?: unknown }).stderr;
      throw unavailable(`apt-get download busybox-static failed${typeof stderr === 'string' && stderr.trim() !== '' ? `: ${stderr.trim().split('\n').pop() ?? ''}` : ''}`, e);
    }
  }
}

/** Path of a static busybox: $KILN_BUSYBOX, else the cached copy, else downloaded and unpacked now. */
export async function locateBusybox(): Promise<string> {
  const override = process.env.KILN_BUSYBOX;
  if (override !== undefined && override !== '') {
    if (!existsSync(override)) throw unavailable(`KILN_BUSYBOX=${override} does not exist`);
    return override;
  }
  const dir = cacheDir();
  const binary = join(dir, 'root', 'bin', 'busybox');
  if (existsSync(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, 'dl-'));
  try {
    await download(work);
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (deb === undefined) throw unavailable('apt-get download busybox-static produced no .deb file');
    await run('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    if (!existsSync(join(work, 'root', 'bin', 'busybox'))) throw unavailable(`${deb} holds no bin/busybox`);
    // Rename is atomic: a concurrent run either sees no cache or a complete one.
    if (!existsSync(binary)) await rename(join(work, 'root'), join(dir, 'root')).catch(() => undefined);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  if (!existsSync(binary)) throw unavailable(`could not unpack busybox into ${dir}`);
  return binary;
}

async function appletsOf(binary: string): Promise<Set<string>> {
  try {
    const { stdout } = await run(binary, ['--list']);
    return new Set(stdout.split('\n').map((s) => s.trim()).filter((s) => s !== ''));
  } catch {
    // A binary for another architecture cannot run here: trust the wish list.
    return new Set(BUSYBOX_APPLETS);
  }
}

/** "1.35.0" from the binary's banner, or "1" when it cannot be run. */
export async function busyboxVersion(binary?: string): Promise<string> {
  try {
    const { stdout } = await run(binary ?? (await locateBusybox()), ['--help']).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    return /BusyBox v(\d+(?:\.\d+)*)/.exec(stdout)?.[1] ?? '1';
  } catch {
    return '1';
  }
}

export interface BusyboxRootfsOptions {
  uid: number;
  gid: number;
  /** Name of the CNB user (default "cnb"). */
  userName?: string;
}

export async function busyboxRootfsTar(opts: BusyboxRootfsOptions): Promise<Buffer> {
  const binary = await locateBusybox();
  const available = await appletsOf(binary);
  const version = await busyboxVersion(binary);
  const user = opts.userName ?? 'cnb';
  const dir = (path: string, mode = 0o755, uid = 0, gid = 0): TarFileEntry => ({ path, type: 'directory', mode, uid, gid });
  const entries: TarFileEntry[] = [
    dir('bin'), dir('usr'), dir('usr/bin'), dir('etc'), dir('root', 0o700), dir('home'),
    dir(`home/${user}`, 0o755, opts.uid, opts.gid), dir('tmp', 0o1777), dir('var'), dir('var/tmp', 0o1777),
    dir('dev'), dir('proc'), dir('sys'),
    { path: 'bin/busybox', content: await readFile(binary), mode: 0o755 },
  ];
  for (const applet of BUSYBOX_APPLETS) {
    if (available.has(applet)) entries.push({ path: `bin/${applet}`, type: 'symlink', linkname: 'busybox' });
  }
  // `#!/usr/bin/env sh` is the usual shebang of shell-script modules.
  entries.push({ path: 'usr/bin/env', type: 'symlink', linkname: '/bin/busybox' });
  const passwd = opts.uid === 0 ? 'root:x:0:0:root:/root:/bin/sh\n' : `root:x:0:0:root:/root:/bin/sh\n${user}:x:${opts.uid}:${opts.gid}:${user}:/home/${user}:/bin/sh\n`;
  const group = opts.gid === 0 ? 'root:x:0:\n' : `root:x:0:\n${user}:x:${opts.gid}:\n`;
  entries.push(
    { path: 'etc/passwd', content: passwd },
    { path: 'etc/group', content: group },
    { path: 'etc/os-release', content: `ID=busybox\nNAME="BusyBox"\nVERSION_ID="${version}"\nPRETTY_NAME="BusyBox ${version} (kiln)"\n` },
  );
  return makeTar(entries);
}

export interface BusyboxImageOptions {
  ref: string;
  uid: number;
  gid: number;
  kind: 'build' | 'run';
  userName?: string;
  labels?: Labels;
}

/** Dockerfile-style quoting for a LABEL value. */
const quote = (v: string): string => JSON.stringify(v);

/** Imports a busybox build or run base image; resolves with its image id. */
export async function createBusyboxImage(engine: ContainerEngine, opts: BusyboxImageOptions): Promise<string> {
  const rootfs = await busyboxRootfsTar({ uid: opts.uid, gid: opts.gid, ...(opts.userName !== undefined ? { userName: opts.userName } : {}) });
  const version = await busyboxVersion();
  const labels: Labels = {
    [BASE_ID_LABEL]: BUSYBOX_BASE_ID,
    [BASE_DISTRO_NAME_LABEL]: 'busybox',
    [BASE_DISTRO_VERSION_LABEL]: version,
    [BASE_MAINTAINER_LABEL]: 'kiln',
    [BASE_DESCRIPTION_LABEL]: `kiln busybox ${opts.kind} base image`,
    ...(opts.kind === 'run' ? { [REBASABLE_LABEL]: 'true' } : {}),
    ...(opts.labels ?? {}),
  };
  const changes = [
    'ENV PATH=/bin:/usr/bin',
    `ENV CNB_USER_ID=${opts.uid}`,
    `ENV CNB_GROUP_ID=${opts.gid}`,
    `USER ${opts.uid}:${opts.gid}`,
    'WORKDIR /',
    ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
  ];
  return engine.importImage(rootfs, { ref: opts.ref, changes });
}

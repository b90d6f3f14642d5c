/**
 * Offline Debian bookworm base images: `debootstrap --variant=minbase` into a temp dir (Debian's mirror
 * is reachable even where no registry is), a CNB user added by editing /etc/passwd and /etc/group, and
 * the rootfs imported twice — as a build image (User, CNB_USER_ID/CNB_GROUP_ID, PATH) and as a run
 * image (PATH, io.buildpacks.rebasable) — both with the io.buildpacks.base.* labels (platform.md, "Build Image").
 * Needs root (debootstrap does) and installs debootstrap with apt-get when it is missing.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BASE_DESCRIPTION_LABEL, BASE_DISTRO_NAME_LABEL, BASE_DISTRO_VERSION_LABEL, BASE_HOMEPAGE_LABEL, BASE_ID_LABEL, BASE_MAINTAINER_LABEL, DEBIAN_BASE_ID, REBASABLE_LABEL, STACK_ID_LABEL } from '../cnb/labels.js';
import { ExitCode, KilnError } from '../errors.js';
import type { ContainerEngine, Labels } from '../ports.js';
import { LineSplitter } from '../docker/line-splitter.js';

const run = promisify(execFile);

export { DEBIAN_BASE_ID };
export const DEBIAN_SUITE = 'bookworm';
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
/** Packages on top of minbase: TLS roots for downloads during builds. */
export const DEBIAN_INCLUDE = ['ca-certificates'];

export interface DebianStackOptions {
  buildRef: string;
  runRef: string;
  uid?: number;
  gid?: number;
  userName?: string;
  mirror?: string;
  labels?: Labels;
  /** Progress lines (debootstrap's output is long; the caller decides what to show). */
  onLine?: (line: string) => void;
}

function failed(action: string, cause: string, hint: string, original?: unknown): KilnError {
  return new KilnError({ action, cause, hint, exitCode: ExitCode.generic, original });
}

async function which(cmd: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** Runs a command, streaming its output lines to onLine; rejects with its last stderr line. */
function runStreaming(cmd: string, args: string[], onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '';
    const feed = (line: string): void => {
      if (line.trim() === '') return;
      last = line;
      onLine?.(line);
    };
    const out = new LineSplitter(feed);
    const err = new LineSplitter(feed);
    child.stdout.on('data', (b: Buffer) => out.write(b));
    child.stderr.on('data', (b: Buffer) => err.write(b));
    child.on('error', reject);
    child.on('close', (code) => {
      out.flush();
      err.flush();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code ?? 'a signal'}: ${last}`));
    });
  });
}

async function ensureDebootstrap(onLine?: (line: string) => void): Promise<string> {
  const found = await which('debootstrap');
  if (found) return found;
  const hint = 'install debootstrap (apt-get install debootstrap) and run kiln as root, or name registry images in builder.toml';
  if (process.getuid?.() !== 0) throw failed('install debootstrap', 'debootstrap is missing and kiln is not running as root', hint);
  try {
    onLine?.('installing debootstrap with apt-get');
    await runStreaming('apt-get', ['update'], onLine);
    await runStreaming('apt-get', ['install', '-y', '--no-install-recommends', 'debootstrap'], onLine);
  } catch (e) {
    throw failed('install debootstrap', e instanceof Error ? e.message : String(e), hint, e);
  }
  const now = await which('debootstrap');
  if (!now) throw failed('install debootstrap', 'apt-get finished but debootstrap is still not on PATH', hint);
  return now;
}

/** Adds the CNB user and group (and its home) to the rootfs, unless the ids are taken already. */
export async function addCnbUser(rootfs: string, user: { name: string; uid: number; gid: number }): Promise<void> {
  const passwd = await readFile(join(rootfs, 'etc/passwd'), 'utf8');
  const group = await readFile(join(rootfs, 'etc/group'), 'utf8');
  if (!group.split('\n').some((l) => l.split(':')[2] === String(user.gid))) {
    await appendFile(join(rootfs, 'etc/group'), `${user.name}:x:${user.gid}:\n`);
  }
  if (!passwd.split('\n').some((l) => l.split(':')[2] === String(user.uid))) {
    await appendFile(join(rootfs, 'etc/passwd'), `${user.name}:x:${user.uid}:${user.gid}:CNB user:/home/${user.name}:/bin/bash\n`);
    const shadow = join(rootfs, 'etc/shadow');
    if (existsSync(shadow)) await appendFile(shadow, `${user.name}:!:19000:0:99999:7:::\n`);
  }
  const home = join(rootfs, 'home', user.name);
  await mkdir(home, { recursive: true });
  await run('chown', [`${user.uid}:${user.gid}`, home]);
}

function quote(v: string): string {
  return JSON.stringify(v);
}

export function debianLabels(kind: 'build' | 'run', extra: Labels = {}): Labels {
  return {
    [BASE_ID_LABEL]: DEBIAN_BASE_ID,
    [BASE_DISTRO_NAME_LABEL]: 'debian',
    [BASE_DISTRO_VERSION_LABEL]: '12',
    [BASE_MAINTAINER_LABEL]: 'kiln',
    [BASE_HOMEPAGE_LABEL]: 'https://www.debian.org/',
    [BASE_DESCRIPTION_LABEL]: `kiln Debian ${DEBIAN_SUITE} ${kind} base image (debootstrap minbase)`,
    [STACK_ID_LABEL]: DEBIAN_BASE_ID,
    ...(kind === 'run' ? { [REBASABLE_LABEL]: 'true' } : {}),
    ...extra,
  };
}

export function debianChanges(kind: 'build' | 'run', uid: number, gid: number, labels: Labels): string[] {
  return [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV LANG=C.UTF-8',
    ...(kind === 'build' ? [`ENV CNB_USER_ID=${uid}`, `ENV CNB_GROUP_ID=${gid}`] : []),
    `USER ${uid}:${gid}`,
    'WORKDIR /',
    ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${quote(v)}`),
  ];
}

async function importRootfs(engine: ContainerEngine, rootfs: string, ref: string, changes: string[]): Promise<string> {
  // --numeric-owner keeps ids as in the rootfs; the stream goes straight to the daemon.
  const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  const exited = new Promise<number>((resolve) => tar.on('close', (code) => resolve(code ?? 1)));
  const id = await engine.importImage(tar.stdout, { ref, changes });
  const code = await exited;
  if (code !== 0) {
    await engine.removeImage(ref, { force: true });
    throw failed(`import ${ref}`, `tar of the rootfs failed: ${stderr.trim()}`, 'check free disk space in the temp dir');
  }
  return id;
}

/** Debootstraps bookworm once and imports it as the build and the run image; returns both ids. */
export async function createDebianImages(engine: ContainerEngine, opts: DebianStackOptions): Promise<{ buildId: string; runId: string }> {
  const uid = opts.uid ?? 1000;
  const gid = opts.gid ?? 1000;
  const name = opts.userName ?? 'cnb';
  const debootstrap = await ensureDebootstrap(opts.onLine);
  const work = await mkdtemp(join(process.env.KILN_TMPDIR ?? tmpdir(), 'kiln-debian-'));
  const rootfs = join(work, 'rootfs');
  try {
    try {
      await runStreaming(
        debootstrap,
        ['--variant=minbase', `--include=${DEBIAN_INCLUDE.join(',')}`, DEBIAN_SUITE, rootfs, opts.mirror ?? DEBIAN_MIRROR],
        opts.onLine,
      );
    } catch (e) {
      throw failed(
        `debootstrap Debian ${DEBIAN_SUITE}`,
        e instanceof Error ? e.message : String(e),
        `check that ${opts.mirror ?? DEBIAN_MIRROR} is reachable and kiln runs as root`,
        e,
      );
    }
    await addCnbUser(rootfs, { name, uid, gid });
    // Package caches and lists are not part of a base image.
    await rm(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    await writeFile(join(rootfs, 'etc/hostname'), 'kiln\n');
    const buildId = await importRootfs(engine, rootfs, opts.buildRef, debianChanges('build', uid, gid, debianLabels('build', opts.labels)));
    const runId = await importRootfs(engine, rootfs, opts.runRef, debianChanges('run', uid, gid, debianLabels('run', opts.labels)));
    return { buildId, runId };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

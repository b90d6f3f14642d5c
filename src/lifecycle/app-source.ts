/**
 * The app source: a host directory becomes a tar owned by the CNB user, honouring project.toml's
 * `include` / `exclude` (project descriptor 0.2: gitignore-style patterns, at most one of the two), and
 * is extracted into the app volume mounted at /workspace.
 *
 * Pattern rules implemented (gitignore subset): blank lines and `#` comments are skipped; a trailing `/`
 * matches directories only; a pattern with a `/` elsewhere is anchored at the app root, otherwise it
 * matches a name at any depth; `*` and `?` do not cross `/`; `**` crosses directories. A matching
 * directory matches everything below it. Negation (`!`) is not supported and is reported as a warning.
 */
import { isUtf8 } from 'node:buffer';
import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ExitCode, KilnError } from '../errors.js';
import { packTarStream, type PackEntry, type PackOptions, type PackProgress } from '../image/tar-pack-stream.js';
import type { CnbUser, PhaseContext } from './phase-context.js';
import { writeToVolumes } from './container/volume-io.js';

interface Pattern {
  re: RegExp;
  dirOnly: boolean;
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" = zero or more directories; "**" elsewhere = anything.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}

/** Compiles one pattern; undefined for blanks and comments. */
export function compilePattern(raw: string): Pattern | undefined {
  let p = raw.trim();
  if (p === '' || p.startsWith('#') || p.startsWith('!')) return undefined;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const anchored = p.includes('/');
  p = p.replace(/^\/+/, '');
  const body = globToRegex(p);
  return { re: new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`), dirOnly };
}

function matches(patterns: readonly Pattern[], path: string, isDir: boolean): boolean {
  return patterns.some((p) => (!p.dirOnly || isDir) && p.re.test(path));
}

export interface AppFile {
  /** Relative path, '/'-separated. */
  path: string;
  type: 'file' | 'directory' | 'symlink';
}

interface Visited<T> {
  path: string;
  isDir: boolean;
  item: T;
}

/**
 * project.toml's selection, fed entries in walk order (every directory before what is below it). With
 * `exclude`, a matching path and everything below a matching directory is left out (the walk does not
 * even enter it). With `include`, only matching paths, everything below matching directories and the
 * directories leading to them are kept: a directory is held back until something below it is kept.
 */
export class AppSelection<T> {
  private readonly inc: Pattern[];
  private readonly exc: Pattern[];
  /** The directories above the current entry. */
  private stack: Array<{ path: string; item: T; shown: boolean; included: boolean; excluded: boolean }> = [];

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.inc = include.map(compilePattern).filter((p): p is Pattern => p !== undefined);
    this.exc = exclude.map(compilePattern).filter((p): p is Pattern => p !== undefined);
  }

  /** What to pass on now (held-back directories first, then the entry, or nothing), and whether to walk into it. */
  visit(e: Visited<T>): { emit: T[]; descend: boolean } {
    while (this.stack.length > 0 && !e.path.startsWith(`${(this.stack.at(-1) as { path: string }).path}/`)) this.stack.pop();
    const parent = this.stack.at(-1);
    const push = (shown: boolean, included: boolean, excluded: boolean): void => {
      if (e.isDir) this.stack.push({ path: e.path, item: e.item, shown, included, excluded });
    };
    if (this.inc.length > 0) {
      const included = parent?.included === true || matches(this.inc, e.path, e.isDir);
      if (!included) {
        push(false, false, false);
        return { emit: [], descend: e.isDir };
      }
      const emit = this.stack.filter((d) => !d.shown).map((d) => d.item);
      for (const d of this.stack) d.shown = true;
      push(true, true, false);
      return { emit: [...emit, e.item], descend: e.isDir };
    }
    const excluded = parent?.excluded === true || (this.exc.length > 0 && matches(this.exc, e.path, e.isDir));
    push(!excluded, false, excluded);
    return { emit: excluded ? [] : [e.item], descend: e.isDir && !excluded };
  }
}

/** selectAppFiles over a list in walk order (parents before children): which paths go into the app volume. */
export function selectAppFiles(files: readonly AppFile[], include: readonly string[], exclude: readonly string[]): AppFile[] {
  const sel = new AppSelection<AppFile>(include, exclude);
  return files.flatMap((f) => sel.visit({ path: f.path, isDir: f.type === 'directory', item: f }).emit);
}

/**
 * App symlinks are kept as links, never followed, so no host file is copied through them (issue 8,
 * docs/reliability.md). An absolute target resolves inside the build and app containers, like it would
 * in any image. A relative target that climbs out of the app dir is refused: it can only point at
 * something that is not part of the app (and the daemon refuses such links when extracting).
 */
function checkedLink(path: string, host: string, target: string): string {
  if (!target.startsWith('/')) {
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    if (resolved === '..' || resolved.startsWith('../')) {
      throw new KilnError({
        action: 'copy the app source',
        cause: `the symlink ${host} -> ${target} points outside the app directory`,
        hint: 'remove the link, exclude it in project.toml, or make it point inside the app',
        exitCode: ExitCode.config,
        subject: host,
      });
    }
  }
  return target;
}

function appError(host: string, cause: string, original?: unknown): KilnError {
  return new KilnError({ action: 'copy the app source', cause: `cannot read ${host}: ${cause}`, hint: 'make it readable, or exclude it in project.toml', exitCode: ExitCode.config, subject: host, original });
}

/** A name as text, for patterns and messages: UTF-8 when it is, else one character per byte. */
function nameText(b: Buffer): string {
  return b.toString(isUtf8(b) ? 'utf8' : 'latin1');
}

const SLASH = Buffer.from('/');

/**
 * The app's entries in walk order (names sorted by their bytes, each directory before its contents),
 * selected by project.toml, owned by the CNB user, modes normalised to 0755 (directories) or the file's
 * own executable bit (0755 / 0644). Lazy: a directory is read when the walk reaches it, file contents
 * only when the tar is written (tar-pack-stream.ts). Names stay bytes, so names that are not UTF-8 are
 * kept as they are.
 */
export function* appSourcePackEntries(dir: string, user: CnbUser, include: readonly string[] = [], exclude: readonly string[] = []): Generator<PackEntry> {
  const owner = { uid: user.uid, gid: user.gid };
  const sel = new AppSelection<PackEntry & { host: Buffer }>(include, exclude);
  function* walk(hostDir: Buffer, rel: Buffer | undefined): Generator<PackEntry> {
    let names: Dirent<Buffer>[];
    try {
      names = readdirSync(hostDir, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      throw appError(nameText(hostDir), (e as Error).message, e);
    }
    names.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const d of names) {
      const path = rel === undefined ? d.name : Buffer.concat([rel, SLASH, d.name]);
      const host = Buffer.concat([hostDir, SLASH, d.name]);
      let kind: PackEntry['type'] | undefined = d.isDirectory() ? 'directory' : d.isSymbolicLink() ? 'symlink' : d.isFile() ? 'file' : undefined;
      if (kind === undefined && !d.isFIFO() && !d.isSocket() && !d.isBlockDevice() && !d.isCharacterDevice()) {
        // A file system that does not say the type in its directory entries.
        let st: Stats;
        try {
          st = lstatSync(host);
        } catch (e) {
          throw appError(nameText(host), (e as Error).message, e);
        }
        kind = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : undefined;
      }
      if (kind === undefined) continue;
      const item = { path, type: kind, host, ...owner, ...(kind === 'directory' ? { mode: 0o755 } : kind === 'file' ? { hostPath: host } : {}) };
      const { emit, descend } = sel.visit({ path: nameText(path), isDir: kind === 'directory', item });
      for (const e of emit) {
        const { host: h, ...entry } = e;
        if (e.type !== 'symlink') yield entry;
        else yield { ...entry, linkname: checkedLinkBytes(nameText(e.path as Buffer), nameText(h), readlinkSync(h, { encoding: 'buffer' })) };
      }
      if (descend) yield* walk(host, path);
    }
  }
  yield* walk(Buffer.from(resolve(dir)), undefined);
}

function checkedLinkBytes(path: string, host: string, target: Buffer): Buffer {
  checkedLink(path, host, nameText(target));
  return target;
}

/** How a host file's mode is written: 0755 when anyone may execute it, else 0644. */
export function appFileMode(stMode: number): number {
  return (stMode & 0o111) !== 0 ? 0o755 : 0o644;
}

/** The app tar as a stream, bounded in memory whatever the app's size. */
export function appSourceStream(dir: string, user: CnbUser, include: readonly string[] = [], exclude: readonly string[] = [], progress?: PackProgress): Readable {
  return packTarStream(appSourcePackEntries(dir, user, include, exclude), appPackOptions(progress));
}

/** The pack options for app files (modes, errors naming the file). */
export function appPackOptions(progress?: PackProgress): PackOptions {
  return { hostFileMode: appFileMode, readError: (host, cause) => appError(host, cause), ...(progress !== undefined ? { progress } : {}) };
}

/** The whole app tar in memory: for tests and small apps only (appSourceStream otherwise). */
export async function appSourceTar(dir: string, user: CnbUser, include: readonly string[] = [], exclude: readonly string[] = []): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of appSourceStream(dir, user, include, exclude)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Copies the app source into the (already seeded, CNB-user-owned) app volume, streamed. */
export async function copyAppSource(ctx: PhaseContext, opts: { volume: string; image: string; dir: string; user: CnbUser; include?: readonly string[]; exclude?: readonly string[] }): Promise<void> {
  await writeToVolumes(ctx, [{ volume: opts.volume, image: opts.image, entries: appSourcePackEntries(opts.dir, opts.user, opts.include ?? [], opts.exclude ?? []) }], { show: APP_UPLOAD, pack: appPackOptions() });
}

/** What the upload of the app is called in progress lines. */
export const APP_UPLOAD = 'Sending the app';

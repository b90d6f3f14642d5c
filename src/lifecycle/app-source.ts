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
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { decodeName, fsPath } from '../image/raw-names.js';
import { makeTar, type TarFileEntry } from '../image/tar-files.js';
import type { CnbUser, PhaseContext } from './phase-context.js';
import { writeToVolume } from './volume-io.js';

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

/**
 * Which paths go into the app volume. With `exclude`, a matching path (and everything below a matching
 * directory) is left out. With `include`, only matching paths, everything below matching directories and
 * the directories leading to them are kept.
 */
export function selectAppFiles(files: readonly AppFile[], include: readonly string[], exclude: readonly string[]): AppFile[] {
  const inc = include.map(compilePattern).filter((p): p is Pattern => p !== undefined);
  const exc = exclude.map(compilePattern).filter((p): p is Pattern => p !== undefined);
  const ancestors = (path: string): string[] => {
    const parts = path.split('/');
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
  };
  const isDir = new Map(files.map((f) => [f.path, f.type === 'directory']));
  const selfOrAncestorMatches = (pats: Pattern[], f: AppFile): boolean =>
    matches(pats, f.path, f.type === 'directory') || ancestors(f.path).some((a) => matches(pats, a, isDir.get(a) ?? true));
  if (inc.length > 0) {
    const kept = new Set(files.filter((f) => selfOrAncestorMatches(inc, f)).map((f) => f.path));
    for (const p of [...kept]) for (const a of ancestors(p)) kept.add(a);
    return files.filter((f) => kept.has(f.path));
  }
  if (exc.length > 0) return files.filter((f) => !selfOrAncestorMatches(exc, f));
  return [...files];
}

/** Names are read as bytes: one that is not UTF-8 keeps its bytes (image/raw-names.ts). */
async function walk(root: string, rel: string, out: (AppFile & { host: string | Buffer })[]): Promise<void> {
  const names = (await readdir(fsPath(join(root, rel)), { encoding: 'buffer' })).map(decodeName);
  for (const name of names.sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const host = fsPath(join(root, path));
    const st = await lstat(host);
    if (st.isDirectory()) {
      out.push({ path, type: 'directory', host });
      await walk(root, path, out);
    } else if (st.isSymbolicLink()) out.push({ path, type: 'symlink', host });
    else if (st.isFile()) out.push({ path, type: 'file', host });
  }
}

/**
 * App symlinks are kept as links, never followed, so no host file is copied through them (issue 8,
 * docs/reliability.md). An absolute target resolves inside the build and app containers, like it would
 * in any image. A relative target that climbs out of the app dir is refused: it can only point at
 * something that is not part of the app (and the daemon refuses such links when extracting).
 */
function checkedLink(path: string, host: string | Buffer, target: string): string {
  if (!target.startsWith('/')) {
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    if (resolved === '..' || resolved.startsWith('../')) {
      throw new KilnError({
        action: 'copy the app source',
        cause: `the symlink ${String(host)} -> ${target} points outside the app directory`,
        hint: 'remove the link, exclude it in project.toml, or make it point inside the app',
        exitCode: ExitCode.config,
        subject: String(host),
      });
    }
  }
  return target;
}

/**
 * The app tar: every selected entry owned by the CNB user with a fixed mtime (reproducible, digest 8.3),
 * modes normalised to 0755 (directories, executables) or 0644.
 */
export async function appSourceTar(dir: string, user: CnbUser, include: readonly string[] = [], exclude: readonly string[] = []): Promise<Buffer> {
  return makeTar(await appSourceEntries(dir, user, include, exclude));
}

/** The entries of appSourceTar (paths relative to the app root). */
export async function appSourceEntries(dir: string, user: CnbUser, include: readonly string[] = [], exclude: readonly string[] = []): Promise<TarFileEntry[]> {
  const all: (AppFile & { host: string | Buffer })[] = [];
  await walk(dir, '', all);
  const keep = new Set(selectAppFiles(all, include, exclude).map((f) => f.path));
  const entries: TarFileEntry[] = [];
  for (const f of all) {
    if (!keep.has(f.path)) continue;
    const owner = { uid: user.uid, gid: user.gid };
    if (f.type === 'directory') entries.push({ path: f.path, type: 'directory', mode: 0o755, ...owner });
    else if (f.type === 'symlink') entries.push({ path: f.path, type: 'symlink', linkname: checkedLink(f.path, f.host, decodeName(await readlink(f.host, { encoding: 'buffer' }))), ...owner });
    else {
      const st = await lstat(f.host);
      entries.push({ path: f.path, content: await readFile(f.host), mode: (st.mode & 0o111) !== 0 ? 0o755 : 0o644, ...owner });
    }
  }
  return entries;
}

/** Copies the app source into the (already seeded, CNB-user-owned) app volume. */
export async function copyAppSource(ctx: PhaseContext, opts: { volume: string; image: string; dir: string; user: CnbUser; include?: readonly string[]; exclude?: readonly string[] }): Promise<void> {
  const tar = await appSourceTar(opts.dir, opts.user, opts.include ?? [], opts.exclude ?? []);
  await writeToVolume(ctx, { volume: opts.volume, image: opts.image, dest: '/', tar });
}

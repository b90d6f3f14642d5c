/**
 * A fingerprint of the app source as kiln sends it (issue 21): every entry project.toml's include /
 * exclude keeps (app-source.ts selectAppFiles), with its path, type, permission bits, symlink target and
 * file content. It is incremental: a stat index (path -> size, mtime, ctime, mode, inode, content hash)
 * is kept in kiln's cache dir, and a file's content is read and hashed again only when one of those
 * changed, so an unchanged 50,000-file app costs one lstat per entry.
 *
 * The full permission bits are hashed, not just the executable bit kiln keeps (app-source.ts): a change
 * that does not alter what is sent can cause a rebuild, never the other way round.
 * A file modified within the same clock tick as its indexing could keep its stat (git's "racily clean"
 * case): entries changed less than RACY_MS before the index is written are not indexed, so they are
 * hashed again next time.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { selectAppFiles, type AppFile } from './app-source.js';

const RACY_MS = 2000;
const INDEX_VERSION = 2;

interface IndexEntry {
  /** `${size}:${mtimeMs}:${ctimeMs}:${mode}:${ino}` (the ms times carry sub-microsecond fractions) */
  stat: string;
  /** sha256 of the content (files) or of the link target (symlinks). */
  hash: string;
}

interface Walked extends AppFile {
  st: Stats;
}

function walk(root: string, rel: string, out: Walked[]): void {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, path));
    if (st.isDirectory()) {
      out.push({ path, type: 'directory', st });
      walk(root, path, out);
    } else if (st.isSymbolicLink()) out.push({ path, type: 'symlink', st });
    else if (st.isFile()) out.push({ path, type: 'file', st });
  }
}

function readIndex(file: string): Map<string, IndexEntry> {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; entries?: Record<string, IndexEntry> };
    if (raw.version !== INDEX_VERSION || raw.entries === undefined) return new Map();
    return new Map(Object.entries(raw.entries));
  } catch {
    return new Map();
  }
}

function writeIndex(file: string, entries: Map<string, IndexEntry>): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: INDEX_VERSION, entries: Object.fromEntries(entries) }));
    renameSync(tmp, file);
  } catch {
    // The index only saves time; without it the next fingerprint hashes everything again.
  }
}

export interface AppFingerprint {
  /** sha256 hex over every selected entry. */
  digest: string;
  entries: number;
  /** Entries whose content was read and hashed this time (the rest came from the stat index). */
  hashed: number;
}

/**
 * Fingerprints `dir` after `include` / `exclude`. `indexFile` (optional) is the stat index to read and
 * rewrite; `now` is for tests.
 */
export function fingerprintApp(dir: string, opts: { include?: readonly string[]; exclude?: readonly string[]; indexFile?: string; now?: number } = {}): AppFingerprint {
  const all: Walked[] = [];
  walk(dir, '', all);
  const keep = new Set(selectAppFiles(all, opts.include ?? [], opts.exclude ?? []).map((f) => f.path));
  const old = opts.indexFile !== undefined ? readIndex(opts.indexFile) : new Map<string, IndexEntry>();
  const next = new Map<string, IndexEntry>();
  const racyAfter = (opts.now ?? Date.now()) - RACY_MS;
  const h = createHash('sha256');
  let hashed = 0;
  for (const f of all) {
    if (!keep.has(f.path)) continue;
    const mode = f.st.mode & 0o7777;
    let content = '';
    if (f.type !== 'directory') {
      const stat = `${f.st.size}:${f.st.mtimeMs}:${f.st.ctimeMs}:${f.st.mode}:${f.st.ino}`;
      const known = old.get(f.path);
      if (known !== undefined && known.stat === stat) content = known.hash;
      else {
        const host = join(dir, f.path);
        content = createHash('sha256').update(f.type === 'symlink' ? readlinkSync(host) : readFileSync(host)).digest('hex');
        hashed++;
      }
      if (f.st.mtimeMs < racyAfter && f.st.ctimeMs < racyAfter) next.set(f.path, { stat, hash: content });
    }
    // NUL-separated: a path cannot contain NUL, so no two different entry lists hash alike.
    h.update(`${f.type}\0${f.path}\0${mode.toString(8)}\0${content}\0`);
  }
  // Rewritten only when it changed: nothing read again and the same entries means the same index.
  if (opts.indexFile !== undefined && (hashed > 0 || next.size !== old.size)) writeIndex(opts.indexFile, next);
  return { digest: h.digest('hex'), entries: keep.size, hashed };
}

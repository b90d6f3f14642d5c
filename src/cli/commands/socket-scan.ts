/**
 * Whether a directory tree holds the daemon's socket under another name: a hard link to it, or a mount
 * of its directory somewhere below (issue 14: "refuse any source that contains the daemon's socket").
 * Sockets are compared by device and inode; only socket entries are stat'ed, symlinks are not followed
 * (a link inside a bind mount resolves inside the container, not on the host). Directories kiln may not
 * read are skipped: the limit of a check made as the invoking user (docs/reliability.md).
 */
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';

export interface SocketId {
  dev: number;
  ino: number;
}

/** The identities of those paths that exist and are sockets. */
export function socketIds(paths: readonly string[]): SocketId[] {
  const out: SocketId[] = [];
  for (const p of paths) {
    try {
      const st = statSync(p);
      if (st.isSocket()) out.push({ dev: st.dev, ino: st.ino });
    } catch {
      // not there: nothing to find
    }
  }
  return out;
}

export function treeHoldsSocket(root: string, sockets: readonly SocketId[]): boolean {
  if (sockets.length === 0) return false;
  const same = (p: string): boolean => {
    try {
      const st = lstatSync(p);
      return sockets.some((s) => s.dev === st.dev && s.ino === st.ino);
    } catch {
      return false;
    }
  };
  let rootStat;
  try {
    rootStat = lstatSync(root);
  } catch {
    return false;
  }
  if (rootStat.isSocket()) return same(root);
  if (!rootStat.isDirectory()) return false;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isSocket() && same(p)) return true;
    }
  }
  return false;
}

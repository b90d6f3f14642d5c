/**
 * kiln's temp dirs and the identity of the process that made them (issue 14 point 10). A temp dir is
 * named kiln-<kind>-<pid>.<start>-XXXXXX, <start> being the process's start time in clock ticks since
 * boot (field 22 of /proc/<pid>/stat), so a kiln that died before its `finally` removed the dir (SIGKILL)
 * can be told from one still running, even when its pid was reused. Root: $KILN_TMPDIR, else the OS's.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, processStart } from './process-identity.js';

export function kilnTempRoot(): string {
  return process.env.KILN_TMPDIR ?? tmpdir();
}

/** A fresh temp dir for `kind` ("export", "builder", …), named after this process. */
export function makeKilnTempDir(kind: string): Promise<string> {
  return mkdtemp(join(kilnTempRoot(), `kiln-${kind}-${process.pid}.${processStart(process.pid)}-`));
}

const TEMP_DIR_NAME = /^kiln-[a-z]+-(\d+)\.(\d*)-[A-Za-z0-9]+$/;

/** Temp dirs whose kiln process is gone (same host: the temp root is this host's). */
export async function deadTempDirs(root: string = kilnTempRoot()): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.filter((n) => {
    const m = TEMP_DIR_NAME.exec(n);
    return m !== null && !processAlive(Number(m[1]), m[2] ?? '');
  }).map((n) => join(root, n));
}

export async function removeTempDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

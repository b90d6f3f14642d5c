/**
 * The shell-friendly process table our launcher reads (launcher-script.ts). It lives in the config
 * layer next to metadata.toml, so it is replaced together with it on every export:
 *
 *   <layers>/config/kiln-launch/
 *     buildpacks                     escaped buildpack ids (dir names under <layers>), group order, one per line
 *     processes/<type>/
 *       command/0000, 0001, ...      one file per command element, exact bytes (no trailing newline added)
 *       args/0000, ...               one file per default arg, same rules (the dir may be empty)
 *       direct                       "true" or "false" (false only for Buildpack API < 0.9 shell processes)
 *       user-args                    "replace" or "append": what `docker run <image> a b` does to args
 *       working-dir                  absolute working dir (process working-dir, else <app>)
 *
 * One file per item avoids any quoting or separator problem: items may contain spaces, quotes or
 * newlines. Numbered names keep the shell's lexical glob order equal to the item order.
 */
import { buildpackApi } from '../../cnb/api-features.js';
import type { GroupMember } from '../../cnb/models.js';
import type { LaunchProcess } from '../export/config-metadata.js';
import { escapeId } from '../phase-context.js';

export const PROCESS_TABLE_DIR = 'kiln-launch';

/** A file of the table, relative to `<layers>/config`. */
export interface TableFile {
  path: string;
  content: string;
}

function itemName(i: number): string {
  return String(i).padStart(4, '0');
}

/**
 * User args replace the process args (platform.md, "`launcher`" Execution) unless the command has a single entry and its
 * buildpack implements API < 0.9, in which case they are appended. Platform API is 0.13 (>= 0.10).
 */
export function userArgsMode(p: LaunchProcess, group: GroupMember[]): 'replace' | 'append' {
  if (p.command.length > 1) return 'replace';
  const api = group.find((g) => g.id === p.buildpackId)?.api;
  return api !== undefined && !buildpackApi(api).supports('user-args-replace') ? 'append' : 'replace';
}

/** Files and directories (entries ending in '/') of the table, in a stable order. */
export function processTableFiles(group: GroupMember[], processes: LaunchProcess[], appDir: string): { dirs: string[]; files: TableFile[] } {
  const root = PROCESS_TABLE_DIR;
  const dirs = [root, `${root}/processes`];
  const files: TableFile[] = [{ path: `${root}/buildpacks`, content: group.map((g) => `${escapeId(g.id)}\n`).join('') }];
  for (const p of [...processes].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0))) {
    const dir = `${root}/processes/${p.type}`;
    dirs.push(dir, `${dir}/command`, `${dir}/args`);
    p.command.forEach((c, i) => files.push({ path: `${dir}/command/${itemName(i)}`, content: c }));
    p.args.forEach((a, i) => files.push({ path: `${dir}/args/${itemName(i)}`, content: a }));
    files.push({ path: `${dir}/direct`, content: p.direct ? 'true' : 'false' });
    files.push({ path: `${dir}/user-args`, content: userArgsMode(p, group) });
    files.push({ path: `${dir}/working-dir`, content: p.workingDir !== undefined && p.workingDir !== '' ? p.workingDir : appDir });
  }
  return { dirs, files };
}

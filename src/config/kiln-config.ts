/**
 * kiln's user settings (`kiln config`, issue 17): `$XDG_CONFIG_HOME/kiln/config.json`, else
 * `~/.config/kiln/config.json` (XDG Base Directory rules). It holds the default builder, the default
 * pull policy and run-image mirrors per run image. A missing file is an empty config.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { isPullPolicy, PULL_POLICIES, type PullPolicy } from '../registry/pull-policy.js';

export interface KilnConfig {
  defaultBuilder?: string;
  pullPolicy?: PullPolicy;
  /** Run image -> mirrors to try first (pack's `config run-image-mirrors`). */
  runImageMirrors: Record<string, string[]>;
}

export function kilnConfigPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, 'kiln', 'config.json');
}

function invalid(file: string, cause: string): KilnError {
  return new KilnError({ action: `read kiln's config ${file}`, cause, hint: 'fix the file, or remove it and set the values again with kiln config', exitCode: ExitCode.config, subject: file });
}

export function decodeKilnConfig(text: string, file: string): KilnConfig {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw invalid(file, 'it is not valid JSON');
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(file, 'it is not a JSON object');
  const r = o as Record<string, unknown>;
  const out: KilnConfig = { runImageMirrors: {} };
  if (r['default-builder'] !== undefined) {
    if (typeof r['default-builder'] !== 'string' || r['default-builder'] === '') throw invalid(file, '"default-builder" must be an image name');
    out.defaultBuilder = r['default-builder'];
  }
  if (r['pull-policy'] !== undefined) {
    const p = r['pull-policy'];
    if (typeof p !== 'string' || !isPullPolicy(p)) throw invalid(file, `"pull-policy" must be one of ${PULL_POLICIES.join(', ')}`);
    out.pullPolicy = p;
  }
  const m = r['run-image-mirrors'];
  if (m !== undefined) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw invalid(file, '"run-image-mirrors" must map run images to lists of mirrors');
    for (const [image, list] of Object.entries(m as Record<string, unknown>)) {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && x !== '')) throw invalid(file, `"run-image-mirrors"."${image}" must be a list of image names`);
      out.runImageMirrors[image] = list as string[];
    }
  }
  return out;
}

export function encodeKilnConfig(c: KilnConfig): string {
  const o: Record<string, unknown> = {};
  if (c.defaultBuilder !== undefined) o['default-builder'] = c.defaultBuilder;
  if (c.pullPolicy !== undefined) o['pull-policy'] = c.pullPolicy;
  if (Object.keys(c.runImageMirrors).length > 0) o['run-image-mirrors'] = c.runImageMirrors;
  return `${JSON.stringify(o, null, 2)}\n`;
}

export async function readKilnConfig(file: string = kilnConfigPath()): Promise<KilnConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { runImageMirrors: {} };
    throw invalid(file, (e as Error).message);
  }
  return decodeKilnConfig(text, file);
}

/** Written to a temp file and renamed, so a reader never sees half a file. */
export async function writeKilnConfig(c: KilnConfig, file: string = kilnConfigPath()): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, encodeKilnConfig(c), { mode: 0o644 });
  await rename(tmp, file);
}

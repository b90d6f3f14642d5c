/**
 * `kiln buildpack new` / `kiln extension new`: writes a working module (cnb/module-templates.ts) into a
 * new or empty directory. The id is checked by parsing the descriptor that would be written, before any
 * file exists; a directory that already holds files is refused (nothing is overwritten).
 */
import { mkdir, readdir, rm, writeFile, chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { parseBuildpackDescriptor } from '../cnb/buildpack-descriptor.js';
import { parseExtensionDescriptor } from '../cnb/extension-descriptor.js';
import { formatIssue } from '../cnb/spec-error.js';
import type { ModuleKind } from '../cnb/models.js';
import { scaffoldFiles, type ExtensionKind, type ScaffoldTarget } from '../cnb/module-templates.js';

export interface NewModuleRequest {
  kind: ModuleKind;
  id: string;
  /** Target directory (created; must not exist or be empty). */
  dir: string;
  version: string;
  targets: readonly ScaffoldTarget[];
  /** Extensions only: which Dockerfiles bin/generate writes. */
  extensionKind?: ExtensionKind;
}

export interface NewModuleResult {
  dir: string;
  files: string[];
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

export async function newModule(req: NewModuleRequest): Promise<NewModuleResult> {
  const action = `create ${req.kind} ${req.id}`;
  const files = scaffoldFiles(req.kind, { id: req.id, version: req.version, targets: req.targets }, req.extensionKind);
  const descriptorFile = `${req.kind}.toml`;
  const descriptor = files.find((f) => f.path === descriptorFile)?.text ?? '';
  const parse = req.kind === 'buildpack' ? parseBuildpackDescriptor : parseExtensionDescriptor;
  const errors = parse(descriptor, descriptorFile, { hasExecutables: true }).issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new KilnError({
      action,
      cause: errors.map(formatIssue).join('; '),
      hint: 'an id has letters, digits, ".", "/" and "-" only (buildpack.md, "buildpack.toml (TOML)"), e.g. acme/hello',
      exitCode: ExitCode.usage,
      subject: req.id,
    });
  }
  const dir = resolve(req.dir);
  if (!(await isEmptyOrMissing(dir))) {
    throw new KilnError({
      action,
      cause: `${req.dir} exists and is not empty`,
      hint: 'choose a new directory with --path (kiln never overwrites files)',
      exitCode: ExitCode.usage,
      subject: req.dir,
    });
  }
  const existed = !(await readdir(dir).then(() => false, () => true));
  try {
    for (const f of files) {
      const path = join(dir, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.text, { flag: 'wx' });
      await chmod(path, f.mode);
    }
  } catch (e) {
    // Leave nothing half-written behind.
    if (!existed) await rm(dir, { recursive: true, force: true });
    else for (const f of files) await rm(join(dir, f.path.split('/')[0] as string), { recursive: true, force: true });
    throw new KilnError({ action, cause: (e as Error).message, hint: 'check that the directory is writable', exitCode: ExitCode.generic, subject: req.dir, original: e });
  }
  return { dir, files: files.map((f) => f.path) };
}

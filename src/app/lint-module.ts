/**
 * `kiln buildpack lint DIR` / `kiln extension lint DIR`: what a builder or a build would refuse or warn
 * about in a module directory, found without a daemon: the descriptor (id, version, api, targets), the
 * executables (present, executable, with a #! line), and for extensions every file under generate/ (the
 * pre-populated output when there is no bin/generate: image_extension.md, "Generation") checked with the
 * Dockerfile rules (image/dockerfile-lint.ts). Every finding has file:line, severity and spec section.
 */
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ExitCode, KilnError } from '../errors.js';
import { isSupportedBuildpackApi, SUPPORTED_BUILDPACK_APIS } from '../cnb/api-version.js';
import { parseBuildpackDescriptor } from '../cnb/buildpack-descriptor.js';
import { parseExtendConfig } from '../cnb/extend-config.js';
import { parseExtensionDescriptor } from '../cnb/extension-descriptor.js';
import type { ModuleKind, SpecIssue } from '../cnb/models.js';
import { parseToml } from '../cnb/toml.js';
import { lintBuildDockerfile, lintRunDockerfile, type LintFinding } from '../image/dockerfile-lint.js';
import { lineOfKey } from '../cnb/toml-lines.js';

export interface LintReport {
  kind: ModuleKind;
  dir: string;
  /** The module's id, when the descriptor names one. */
  id?: string;
  findings: LintFinding[];
}

const DESCRIPTOR_SPEC: Record<ModuleKind, string> = {
  buildpack: 'buildpack.md, "buildpack.toml (TOML)"',
  extension: 'image_extension.md, "extension.toml (TOML)"',
};

async function statOf(path: string): Promise<import('node:fs').Stats | undefined> {
  return lstat(path).catch(() => undefined);
}

function descriptorFindings(kind: ModuleKind, text: string, file: string, issues: SpecIssue[]): LintFinding[] {
  return issues.map((i) => {
    const line = i.line ?? (i.keyPath !== '' ? lineOfKey(text, i.keyPath) : undefined);
    return { file, ...(line !== undefined ? { line } : {}), severity: i.severity, rule: 'descriptor', message: i.keyPath !== '' ? `${i.keyPath}: ${i.message}` : i.message, spec: DESCRIPTOR_SPEC[kind] };
  });
}

/** An executable the spec names: present, a file, executable, starting with #! (a script) or ELF. */
async function executableFindings(dir: string, name: string, required: boolean, spec: string, absentNote: string): Promise<LintFinding[]> {
  const path = join(dir, name);
  const st = await statOf(path);
  if (st === undefined) return required ? [{ file: name, severity: 'error', rule: 'executable-missing', message: `${name} is missing`, spec }] : [{ file: name, severity: 'info', rule: 'executable-missing', message: absentNote, spec }];
  if (!st.isFile()) return [{ file: name, severity: 'error', rule: 'executable-not-file', message: `${name} is not a regular file`, spec }];
  const out: LintFinding[] = [];
  if ((st.mode & 0o111) === 0) out.push({ file: name, severity: 'error', rule: 'not-executable', message: `${name} is not executable (chmod +x ${name})`, spec });
  const head = (await readFile(path)).subarray(0, 4);
  const isElf = head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF';
  if (!isElf && head.toString('latin1', 0, 2) !== '#!') {
    out.push({ file: name, line: 1, severity: 'error', rule: 'no-interpreter', message: `${name} has no #! line: the container cannot start it (e.g. #!/bin/sh)`, spec });
  }
  return out;
}

/** Every file under generate/, linted as the output it stands for. */
async function generateDirFindings(dir: string): Promise<LintFinding[]> {
  const gen = join(dir, 'generate');
  const st = await statOf(gen);
  if (st === undefined || !st.isDirectory()) return [];
  const out: LintFinding[] = [];
  const names = await readdir(gen);
  const contexts = names.filter((n) => n === 'context' || n === 'context.build' || n === 'context.run');
  if (contexts.includes('context') && contexts.length > 1) {
    out.push({ file: 'generate/context', severity: 'error', rule: 'context-folders', message: `generate/context must not be used together with ${contexts.filter((c) => c !== 'context').join(', ')}`, spec: 'image_extension.md, "Context Folders"' });
  }
  for (const name of names.sort()) {
    const file = `generate/${name}`;
    const path = join(gen, name);
    if (name === 'build.Dockerfile') out.push(...lintBuildDockerfile(await readFile(path, 'utf8'), file));
    else if (name === 'run.Dockerfile') out.push(...lintRunDockerfile(await readFile(path, 'utf8'), file));
    else if (name === 'extend-config.toml') {
      const text = await readFile(path, 'utf8');
      out.push(...parseExtendConfig(text, file).issues.map((i): LintFinding => {
        const line = i.line ?? (i.keyPath !== '' ? lineOfKey(text, i.keyPath) : undefined);
        return { file, ...(line !== undefined ? { line } : {}), severity: i.severity, rule: 'extend-config', message: i.keyPath !== '' ? `${i.keyPath}: ${i.message}` : i.message, spec: 'image_extension.md, "extend-config.toml (TOML)"' };
      }));
    } else if (/Dockerfile$/.test(name)) {
      out.push({ file, severity: 'warning', rule: 'unknown-dockerfile', message: `${file} is never applied: only build.Dockerfile and run.Dockerfile are`, spec: 'image_extension.md, "Generation"' });
    }
  }
  return out;
}

/** Lints the module in `dir`; throws only when `dir` is not a module directory of `kind` at all. */
export async function lintModule(kind: ModuleKind, dir: string): Promise<LintReport> {
  const descriptorName = `${kind}.toml`;
  const other: ModuleKind = kind === 'buildpack' ? 'extension' : 'buildpack';
  let text: string;
  try {
    text = await readFile(join(dir, descriptorName), 'utf8');
  } catch {
    const isOther = (await statOf(join(dir, `${other}.toml`))) !== undefined;
    throw new KilnError({
      action: `lint ${kind} ${dir}`,
      cause: isOther ? `${dir} holds ${other === "extension" ? "an" : "a"} ${other}.toml, not ${kind === "extension" ? "an" : "a"} ${descriptorName}` : `${join(dir, descriptorName)} does not exist`,
      hint: isOther ? `use kiln ${other} lint ${dir}` : `point at the ${kind}'s directory (or make one with kiln ${kind} new)`,
      exitCode: ExitCode.usage,
      subject: dir,
    });
  }
  const bin = (name: string): Promise<boolean> => statOf(join(dir, 'bin', name)).then((s) => s !== undefined);
  const hasExecutables = kind === 'buildpack' ? (await bin('build')) || (await bin('detect')) : (await bin('generate')) || (await bin('detect'));
  const parsed = kind === 'buildpack' ? parseBuildpackDescriptor(text, descriptorName, { hasExecutables }) : parseExtensionDescriptor(text, descriptorName, { hasExecutables });
  const findings = descriptorFindings(kind, text, descriptorName, parsed.issues);
  const raw = parseToml(text, descriptorName).value;
  const spec = DESCRIPTOR_SPEC[kind];
  if (raw !== undefined) {
    const api = raw['api'];
    if (typeof api === 'string' && !isSupportedBuildpackApi(api) && !findings.some((f) => f.message.includes('api'))) {
      findings.push({ file: descriptorName, line: lineOfKey(text, 'api'), severity: 'error', rule: 'api', message: `Buildpack API ${api} is not one kiln runs (${SUPPORTED_BUILDPACK_APIS.join(', ')})`, spec: 'buildpack.md, "Buildpack API Version"' });
    }
    const composite = kind === 'buildpack' && raw['order'] !== undefined;
    if (raw['targets'] === undefined && !composite) {
      findings.push({ file: descriptorName, severity: 'warning', rule: 'no-targets', message: 'no [[targets]]: declare where it runs (e.g. [[targets]] os = "linux"); without them kiln assumes linux and any arch', spec });
    }
  }
  const execSpec = kind === 'buildpack' ? 'buildpack.md, "Buildpack Interface"' : 'image_extension.md, "Image Extension Interface"';
  const composite = kind === 'buildpack' && parsed.value !== undefined && 'order' in parsed.value && parsed.value.order.length > 0;
  if (kind === 'buildpack' && !composite) {
    findings.push(...(await executableFindings(dir, 'bin/detect', true, execSpec, '')));
    findings.push(...(await executableFindings(dir, 'bin/build', true, execSpec, '')));
  } else if (kind === 'extension') {
    findings.push(...(await executableFindings(dir, 'bin/detect', false, execSpec, 'no bin/detect: the extension always passes detection')));
    const hasGenerateDir = (await statOf(join(dir, 'generate'))) !== undefined;
    if (await bin('generate')) findings.push(...(await executableFindings(dir, 'bin/generate', true, execSpec, '')));
    else if (!hasGenerateDir) findings.push({ file: 'bin/generate', severity: 'warning', rule: 'does-nothing', message: 'neither bin/generate nor generate/: the extension changes nothing', spec: 'image_extension.md, "Generation"' });
    if (await bin('build')) findings.push({ file: 'bin/build', severity: 'warning', rule: 'ignored-file', message: 'an extension has no build step: bin/build is never run', spec: execSpec });
    findings.push(...(await generateDirFindings(dir)));
  }
  const named = findings.map((f) => ({ ...f, file: relative('.', join(dir, f.file)) || f.file }));
  // By file, then line (findings without a line first): the order a reader walks the module in.
  named.sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
  const id = parsed.value?.id ?? (typeof raw?.[kind] === 'object' && raw[kind] !== null ? ((raw[kind] as Record<string, unknown>)['id'] as string | undefined) : undefined);
  return { kind, dir, ...(typeof id === 'string' ? { id } : {}), findings: named };
}

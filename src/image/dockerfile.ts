/**
 * PURE: a small Dockerfile parser and the extension Dockerfile rules (image_extension.md, "Dockerfile Requirements").
 *
 * The lifecycle validates generated Dockerfiles syntactically with BuildKit's parser; kiln has no
 * BuildKit, so this reproduces the parts that matter: parser directives (`# escape=`), comments,
 * line continuations (comments and blank lines inside a continuation are dropped, as BuildKit does),
 * JSON and shell forms, ARG and FROM, and stages. Every instruction keeps its 1-based line so errors
 * can point at it. Heredocs are refused: the daemon's classic builder (Docker 20.10) does not run them.
 */
import type { ParseResult, SpecIssue } from '../cnb/models.js';

export interface DockerfileInstruction {
  /** Upper-case keyword: FROM, RUN, ARG ... */
  keyword: string;
  /** Everything after the keyword, continuations joined with nothing (as BuildKit does), trimmed. */
  rest: string;
  /** `--name=value` flags at the start of `rest` (FROM --platform, COPY --chown ...). */
  flags: string[];
  /** The arguments after the flags: the JSON array for the exec form, else whitespace-split words. */
  args: string[];
  json: boolean;
  /** 1-based line of the keyword, and of the last physical line of the instruction. */
  line: number;
  endLine: number;
}

export interface ParsedDockerfile {
  directives: Record<string, string>;
  escape: string;
  instructions: DockerfileInstruction[];
}

export interface DockerfileStage {
  from: DockerfileInstruction;
  /** The base exactly as written (`${base_image}`, `busybox:1`, `$base_image` ...). */
  baseName: string;
  name?: string;
  /** Instructions after FROM (an ARG inside the stage counts, image_extension.md, "Dockerfile Requirements"). */
  commands: DockerfileInstruction[];
}

export interface DockerfileStructure {
  /** ARG instructions before the first FROM; each may declare several names. */
  globalArgs: { name: string; value?: string; line: number }[];
  stages: DockerfileStage[];
}

/** Every instruction the daemon's builder knows; anything else is an error, like BuildKit's instructions.Parse. */
export const KNOWN_INSTRUCTIONS: readonly string[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

/** Instructions the extension spec recommends; others only warn (image_extension.md, "Dockerfile Requirements"). */
export const RECOMMENDED_INSTRUCTIONS: readonly string[] = ['FROM', 'ADD', 'ARG', 'COPY', 'ENV', 'LABEL', 'RUN', 'SHELL', 'USER', 'WORKDIR'];

/** The only accepted base of a build.Dockerfile, and the "no switch" base of a run.Dockerfile. */
export const BASE_IMAGE_REF = '${base_image}';

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*["']?/;

function issue(file: string, severity: SpecIssue['severity'], line: number | undefined, message: string): SpecIssue {
  return { severity, file, keyPath: '', ...(line !== undefined ? { line } : {}), message };
}

/** Reads the parser directives at the very top of the file (before any other line, image_extension.md, "Dockerfile Requirements"). */
function readDirectives(lines: string[]): { directives: Record<string, string>; next: number } {
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec((lines[i] ?? '').trim());
    if (m === null) break;
    const key = (m[1] ?? '').toLowerCase();
    if (key in directives) break;
    directives[key] = m[2] ?? '';
  }
  return { directives, next: i };
}

/** Splits shell-form text into words, honouring quotes and the escape character. */
export function splitWords(text: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote === undefined && /\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape && i + 1 < text.length && quote !== "'") {
      cur += c + text.charAt(++i);
    } else if (quote !== undefined && c === quote) {
      quote = undefined;
      cur += c;
    } else if (quote === undefined && (c === '"' || c === "'")) {
      quote = c;
      cur += c;
    } else cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && (s.startsWith('"') || s.startsWith("'")) && s.endsWith(s.charAt(0))) return s.slice(1, -1);
  return s;
}

function instructionOf(keyword: string, rest: string, line: number, endLine: number, escape: string): DockerfileInstruction {
  let body = rest;
  const flags: string[] = [];
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(=\S*)?\s*/.exec(body);
    if (m === null) break;
    flags.push(m[0].trim());
    body = body.slice(m[0].length);
  }
  if (body.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (Array.isArray(parsed) && parsed.every((x): x is string => typeof x === 'string')) {
        return { keyword, rest, flags, args: parsed, json: true, line, endLine };
      }
    } catch {
      // Not JSON: BuildKit falls back to the shell form.
    }
  }
  return { keyword, rest, flags, args: splitWords(body, escape), json: false, line, endLine };
}

/** Parses Dockerfile text into instructions; errors carry the line they are about. */
export function parseDockerfile(text: string, file: string): ParseResult<ParsedDockerfile> {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const { directives, next } = readDirectives(lines);
  const issues: SpecIssue[] = [];
  const escape = directives.escape ?? '\\';
  if (escape !== '\\' && escape !== '`') {
    return { issues: [issue(file, 'error', 1, `invalid escape directive "${escape}": only \\ and \` are allowed`)] };
  }
  const instructions: DockerfileInstruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (let i = next; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    // Comments and empty lines vanish, also in the middle of a continuation (BuildKit semantics).
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const continues = raw.trimEnd().endsWith(escape);
    const piece = continues ? raw.trimEnd().slice(0, -escape.length) : raw;
    const acc = pending === undefined ? { text: piece.trimStart(), line: i + 1 } : { text: pending.text + piece, line: pending.line };
    if (continues) {
      pending = acc;
      continue;
    }
    pending = undefined;
    pushInstruction(acc.text, acc.line, i + 1);
  }
  if (pending !== undefined) pushInstruction(pending.text, pending.line, lines.length);

  function pushInstruction(textOf: string, line: number, endLine: number): void {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(textOf);
    if (m === null) return;
    const keyword = (m[1] ?? '').toUpperCase();
    const rest = (m[2] ?? '').trim();
    if (!KNOWN_INSTRUCTIONS.includes(keyword)) {
      issues.push(issue(file, 'error', line, `unknown instruction: ${m[1] ?? ''}`));
      return;
    }
    if (rest === '') {
      issues.push(issue(file, 'error', line, `${keyword} requires at least one argument`));
      return;
    }
    if ((keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && HEREDOC.test(rest)) {
      issues.push(issue(file, 'error', line, `${keyword} uses a heredoc, which the daemon's classic builder does not support`));
      return;
    }
    instructions.push(instructionOf(keyword, rest, line, endLine, escape));
  }

  if (issues.length > 0) return { issues };
  if (instructions.length === 0) return { issues: [issue(file, 'error', undefined, 'the file has no instructions')] };
  return { value: { directives, escape, instructions }, issues };
}

/** Global ARGs and stages; an instruction other than ARG before the first FROM is an error. */
export function dockerfileStructure(parsed: ParsedDockerfile, file: string): ParseResult<DockerfileStructure> {
  const issues: SpecIssue[] = [];
  const globalArgs: DockerfileStructure['globalArgs'] = [];
  const stages: DockerfileStage[] = [];
  for (const ins of parsed.instructions) {
    if (ins.keyword === 'FROM') {
      const words = ins.args;
      const base = words[0];
      if (base === undefined || ins.json) {
        issues.push(issue(file, 'error', ins.line, 'FROM needs an image'));
        continue;
      }
      let name: string | undefined;
      if (words.length === 3 && (words[1] ?? '').toLowerCase() === 'as') name = words[2];
      else if (words.length !== 1) {
        issues.push(issue(file, 'error', ins.line, 'FROM takes an image and an optional "AS <name>"'));
        continue;
      }
      stages.push({ from: ins, baseName: base, ...(name !== undefined ? { name } : {}), commands: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (stage !== undefined) {
      stage.commands.push(ins);
      continue;
    }
    if (ins.keyword !== 'ARG') {
      issues.push(issue(file, 'error', ins.line, `${ins.keyword} before the first FROM (only ARG may come before FROM)`));
      continue;
    }
    for (const w of ins.args) {
      const eq = w.indexOf('=');
      const argName = eq < 0 ? w : w.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(argName)) {
        issues.push(issue(file, 'error', ins.line, `invalid ARG name "${argName}"`));
        continue;
      }
      globalArgs.push({ name: argName, ...(eq >= 0 ? { value: unquote(w.slice(eq + 1)) } : {}), line: ins.line });
    }
  }
  if (stages.length === 0 && issues.length === 0) issues.push(issue(file, 'error', undefined, 'the file has no FROM (no build stage)'));
  if (issues.some((i) => i.severity === 'error')) return { issues };
  return { value: { globalArgs, stages }, issues };
}

function recommendationWarnings(stage: DockerfileStage, file: string): SpecIssue[] {
  return stage.commands
    .filter((c) => !RECOMMENDED_INSTRUCTIONS.includes(c.keyword))
    .map((c) => issue(file, 'warning', c.line, `${c.keyword} is not recommended in an extension Dockerfile (use ${RECOMMENDED_INSTRUCTIONS.join(' ')})`));
}

function structureOf(text: string, file: string): ParseResult<DockerfileStructure> {
  const parsed = parseDockerfile(text, file);
  if (parsed.value === undefined) return { issues: parsed.issues };
  const s = dockerfileStructure(parsed.value, file);
  return { ...(s.value !== undefined ? { value: s.value } : {}), issues: [...parsed.issues, ...s.issues] };
}

function singleStage(s: DockerfileStructure, file: string, kind: string): SpecIssue | undefined {
  if (s.stages.length === 1) return undefined;
  const second = s.stages[1];
  return issue(file, 'error', second?.from.line, `a ${kind} must have exactly one stage (one FROM), found ${s.stages.length}`);
}

/**
 * build.Dockerfile rules (image_extension.md, "Dockerfile Requirements"): one stage; exactly one global ARG and it is
 * `base_image`; base literally `${base_image}`; unusual instructions warn.
 */
export function validateBuildDockerfile(text: string, file: string): ParseResult<DockerfileStructure> {
  const res = structureOf(text, file);
  const s = res.value;
  if (s === undefined) return res;
  const issues = [...res.issues];
  const multi = singleStage(s, file, 'build.Dockerfile');
  if (multi !== undefined) issues.push(multi);
  const stage = s.stages[0] as DockerfileStage;
  const first = s.globalArgs[0];
  if (s.globalArgs.length === 0) {
    issues.push(issue(file, 'error', stage.from.line, 'a build.Dockerfile must declare "ARG base_image" before FROM'));
  } else if (s.globalArgs.length > 1) {
    const extra = s.globalArgs[1];
    issues.push(issue(file, 'error', extra?.line, `a build.Dockerfile must have exactly one ARG before FROM (base_image), found ${s.globalArgs.length}`));
  } else if (first !== undefined && first.name !== 'base_image') {
    issues.push(issue(file, 'error', first.line, `the ARG before FROM must be "base_image", not "${first.name}"`));
  }
  for (const st of s.stages) {
    if (st.baseName !== BASE_IMAGE_REF) {
      issues.push(issue(file, 'error', st.from.line, `a build.Dockerfile must start FROM ${BASE_IMAGE_REF} (literally, with braces), not "${st.baseName}"`));
    }
  }
  issues.push(...recommendationWarnings(stage, file));
  if (issues.some((i) => i.severity === 'error')) return { issues };
  return { value: s, issues };
}

export interface RunDockerfileInfo {
  /** The base the file switches the run image to, when it is not `${base_image}` (image_extension.md, "Dockerfile Requirements"). */
  switchesTo?: string;
  /** True when the stage has any instruction after FROM (ARG, LABEL and USER count, image_extension.md, "Dockerfile Requirements"). */
  extends: boolean;
  /** Line of the FROM, for messages. */
  fromLine: number;
}

/** run.Dockerfile rules (image_extension.md, "Dockerfile Requirements"): one stage; global ARGs allowed; switch and/or extend. */
export function validateRunDockerfile(text: string, file: string): ParseResult<RunDockerfileInfo> {
  const res = structureOf(text, file);
  const s = res.value;
  if (s === undefined) return { issues: res.issues };
  const issues = [...res.issues];
  const multi = singleStage(s, file, 'run.Dockerfile');
  if (multi !== undefined) return { issues: [...issues, multi] };
  const stage = s.stages[0] as DockerfileStage;
  issues.push(...recommendationWarnings(stage, file));
  const info: RunDockerfileInfo = { extends: stage.commands.length > 0, fromLine: stage.from.line };
  if (stage.baseName !== BASE_IMAGE_REF) info.switchesTo = stage.baseName;
  return { value: info, issues };
}

/** "file:line: message" for one issue. */
export function formatDockerfileIssue(i: SpecIssue): string {
  return `${i.file}${i.line !== undefined ? `:${i.line}` : ''}: ${i.message}`;
}

/**
 * A run.Dockerfile that switches the run image AND extends it (`FROM <image>` then instructions) is
 * applied to the image the switch chose (platform.md, extender: the selected run image is the base). kiln
 * applies it on that image as prepared for extension (extend/persist.ts) or found through a mirror, so the
 * literal FROM becomes `FROM ${base_image}` (with the ARG declared). Files that already build on
 * `${base_image}`, or that do not parse, are returned unchanged.
 */
export function onPlatformBase(text: string): string {
  const parsed = parseDockerfile(text, 'run.Dockerfile').value;
  const s = parsed !== undefined ? dockerfileStructure(parsed, 'run.Dockerfile').value : undefined;
  const stage = s?.stages[0];
  if (s === undefined || stage === undefined || s.stages.length !== 1 || stage.baseName === BASE_IMAGE_REF) return text;
  const lines = text.split('\n');
  lines.splice(stage.from.line - 1, stage.from.endLine - stage.from.line + 1, `FROM ${BASE_IMAGE_REF}`);
  const declared = s.globalArgs.some((a) => a.name === 'base_image');
  return `${declared ? '' : 'ARG base_image\n'}${lines.join('\n')}`;
}

/**
 * PURE: lint findings for an extension's Dockerfiles (`kiln extension lint`), on top of the checks the
 * build itself makes (dockerfile.ts validateBuildDockerfile / validateRunDockerfile): each finding has a
 * file:line, a severity and the spec section it comes from (image_extension.md, "Dockerfile Requirements").
 * Errors are what a build refuses; warnings are the spec's SHOULDs; info is advice.
 */
import type { SpecIssue } from '../cnb/models.js';
import { REBASABLE_LABEL } from '../cnb/labels.js';
import {
  dockerfileStructure,
  parseDockerfile,
  validateBuildDockerfile,
  validateRunDockerfile,
  BASE_IMAGE_REF,
  type DockerfileInstruction,
  type DockerfileStage,
} from './dockerfile.js';

export type LintSeverity = 'error' | 'warning' | 'info';

export interface LintFinding {
  file: string;
  line?: number;
  severity: LintSeverity;
  /** Short stable rule name, e.g. "run-left-as-root". */
  rule: string;
  message: string;
  /** The spec file and section, or a repo doc, the rule comes from. */
  spec: string;
}

export const DOCKERFILE_RULES = 'image_extension.md, "Dockerfile Requirements"';

function fromIssue(i: SpecIssue, rule: string): LintFinding {
  return { file: i.file, ...(i.line !== undefined ? { line: i.line } : {}), severity: i.severity, rule, message: i.message, spec: DOCKERFILE_RULES };
}

function finding(file: string, ins: DockerfileInstruction | undefined, severity: LintSeverity, rule: string, message: string): LintFinding {
  return { file, ...(ins !== undefined ? { line: ins.line } : {}), severity, rule, message, spec: DOCKERFILE_RULES };
}

const ROOT_USERS = new Set(['root', '0', 'root:root', '0:0']);
const PERSISTED_NOT = /(^|[\s"'=:])\/(workspace|layers|platform)(\/|\s|$|["'])/;

/** The stage's own checks, shared by both kinds. */
function stageFindings(file: string, stage: DockerfileStage, kind: 'build' | 'run'): LintFinding[] {
  const out: LintFinding[] = [];
  const users = stage.commands.filter((c) => c.keyword === 'USER');
  const last = users[users.length - 1];
  if (last !== undefined) {
    const who = (last.args[0] ?? '').trim();
    if (ROOT_USERS.has(who)) {
      out.push(
        kind === 'run'
          ? finding(file, last, 'error', 'run-left-as-root', 'the run image is left as root: the app would run as root, and kiln refuses it; end with USER ${user_id}:${group_id}')
          : finding(file, last, 'warning', 'user-not-reset', 'the build image is left as root: buildpacks would run as root; end with USER ${user_id}:${group_id}'),
      );
    } else if (!who.includes('user_id')) {
      out.push(finding(file, last, 'warning', 'user-not-reset', `USER ${who} is not the image's own user: reset it with the user_id and group_id build args (USER \${user_id}:\${group_id})`));
    }
  }
  const buildIdArg = stage.commands.find((c) => c.keyword === 'ARG' && c.args.some((a) => a === 'build_id' || a.startsWith('build_id=')));
  const usesBuildId = stage.commands.some((c) => c.keyword === 'RUN' && /\$\{?build_id\b/.test(c.rest));
  if (usesBuildId && buildIdArg === undefined) {
    const run = stage.commands.find((c) => c.keyword === 'RUN' && /\$\{?build_id\b/.test(c.rest));
    out.push(finding(file, run, 'warning', 'build-id-undeclared', 'RUN uses $build_id but the stage declares no "ARG build_id=0": the value is empty'));
  } else if (buildIdArg !== undefined && buildIdArg.args.includes('build_id')) {
    out.push(finding(file, buildIdArg, 'warning', 'build-id-default', 'ARG build_id SHOULD default to 0 ("ARG build_id=0") so the file builds on any platform'));
  }
  for (const c of stage.commands) {
    if (!['RUN', 'COPY', 'ADD', 'WORKDIR'].includes(c.keyword)) continue;
    const m = PERSISTED_NOT.exec(c.rest);
    if (m !== null) {
      out.push(finding(file, c, 'warning', 'not-persisted', `${c.keyword} touches /${m[2]}: changes to <app>, <layers> and <platform> are not kept (platform.md, "extender")`));
    }
  }
  return out;
}

function structure(text: string, file: string): DockerfileStage | undefined {
  const parsed = parseDockerfile(text, file).value;
  const s = parsed !== undefined ? dockerfileStructure(parsed, file).value : undefined;
  return s?.stages.length === 1 ? s.stages[0] : undefined;
}

/** Findings for a build.Dockerfile. */
export function lintBuildDockerfile(text: string, file: string): LintFinding[] {
  const res = validateBuildDockerfile(text, file);
  const out = res.issues.map((i) => fromIssue(i, i.severity === 'error' ? 'build-dockerfile' : 'instruction-not-recommended'));
  const stage = structure(text, file);
  if (stage !== undefined && res.value !== undefined) out.push(...stageFindings(file, stage, 'build'));
  return out;
}

/** Findings for a run.Dockerfile. */
export function lintRunDockerfile(text: string, file: string): LintFinding[] {
  const res = validateRunDockerfile(text, file);
  const out = res.issues.map((i) => fromIssue(i, i.severity === 'error' ? 'run-dockerfile' : 'instruction-not-recommended'));
  const stage = structure(text, file);
  if (stage === undefined || res.value === undefined) return out;
  out.push(...stageFindings(file, stage, 'run'));
  const extendsIt = stage.commands.length > 0;
  if (stage.baseName !== BASE_IMAGE_REF && extendsIt) {
    out.push(
      finding(file, stage.from, 'warning', 'switch-and-extend',
        `switches the run image to ${stage.baseName} and also extends it: a switch is portable as a lone FROM; kiln applies the rest on the switched image (docs/conformance.md), other platforms may refuse it`),
    );
  }
  const rebasable = stage.commands.some((c) => c.keyword === 'LABEL' && new RegExp(`${REBASABLE_LABEL.replace(/\./g, '\\.')}\\s*=\\s*"?true"?`).test(c.rest));
  if (extendsIt && !rebasable) {
    out.push(
      finding(file, stage.from, 'info', 'rebasable-advice',
        `no LABEL ${REBASABLE_LABEL}="true": the app image cannot be rebased; add it when the new layers do not depend on the run image's files`),
    );
  }
  return out;
}

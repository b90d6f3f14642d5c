/**
 * Checks an image against the base-image contract (cnb/base-image-contract.ts) by running one short
 * container of it: `sh -c 'for p; do command -v "$p" ...'` with the program names as parameters
 * (sh-script.ts), no network, as the given non-root user. Used by `kiln stack create` and `kiln builder
 * create`, so a base image that lacks a program fails there, naming it, and not in the middle of a build.
 */
import { contractPrograms, missingPrograms, missingProgramsScript, type BaseImageKind, type ContractProgram } from '../cnb/base-image-contract.js';
import { ExitCode, isKilnError, KilnError } from '../errors.js';
import { shArgv } from '../lifecycle/container/sh-script.js';
import type { ContainerEngine, Labels } from '../ports.js';

export interface BaseImageCheck {
  image: string;
  kind: BaseImageKind;
  /** "uid:gid" to run the check as (the CNB user of a build image). */
  user: string;
  /** Labels of the check's container (a session's or a test's). */
  labels: Labels;
  /** What the image is to the user, for the error: "build image (named in builder.toml)". */
  role?: string;
}

/** A daemon message saying the container's executable could not be started. */
const NO_SHELL = /executable file not found|no such file or directory/i;

function missingError(check: BaseImageCheck, missing: readonly ContractProgram[]): KilnError {
  const what = check.role ?? `${check.kind} image`;
  return new KilnError({
    action: `use ${what} ${check.image}`,
    cause: `it has no ${missing.map((p) => p.name).join(', ')} on its PATH (${missing.map((p) => `${p.name}: used by ${p.usedBy}`).join('; ')})`,
    hint: `install ${missing.length === 1 ? 'it' : 'them'} in the image (docs/architecture.md, "add a base stack" lists what a ${check.kind} image needs), or use \`kiln stack create busybox\``,
    exitCode: ExitCode.config,
    subject: check.image,
  });
}

export async function checkBaseImage(engine: ContainerEngine, check: BaseImageCheck): Promise<void> {
  const lines: string[] = [];
  let exitCode: number;
  try {
    ({ exitCode } = await engine.runContainer({
      image: check.image,
      cmd: shArgv(missingProgramsScript(check.kind), 'kiln-base-check'),
      user: check.user,
      network: 'none',
      labels: check.labels,
      name: `the base-image check of ${check.image}`,
      onLine: (stream, line) => {
        if (stream === 'stdout') lines.push(line);
      },
    }));
  } catch (e) {
    const text = isKilnError(e) ? `${e.causeText} ${e.message}` : e instanceof Error ? e.message : String(e);
    if (NO_SHELL.test(text)) throw missingError(check, contractPrograms(check.kind).filter((p) => p.name === 'sh'));
    throw e;
  }
  const missing = missingPrograms(check.kind, lines);
  if (missing.length > 0) throw missingError(check, missing);
  if (exitCode !== 0) {
    throw new KilnError({ action: `check ${check.role ?? `${check.kind} image`} ${check.image}`, cause: `the check's shell exited with ${exitCode}`, exitCode: ExitCode.config, subject: check.image });
  }
}

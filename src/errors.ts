/**
 * The one error taxonomy. Every failure that reaches the user is a KilnError: it names the action that
 * failed, the cause, a hint saying what to do, and an exit code from the table below. Numbers follow the
 * lifecycle's where they exist (buildpacks/spec platform.md, the "Exit Codes" table of each phase).
 */
export const ExitCode = {
  ok: 0,
  generic: 1,
  usage: 3,
  daemon: 4,
  missingImage: 5,
  interrupted: 130,
  platformApi: 11,
  buildpackApi: 12,
  detectFail: 20,
  detectError: 21,
  detectOther: 22,
  analyze: 32,
  restore: 42,
  buildFailed: 51,
  buildError: 52,
  exportFailed: 62,
  rebase: 72,
  launch: 82,
  generateFailed: 91,
  generateError: 92,
  extendFailed: 102,
  config: 2,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export interface KilnErrorOptions {
  /** What kiln was doing, as a verb phrase: "read builder.toml", "run detect". */
  action: string;
  /** Why it failed, in one sentence. */
  cause: string;
  /** What the user should do next. */
  hint?: string;
  exitCode?: number;
  /** The file or module the error is about, when there is one. */
  subject?: string;
  /** Underlying error, kept for --verbose. */
  original?: unknown;
}

export class KilnError extends Error {
  readonly action: string;
  readonly causeText: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly subject: string | undefined;
  readonly original: unknown;

  constructor(opts: KilnErrorOptions) {
    super(`failed to ${opts.action}: ${opts.cause}`);
    this.name = 'KilnError';
    this.action = opts.action;
    this.causeText = opts.cause;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.generic;
    this.subject = opts.subject;
    this.original = opts.original;
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}

/** Wraps anything thrown into a KilnError for the given action, keeping KilnErrors as they are. */
export function toKilnError(e: unknown, action: string, exitCode: number = ExitCode.generic): KilnError {
  if (isKilnError(e)) return e;
  const cause = e instanceof Error ? e.message : String(e);
  return new KilnError({ action, cause, exitCode, original: e });
}

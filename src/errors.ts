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

/**
 * What kind of failure an error is, for the code that must react to one kind (stop retrying on an
 * interrupt, treat a missing path as "none"): it reads the kind, never the message or the exit code.
 * - interrupted: Ctrl-C, SIGTERM or SIGHUP stopped the work (exit 130);
 * - missing-path: a path asked of a container or volume does not exist (ContainerEngine.getArchive);
 * - timeout: a run did not finish within its time limit (--timeout);
 * - limit: a module run ended on its pids or memory limit (lifecycle/container/module-limits.ts);
 * - killed-by-daemon: a container was killed from outside (docker kill/stop, a daemon restart).
 */
export type ErrorKind = 'interrupted' | 'missing-path' | 'timeout' | 'limit' | 'killed-by-daemon';

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
  /** The kind, when code reacts to it; an error with exit code 130 is 'interrupted' unless told. */
  kind?: ErrorKind;
}

export class KilnError extends Error {
  readonly action: string;
  readonly causeText: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly subject: string | undefined;
  readonly original: unknown;
  readonly kind: ErrorKind | undefined;

  constructor(opts: KilnErrorOptions) {
    super(`failed to ${opts.action}: ${opts.cause}`);
    this.name = 'KilnError';
    this.action = opts.action;
    this.causeText = opts.cause;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.generic;
    this.subject = opts.subject;
    this.original = opts.original;
    this.kind = opts.kind ?? (this.exitCode === ExitCode.interrupted ? 'interrupted' : undefined);
  }
}

export function isKilnError(e: unknown): e is KilnError {
  return e instanceof KilnError;
}

/** Whether `e` is a KilnError of that kind. */
export function isErrorKind(e: unknown, kind: ErrorKind): e is KilnError {
  return isKilnError(e) && e.kind === kind;
}

/** Whether the work was interrupted (Ctrl-C, SIGTERM, SIGHUP): such errors are passed on as they are. */
export function isInterrupted(e: unknown): e is KilnError {
  return isErrorKind(e, 'interrupted');
}

/** Wraps anything thrown into a KilnError for the given action, keeping KilnErrors as they are. */
export function toKilnError(e: unknown, action: string, exitCode: number = ExitCode.generic): KilnError {
  if (isKilnError(e)) return e;
  const cause = e instanceof Error ? e.message : String(e);
  return new KilnError({ action, cause, exitCode, original: e });
}

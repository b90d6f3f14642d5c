/**
 * Turning parse issues into text and into the one KilnError a caller throws when a file is unusable.
 */
import { ExitCode, KilnError } from '../errors.js';
import type { ParseResult, SpecIssue } from './models.js';

/** `builder.toml:12: order[0].group[1].id: must be a string` (line and key path only when known). */
export function formatIssue(i: SpecIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}` : i.file;
  const key = i.keyPath !== '' ? ` ${i.keyPath}:` : '';
  return `${where}:${key} ${i.message}`;
}

/** One error for a file with error issues; `issues` has every error issue (warnings are not included). */
export class SpecError extends KilnError {
  readonly issues: SpecIssue[];

  constructor(issues: SpecIssue[], action: string, hint?: string) {
    const errors = issues.filter((i) => i.severity === 'error');
    const cause =
      errors.length === 1
        ? formatIssue(errors[0] as SpecIssue)
        : `${errors.length} problems:\n${errors.map((i) => `  ${formatIssue(i)}`).join('\n')}`;
    // An unsupported Buildpack API keeps the lifecycle's dedicated exit code (platform.md, "Platform API Version").
    const exitCode = errors.some((i) => i.code === 'unsupported-buildpack-api') ? ExitCode.buildpackApi : ExitCode.config;
    super({ action, cause, exitCode, ...(hint !== undefined ? { hint } : {}), ...(errors[0] ? { subject: errors[0].file } : {}) });
    this.name = 'SpecError';
    this.issues = errors;
  }
}

export function isSpecError(e: unknown): e is SpecError {
  return e instanceof SpecError;
}

/**
 * Returns the parsed value, or throws one SpecError listing every error issue. Warnings are left in
 * `result.issues` for the caller to report.
 */
export function throwOnErrors<T>(result: ParseResult<T>, action: string, hint?: string): T {
  const hasErrors = result.issues.some((i) => i.severity === 'error');
  if (!hasErrors && result.value !== undefined) return result.value;
  const issues = hasErrors
    ? result.issues
    : [{ severity: 'error' as const, file: '', keyPath: '', message: 'no value was produced' }];
  throw new SpecError(issues, action, hint);
}

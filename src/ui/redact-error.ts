import { KilnError } from '../errors.js';
import { redactUrlCredentials } from './redact.js';

/** The error with URL credentials redacted from its action, cause and hint (rendered once, by main.ts). */
export function redactedError(err: KilnError): KilnError {
  const action = redactUrlCredentials(err.action);
  const cause = redactUrlCredentials(err.causeText);
  const hint = err.hint !== undefined ? redactUrlCredentials(err.hint) : undefined;
  if (action === err.action && cause === err.causeText && hint === err.hint) return err;
  return new KilnError({ action, cause, ...(hint !== undefined ? { hint } : {}), exitCode: err.exitCode, ...(err.subject !== undefined ? { subject: redactUrlCredentials(err.subject) } : {}), original: err.original });
}

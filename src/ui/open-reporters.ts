/**
 * The registry of reporters that hold a terminal (a spinner), apart from the reporters themselves so
 * cli/main.ts can stop them without loading ora at start-up (issue 21: `kiln --version` loads nothing
 * it does not use).
 */
const open = new Set<{ close(): void }>();

export function registerOpenReporter(r: { close(): void }): void {
  open.add(r);
}

/** Stops every spinner (called before an error is rendered and when a command ends). */
export function closeReporters(): void {
  for (const r of open) r.close();
  open.clear();
}

/** Whether argv asks for JSON output (main.ts renders errors as JSON then). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/**
 * The last words of a kiln that exits at once (a second Ctrl-C, the interrupt watchdog: cli/interrupt.ts),
 * written straight to stderr: the reporters may be waiting on a daemon that no longer answers.
 */
export function writeFarewell(text: string): void {
  process.stderr.write(text);
}

/**
 * The plain renderer (non-TTY, --quiet off): phase headers like `===> DETECTING`, buildpack output
 * prefixed `[module-id] line`, warnings and info lines, all on stderr (architecture.md: people read
 * stderr). Debug events only with `verbose`.
 */
import type { KilnEvent, Reporter } from '../ports.js';

export interface PlainReporterOptions {
  /** Where to write (default process.stderr). */
  out?: { write(text: string): unknown };
  verbose?: boolean;
  quiet?: boolean;
}

export function formatEvent(e: KilnEvent, verbose = false): string | undefined {
  switch (e.type) {
    case 'phase-start':
      return `===> ${e.phase.toUpperCase()}`;
    case 'phase-end':
      return verbose ? `     ${e.phase} took ${(e.elapsedMs / 1000).toFixed(1)}s` : undefined;
    case 'module-line':
      return `[${e.module}] ${e.line}`;
    case 'info':
      return e.message;
    case 'warning':
      return `Warning: ${e.message}`;
    case 'debug':
      return verbose ? e.message : undefined;
    case 'layer':
      return `${e.decision === 'reused' ? 'Reusing' : e.decision === 'added' ? 'Adding' : e.decision === 'cached' ? 'Caching' : 'Restoring'} layer '${e.layer}'`;
    case 'wait-start':
      return e.message;
    case 'wait-end':
      return undefined;
  }
}

export function createPlainReporter(opts: PlainReporterOptions = {}): Reporter {
  const out = opts.out ?? process.stderr;
  return {
    emit(event) {
      if (opts.quiet === true && event.type !== 'warning') return;
      const text = formatEvent(event, opts.verbose ?? false);
      if (text !== undefined) out.write(`${text}\n`);
    },
  };
}

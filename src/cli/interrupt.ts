/**
 * The signals that interrupt a command: Ctrl-C (SIGINT), SIGTERM, and SIGHUP (the terminal closed),
 * which would otherwise end kiln at once, before its cleanup (issue 14 point 10). Each aborts the
 * command's AbortController; the command's own finally removes what it created. Returns the undo.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function abortOnSignals(abort: AbortController): () => void {
  const onSignal = (): void => abort.abort();
  for (const s of SIGNALS) process.once(s, onSignal);
  return () => {
    for (const s of SIGNALS) process.off(s, onSignal);
  };
}

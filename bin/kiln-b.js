#!/usr/bin/env node
// `kiln --version` and `kiln --help` alone are answered without loading the program (issue 21:
// start-up); the help text is the program's own, written by `npm run build` (scripts/top-level-help.mjs).
const only = process.argv.length === 3 ? process.argv[2] : undefined;
if (only === '--version' || only === '-V') {
  const { KILN_VERSION } = await import('../dist/cli/version.js');
  process.stdout.write(`${KILN_VERSION}\n`);
} else {
  const { readFileSync } = await import('node:fs');
  let help;
  if (only === '--help' || only === '-h') {
    try {
      help = readFileSync(new URL('../dist/cli/help.txt', import.meta.url), 'utf8');
    } catch {
      help = undefined; // not built by npm run build: the program prints it
    }
  }
  if (help !== undefined) process.stdout.write(help);
  else {
    const { main } = await import('../dist/bundle/main.js');
    process.exitCode = await main(process.argv);
    // The command is over: a request left open to a daemon that stopped answering must not keep kiln
    // running (unref'd: it never delays a normal exit).
    setTimeout(() => process.exit(), 2000).unref();
  }
}

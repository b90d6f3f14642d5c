// Writes dist/cli/help.txt: `kiln --help` as the program built by dist/cli/main.js prints it, so that
// bin/kiln.js can answer `kiln --help` without loading the program (README "Development"; issue 21:
// start-up). Run by `npm run build` right after tsc, from the same dist/; the text has a fixed width
// (main.ts HELP_WIDTH), so it is the same on a terminal and in a pipe.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const { buildProgram } = await import(join(dist, 'cli/main.js'));
writeFileSync(join(dist, 'cli/help.txt'), buildProgram().helpInformation());

/**
 * kiln against `docker build` of an equivalent Dockerfile (issue 21), measured in the same run on the
 * same daemon, both through their command lines as a developer runs them: cold build, warm no-change
 * rebuild, warm rebuild after the same one-file change; and `kiln --version` against `node -e 0`
 * (paired runs, medians). Used by rebuild.mjs; the Dockerfiles are shipped next to it.
 */
import { execFile } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Paired runs of `kiln --version`/`--help` and `node -e 0`, interleaved so both see the same machine load. */
export async function startup(root, pairs = 15) {
  const node = [];
  const version = [];
  const help = [];
  for (let i = 0; i < pairs; i++) {
    node.push(await timed(() => run(process.execPath, ['-e', '0'])));
    version.push(await timed(() => run(process.execPath, [join(root, 'bin/kiln.js'), '--version'])));
    help.push(await timed(() => run(process.execPath, [join(root, 'bin/kiln.js'), '--help'])));
  }
  // Judged on the median of the per-pair ratios: a pair runs back to back, so load that changes during the
  // run (other processes on the machine) affects both of its runs alike.
  const ratio = (xs) => median(xs.map((x, i) => x / node[i]));
  return { nodeMs: median(node), versionMs: median(version), helpMs: median(help), versionRatio: ratio(version), helpRatio: ratio(help) };
}

/**
 * One app built both ways. `kiln(...args)` runs the CLI; `dockerfile` is the equivalent Dockerfile;
 * `change` is the one file to edit. The app is copied to `dir` so both builds see the same bytes.
 */
export async function vsDocker({ kiln, app, dir, image, builder, dockerfile, dockerTag, buildArgs = [], change, network = 'none', kilnArgs = [], label = 'io.kiln.bench=rebuild' }) {
  await cp(app, dir, { recursive: true });
  const kilnBuild = (...extra) => timed(() => kiln('build', image, '--builder', builder, '--path', dir, '-q', ...kilnArgs, ...extra));
  // The legacy builder: this daemon has no BuildKit front end; each build sends the context, as docker does.
  const dockerBuild = (...extra) =>
    timed(() => run('docker', ['build', '-q', '--network', network, '--label', label, '-f', dockerfile, '-t', dockerTag, ...buildArgs, ...extra, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } }));
  const rows = {};
  rows.cold = { kiln: await kilnBuild('--clear-cache'), docker: await dockerBuild('--no-cache') };
  rows.warm = { kiln: await kilnBuild(), docker: await dockerBuild() };
  // A second no-change round; the mean of both is judged (machine noise).
  const warm2 = { kiln: await kilnBuild(), docker: await dockerBuild() };
  rows.warm = { kiln: (rows.warm.kiln + warm2.kiln) / 2, docker: (rows.warm.docker + warm2.docker) / 2 };
  await writeFile(join(dir, change), `changed at ${Date.now()}\n`);
  rows.change = { kiln: await kilnBuild(), docker: await dockerBuild() };
  return rows;
}

/** Prints the rows and the targets; returns the target lines. */
export function report(name, rows, start) {
  const r = (x) => (x.kiln / x.docker).toFixed(2);
  console.log(`kiln vs docker build (${name}; Dockerfile in bench/, both through their CLIs)`);
  console.log(`  cold build                 kiln ${secs(rows.cold.kiln)}  |  docker build --no-cache ${secs(rows.cold.docker)}  |  ${r(rows.cold)}x`);
  console.log(`  warm no-change (mean of 2) kiln ${secs(rows.warm.kiln)}  |  docker build ${secs(rows.warm.docker)}  |  ${r(rows.warm)}x`);
  console.log(`  warm one-file change       kiln ${secs(rows.change.kiln)}  |  docker build ${secs(rows.change.docker)}  |  ${r(rows.change)}x`);
  const ok = (c) => (c ? 'met' : 'MISSED');
  const lines = [
    `  ${name}: warm no-change <= 3x docker build: ${ok(rows.warm.kiln <= 3 * rows.warm.docker)} (${r(rows.warm)}x)`,
    `  ${name}: warm one-file change <= 2x docker build: ${ok(rows.change.kiln <= 2 * rows.change.docker)} (${r(rows.change)}x)`,
  ];
  if (start !== undefined) {
    console.log(`  start-up (medians of 15 paired runs): kiln --version ${secs(start.versionMs)}, kiln --help ${secs(start.helpMs)}, node -e 0 ${secs(start.nodeMs)}`);
    lines.push(`  kiln --version <= 1.5x node -e 0: ${ok(start.versionRatio <= 1.5)} (median per-pair ratio ${start.versionRatio.toFixed(2)}x; --help ${start.helpRatio.toFixed(2)}x)`);
  }
  return lines;
}

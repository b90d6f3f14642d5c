import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { cleanupByLabel, TEST_LABEL } from '../helpers/test-labels.js';

/**
 * Integration tests need a daemon; scripts/ensure-docker.sh starts one. Fail early and clearly if none
 * answers. Also fixes one run id for every test file (test/helpers/test-labels.ts reads it from the
 * environment the forks inherit) and, as a safety net, removes whatever still carries it at the end.
 */
function imageIds(flags: string): string[] {
  return execSync(`docker images -q --no-trunc ${flags}`, { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
}

export default function setup(): () => Promise<void> {
  try {
    execSync('docker version --format "{{.Server.Version}}"', { stdio: 'pipe' });
  } catch {
    throw new Error('integration tests need a Docker daemon: run scripts/ensure-docker.sh (or scripts/test.sh) first');
  }
  // test-labels.ts has already fixed the id when it was imported; this is only the fallback.
  const current = process.env.KILN_TEST_RUN_ID;
  const runId = current !== undefined && current !== '' ? current : `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  process.env.KILN_TEST_RUN_ID = runId;
  console.log(`integration run id: ${TEST_LABEL}=${runId}`);
  // kiln's temp dirs of this run in a dir of its own (the forks and the kiln processes tests start inherit
  // it): a temp dir a killed kiln left elsewhere on the machine is not this run's "dead session", and
  // this run leaves none behind.
  const ownTmp = process.env.KILN_TMPDIR === undefined ? mkdtempSync(join(tmpdir(), 'kiln-test-tmp-')) : undefined;
  if (ownTmp !== undefined) process.env.KILN_TMPDIR = ownTmp;
  const before = new Set(imageIds('-a'));
  return async () => {
    await cleanupByLabel(createDockerEngine(), { [TEST_LABEL]: runId });
    if (ownTmp !== undefined) rmSync(ownTmp, { recursive: true, force: true });
    // App images are the product and carry no test label; a rebuild under the same name leaves the
    // previous one untagged. Remove the untagged images this run created (none existed before it).
    // An image labelled by ANOTHER run (a second test run on the same daemon) is that run's to remove.
    const otherRun = (id: string): boolean => {
      try {
        const label = execSync(`docker image inspect --format '{{index .Config.Labels "${TEST_LABEL}"}}' ${id}`, { stdio: 'pipe' }).toString().trim();
        return label !== '' && label !== '<no value>' && label !== runId;
      } catch {
        return false;
      }
    };
    const dangling = imageIds('--filter dangling=true').filter((id) => !before.has(id) && !otherRun(id));
    for (const id of dangling) {
      try {
        execSync(`docker rmi ${id}`, { stdio: 'pipe' });
      } catch {
        // still used by a tagged child or a container: left for the label sweep above
      }
    }
    if (dangling.length > 0) console.log(`integration teardown: removed ${dangling.length} untagged image(s) created by this run`);
  };
}

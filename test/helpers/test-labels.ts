/**
 * Every resource an integration test creates carries `io.kiln.test=<run id>` (common working agreement),
 * so it can be found and removed after the test — or after a crash — and leftovers can be asserted.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerEngine, Labels } from '../../src/ports.js';

export const TEST_LABEL = 'io.kiln.test';

/** One id per test run: set by test/integration/global-setup.ts, else one per test-file process. */
const fromEnv = process.env.KILN_TEST_RUN_ID;
export const runId: string = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (process.env.KILN_TEST_RUN_ID = `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`);

/** Labels to put on every container, volume and image a test creates. */
export function testLabels(extra: Labels = {}): Labels {
  return { [TEST_LABEL]: runId, ...extra };
}

/** A unique, docker-valid name for a test resource: `kiln-test-<what>-<run id>-<random>`. */
export function testName(what: string): string {
  return `kiln-test-${what}-${runId}-${randomBytes(3).toString('hex')}`;
}

function filterOf(labels: Labels): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

export interface Leftovers {
  containers: string[];
  images: string[];
  volumes: string[];
}

/** Resources still carrying the labels (default: this run's test label). */
export async function leftovers(engine: ContainerEngine, labels: Labels = testLabels()): Promise<Leftovers> {
  const filter = { labels: filterOf(labels) };
  const [containers, images, volumes] = await Promise.all([engine.listContainers(filter), engine.listImages(filter), engine.listVolumes(filter)]);
  return { containers, images, volumes };
}

/**
 * Removes containers, then images, then volumes carrying the labels (default: this run's test label).
 * Images are retried while that makes progress, because a child image must go before its parent.
 */
export async function cleanupByLabel(engine: ContainerEngine, labels: Labels = testLabels()): Promise<void> {
  const filter = { labels: filterOf(labels) };
  for (const id of await engine.listContainers(filter)) await engine.removeContainer(id);
  let images = await engine.listImages(filter);
  let lastError: unknown;
  while (images.length > 0) {
    const failed: string[] = [];
    for (const id of images) {
      try {
        await engine.removeImage(id, { force: true });
      } catch (e) {
        failed.push(id);
        lastError = e;
      }
    }
    if (failed.length === images.length) throw lastError;
    images = await engine.listImages(filter);
  }
  for (const name of await engine.listVolumes(filter)) await engine.removeVolume(name);
}

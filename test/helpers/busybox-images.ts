/**
 * Busybox build and run base images for integration tests: imported offline (src/stacks/busybox.ts),
 * labelled with the test label, got-or-created once per run id and removed in afterAll by the file
 * that asked for them (useBusyboxImages) — or by cleanupByLabel.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ContainerEngine } from '../../src/ports.js';
import { createBusyboxImage } from '../../src/stacks/busybox.js';
import { runId, testLabels } from './test-labels.js';

export interface BusyboxBases {
  /** Tag of the build base (CNB user uid:gid, CNB_USER_ID/CNB_GROUP_ID set). */
  build: string;
  /** Tag of the run base (a different non-root user runUid:runGid, io.buildpacks.rebasable=true). */
  run: string;
  uid: number;
  gid: number;
  runUid: number;
  runGid: number;
}

export interface BusyboxBaseOptions {
  uid?: number;
  gid?: number;
  runUid?: number;
  runGid?: number;
  /** Distinguishes several base pairs in one run (part of the tags). */
  name?: string;
}

/** Creates (or reuses, when the tags exist already) the labelled build and run bases. */
export async function getBusyboxImages(engine: ContainerEngine, opts: BusyboxBaseOptions = {}): Promise<BusyboxBases> {
  const uid = opts.uid ?? 1000;
  const gid = opts.gid ?? 1000;
  const runUid = opts.runUid ?? 1001;
  const runGid = opts.runGid ?? 1000;
  const suffix = `${runId}${opts.name !== undefined ? `-${opts.name}` : ''}-${uid}-${gid}-${runUid}-${runGid}`;
  const bases: BusyboxBases = {
    build: `kiln-test/busybox-build:${suffix}`,
    run: `kiln-test/busybox-run:${suffix}`,
    uid,
    gid,
    runUid,
    runGid,
  };
  if ((await engine.inspectImage(bases.build)) === undefined) {
    await createBusyboxImage(engine, { ref: bases.build, uid, gid, kind: 'build', labels: testLabels() });
  }
  if ((await engine.inspectImage(bases.run)) === undefined) {
    await createBusyboxImage(engine, { ref: bases.run, uid: runUid, gid: runGid, kind: 'run', userName: 'cnbrun', labels: testLabels() });
  }
  return bases;
}

export async function removeBusyboxImages(engine: ContainerEngine, bases: BusyboxBases): Promise<void> {
  await engine.removeImage(bases.build, { force: true });
  await engine.removeImage(bases.run, { force: true });
}

/**
 * Registers beforeAll/afterAll in the calling test file; the returned getter gives the bases inside
 * tests. Images built on top of them must be removed first (afterAll hooks run in reverse order, so
 * call this before registering your own afterAll cleanup).
 */
export function useBusyboxImages(engine: ContainerEngine, opts: BusyboxBaseOptions = {}): () => BusyboxBases {
  let bases: BusyboxBases | undefined;
  beforeAll(async () => {
    bases = await getBusyboxImages(engine, opts);
  });
  afterAll(async () => {
    if (bases !== undefined) await removeBusyboxImages(engine, bases);
  });
  return () => {
    if (bases === undefined) throw new Error('useBusyboxImages: bases are only available once beforeAll has run');
    return bases;
  };
}

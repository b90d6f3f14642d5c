/**
 * `kiln rebase --reextend` (beyond pack): the run.Dockerfiles recorded at build time (label
 * dev.kiln.extend.run, src/image/extend-record.ts) are applied again, with the extend phase's own code
 * (lifecycle/extend/extend.ts), on the new run image; the rebase then puts the app layers on that result
 * instead of moving the old extension layers. Intermediates carry the label of a session
 * (build-session.ts) and are removed when it closes.
 */
import { randomBytes } from 'node:crypto';
import { ExitCode, KilnError } from '../errors.js';
import { decodeExtendRecord, EXTEND_RECORD_LABEL, type RecordedStep } from '../image/extend-record.js';
import type { Reextension } from '../image/rebase-plan.js';
import { makeTar } from '../image/tar-files.js';
import { extendImage, type ExtensionNetwork } from '../lifecycle/extend/extend.js';
import type { ContainerEngine, ImageInfo, Labels, Reporter } from '../ports.js';
import { openBuildSession } from './build-session.js';

export async function reextendRunImage(
  deps: { engine: ContainerEngine; reporter: Reporter },
  app: ImageInfo,
  newRun: ImageInfo,
  labels: Labels,
  dockerfiles: { network: ExtensionNetwork; allowRemote: boolean } = { network: 'none', allowRemote: false },
): Promise<{ result: Reextension; cleanup: () => Promise<void> }> {
  const text = app.config.labels[EXTEND_RECORD_LABEL];
  const action = 'rebase with --reextend';
  if (text === undefined) {
    throw new KilnError({ action, cause: `the image has no ${EXTEND_RECORD_LABEL} label: it was not extended by a run.Dockerfile, or not built by kiln`, hint: 'rebase without --reextend', exitCode: ExitCode.rebase });
  }
  let steps: RecordedStep[];
  try {
    steps = decodeExtendRecord(text);
  } catch (e) {
    throw new KilnError({ action, cause: (e as Error).message, exitCode: ExitCode.rebase, original: e });
  }
  // A session like a build's (build-session.ts), without volumes: closing it removes the intermediates.
  const session = openBuildSession({ ...deps, ids: { newId: () => randomBytes(6).toString('hex') } }, { labels });
  const { ctx } = session;
  const cleanup = (): Promise<void> => session.close();
  const empty = await makeTar([]);
  for (const s of steps) {
    if (s.appContext === true || s.contextOmitted === true) {
      deps.reporter.emit({ type: 'warning', message: `${s.extensionId}'s run.Dockerfile is re-applied with an empty build context (its context was ${s.appContext === true ? 'the app' : 'too big to record'})` });
    }
  }
  try {
    deps.reporter.emit({ type: 'info', message: `Re-applying ${steps.length} run.Dockerfile(s) on ${newRun.id}` });
    const r = await extendImage(ctx, { kind: 'run', baseImage: newRun.id, steps: steps.map((s) => ({ extensionId: s.extensionId, dockerfile: s.dockerfile, args: s.args, context: s.context ?? empty })), ...dockerfiles });
    for (const w of r.warnings) deps.reporter.emit({ type: 'warning', message: w });
    const extended = await deps.engine.inspectImage(r.imageId);
    if (extended === undefined) throw new KilnError({ action, cause: `the re-extended run image ${r.imageId} is gone`, exitCode: ExitCode.rebase });
    return { result: { layers: extended.layers, rebasable: r.rebasable }, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

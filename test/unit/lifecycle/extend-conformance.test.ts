/**
 * Issue 15 points 1, 2, 4, 8 and 11, the pure parts: rebasability needs the run image and every
 * run.Dockerfile to opt in; an extension's base_image arg is ignored with a warning; a run.toml image
 * absent from the daemon is found through its mirrors; kiln's own LABEL step is not the extension's
 * output; detect errors are named; the root warning; the summary of a switching extension.
 */
import { describe, expect, it } from 'vitest';
import { detectErrorLine } from '../../../src/app/build-phases.js';
import { createImageFetcher } from '../../../src/app/image-fetcher.js';
import { fetchRunImage, findRunImage, runImageCandidates } from '../../../src/app/run-image-resolve.js';
import { ExitCode, KilnError } from '../../../src/errors.js';
import { extensionOutputFilter } from '../../../src/lifecycle/extend/output.js';
import { checkUsers, extendedRebasable, platformBaseImageOnly } from '../../../src/lifecycle/extend/plan.js';
import type { ImageInfo, KilnEvent } from '../../../src/ports.js';
import { isDockerChatter } from '../../../src/ui/plain-reporter.js';
import { collectSummary, formatSummary, summaryOf } from '../../../src/ui/summary.js';
import { makeStyle } from '../../../src/ui/style.js';

describe('io.buildpacks.rebasable of an extended run image (image_extension.md)', () => {
  const yes = { 'io.buildpacks.rebasable': 'true' };
  it('is true only when the run image says so and every applied run.Dockerfile opts in itself', () => {
    expect(extendedRebasable(yes, [true, true], yes)).toBe(true);
    // An unlabelled run.Dockerfile on a rebasable run image: the inherited label does not count.
    expect(extendedRebasable(yes, [true, false], yes)).toBe(false);
    expect(extendedRebasable({}, [true], yes)).toBe(false);
    expect(extendedRebasable({ 'io.buildpacks.rebasable': 'false' }, [true], yes)).toBe(false);
    expect(extendedRebasable(yes, [true], { 'io.buildpacks.rebasable': 'false' })).toBe(false);
  });
});

describe('base_image is always the platform value', () => {
  it("drops an extension's own base_image arg with a warning naming the extension", () => {
    const r = platformBaseImageOnly('ex/sneaky', 'run', [
      { name: 'base_image', value: 'evil:latest' },
      { name: 'v', value: '1' },
    ]);
    expect(r.args).toEqual([{ name: 'v', value: '1' }]);
    expect(r.warning).toMatch(/ex\/sneaky.*base_image.*ignored/);
    expect(platformBaseImageOnly('ex/ok', 'build', [{ name: 'v', value: '1' }])).toEqual({ args: [{ name: 'v', value: '1' }] });
  });
});

describe('a Dockerfile leaving the user as root', () => {
  it('warns that a later extension must set a non-root user, naming the users', () => {
    const r = checkUsers('run', '1001:1000', [
      { extensionId: 'a', user: 'root' },
      { extensionId: 'b', user: '1001:1000' },
    ]);
    expect(r.warnings[0]).toBe(`a's run.Dockerfile changed the user from "1001:1000" to "root"; root must not be the final user, so a later extension's Dockerfile has to set a non-root USER`);
  });
});

describe('run image resolution through mirrors (platform.md run image resolution)', () => {
  const runImages = [{ image: 'reg.example/run:1', mirrors: ['mirror.example/run:1', 'other.example/run:1'] }];
  const info = (id: string): ImageInfo => ({ id, layers: [], config: { env: [], user: '', labels: {}, workingDir: '', entrypoint: [], cmd: [] }, os: 'linux', architecture: 'amd64', created: '', size: 0 }) as unknown as ImageInfo;
  it('tries the image, then each mirror in order', async () => {
    expect(runImageCandidates('reg.example/run:1', runImages)).toEqual(['reg.example/run:1', 'mirror.example/run:1', 'other.example/run:1']);
    expect(runImageCandidates('elsewhere/run:1', runImages)).toEqual(['elsewhere/run:1']);
    const tried: string[] = [];
    const engine = { inspectImage: (ref: string) => (tried.push(ref), Promise.resolve(ref === 'other.example/run:1' ? info('sha256:o') : undefined)) };
    const fetcher = createImageFetcher({ engine: engine as never, reporter: { emit: () => undefined }, policy: 'never' });
    const found = await fetchRunImage(fetcher, 'reg.example/run:1', runImages, { appImage: 'reg.example/app:1' });
    expect(found.name).toBe('other.example/run:1');
    expect(tried).toEqual(['reg.example/run:1', 'mirror.example/run:1', 'other.example/run:1']);
  });
  it('names the image and its mirrors when none is present', async () => {
    const fetcher = createImageFetcher({ engine: { inspectImage: () => Promise.resolve(undefined) } as never, reporter: { emit: () => undefined }, policy: 'never' });
    const err = await fetchRunImage(fetcher, 'reg.example/run:1', runImages, { appImage: 'reg.example/app:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.missingImage);
    expect((err as KilnError).message).toMatch(/mirror\.example\/run:1, other\.example\/run:1/);
    // kiln detect only needs the target: no run image is no error there.
    expect(await findRunImage({ inspectImage: () => Promise.resolve(undefined) }, 'reg.example/run:1', runImages)).toBeUndefined();
  });
});

describe("kiln's LABEL step is not shown as the extension's output", () => {
  it('drops the appended label step and renumbers the others', () => {
    const out: string[] = [];
    const f = extensionOutputFilter({ 'io.kiln.session': 's1', 'io.kiln.test': 't' }, (l) => out.push(l));
    for (const l of ['Step 1/4 : FROM abc', ' ---> abc', 'Step 2/4 : RUN echo hi', 'hi', ' ---> def', 'Step 3/4 : LABEL io.kiln.session=s1', ' ---> Running in 123', 'Removing intermediate container 123', ' ---> 456', 'Step 4/4 : LABEL io.kiln.test=t', ' ---> 789', 'Successfully built 789']) f(l);
    expect(out).toEqual(['Step 1/2 : FROM abc', ' ---> abc', 'Step 2/2 : RUN echo hi', 'hi', ' ---> def', 'Successfully built 789']);
  });
});

describe('Docker build chatter', () => {
  it('hides the unconsumed build-args warning however many args it lists', () => {
    expect(isDockerChatter('[Warning] One or more build-args [build_id] were not consumed')).toBe(true);
    expect(isDockerChatter('[Warning] One or more build-args [build_id group_id user_id] were not consumed')).toBe(true);
    expect(isDockerChatter('[Warning] something else')).toBe(false);
  });
});

describe('detect errors are named (as the lifecycle logs them)', () => {
  it('err: <id>@<version> (<code>)', () => {
    expect(detectErrorLine({ kind: 'extension', id: 'ex/e', version: '1.0.0', status: 'error', exitCode: 3, output: [] })).toBe('err: ex/e@1.0.0 (3)');
    expect(detectErrorLine({ kind: 'buildpack', id: 'bp/b', version: '2', status: 'error', exitCode: 0, message: 'bad plan', output: [] })).toBe('err: bp/b@2: bad plan');
  });
});

describe('summary of a FROM-only run.Dockerfile', () => {
  it('says which extension switched the run image to what', () => {
    const { reporter, facts } = collectSummary({ emit: () => undefined }, () => 0);
    const events: KilnEvent[] = [{ type: 'info', message: 'Run image switched to alt/run:2 by ex/switch' }];
    for (const e of events) reporter.emit(e);
    const s = summaryOf('app', { imageId: 'sha256:1', processes: [], runImage: 'alt/run:2', group: [], groupExtensions: [{ id: 'ex/switch', version: '1' }] }, facts, undefined, 0);
    expect(s.extensions).toEqual([{ id: 'ex/switch@1', changed: [], switchedTo: 'alt/run:2' }]);
    expect(formatSummary(s, makeStyle(false)).some((l) => l.includes('ex/switch@1: switched the run image to alt/run:2'))).toBe(true);
  });
});

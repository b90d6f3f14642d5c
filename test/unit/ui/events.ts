import type { BuildSummary, KilnEvent } from '../../../src/ports.js';

/** What a short successful build emits, in order (one extension, one buildpack, one new layer). */
export const successEvents: KilnEvent[] = [
  { type: 'phase-start', phase: 'detecting' },
  { type: 'info', message: '1 of 1 buildpacks participating' },
  { type: 'phase-end', phase: 'detecting', elapsedMs: 1234 },
  { type: 'phase-start', phase: 'extending (run)' },
  { type: 'info', message: 'Applying run.Dockerfile of ex/curl' },
  { type: 'module-line', module: 'ex/curl', stream: 'stdout', line: 'Step 1/2 : FROM base' },
  { type: 'module-line', module: 'ex/curl', stream: 'stdout', line: ' ---> Running in 0123456789ab' },
  { type: 'module-line', module: 'ex/curl', stream: 'stdout', line: 'Removing intermediate container 0123456789ab' },
  { type: 'phase-end', phase: 'extending (run)', elapsedMs: 61_000 },
  { type: 'phase-start', phase: 'building' },
  { type: 'module-line', module: 'ex/app', stream: 'stdout', line: 'compiled 1 module(s)' },
  { type: 'warning', message: 'layer x has no types' },
  { type: 'phase-end', phase: 'building', elapsedMs: 500 },
  { type: 'phase-start', phase: 'exporting' },
  { type: 'layer', decision: 'added', layer: 'ex/app:web' },
  { type: 'layer', decision: 'reused', layer: 'ex/app:deps' },
  { type: 'wait-start', id: 'w1', message: 'Loading the image into the Docker daemon' },
  { type: 'wait-end', id: 'w1' },
  { type: 'debug', message: 'container: image=sha256:abc' },
  { type: 'phase-end', phase: 'exporting', elapsedMs: 800 },
];

export const summary: BuildSummary = {
  image: 'demo/app:latest',
  imageId: 'sha256:feed',
  size: 123_456_789,
  processes: ['web', 'worker'],
  defaultProcess: 'web',
  runImage: 'kiln/debian-run:bookworm',
  buildpacks: ['ex/app@0.1.0'],
  extensions: [{ id: 'ex/curl@0.1.0', changed: ['run'] }],
  layers: { reused: 1, added: 1, other: 0 },
  elapsedMs: 63_534,
  warnings: 1,
};

/** A build that fails in the build phase: the error itself is rendered by cli/main.ts, not by events. */
export const failureEvents: KilnEvent[] = [
  { type: 'phase-start', phase: 'detecting' },
  { type: 'phase-end', phase: 'detecting', elapsedMs: 900 },
  { type: 'phase-start', phase: 'building' },
  { type: 'module-line', module: 'ex/app', stream: 'stderr', line: 'python3 is missing' },
];

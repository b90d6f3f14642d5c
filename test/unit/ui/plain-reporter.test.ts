import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { createPlainReporter, formatEvent } from '../../../src/ui/plain-reporter.js';
import { renderError } from '../../../src/ui/render-error.js';
import { failureEvents, successEvents, summary } from './events.js';

function render(events: typeof successEvents, opts: Parameters<typeof createPlainReporter>[0] = {}): string {
  let text = '';
  const r = createPlainReporter({ ...opts, out: { write: (s: string) => (text += s) } });
  for (const e of events) r.emit(e);
  return text;
}

describe('plain renderer', () => {
  it('renders a successful build: headers with elapsed times, prefixed module lines, layers, the summary', () => {
    expect(render([...successEvents, { type: 'result', result: summary }])).toBe(
      [
        '===> DETECTING',
        '1 of 1 buildpacks participating',
        '     detecting took 1.2s',
        '===> EXTENDING (RUN)',
        'Applying run.Dockerfile of ex/curl',
        '[ex/curl] Step 1/2 : FROM base',
        '     extending (run) took 1m1s',
        '===> BUILDING',
        '[ex/app] compiled 1 module(s)',
        'Warning: layer x has no types',
        '     building took 500ms',
        '===> EXPORTING',
        "Adding layer 'ex/app:web'",
        "Reusing layer 'ex/app:deps'",
        'Loading the image into the Docker daemon...',
        '     exporting took 800ms',
        '',
        'Summary',
        '  image       demo/app:latest',
        '  id          sha256:feed',
        '  size        123.5 MB',
        '  processes   web (default), worker',
        '  run image   kiln/debian-run:bookworm',
        '  buildpacks  ex/app@0.1.0',
        '  extensions  ex/curl@0.1.0: changed the run image',
        '  layers      1 new, 1 reused',
        '  took        1m4s, 1 warning(s)',
        '',
      ].join('\n'),
    );
  });

  it('renders a failing build: the output up to the failure, then the error once', () => {
    const err = new KilnError({ action: 'run build for ex/app', cause: 'bin/build exited with 1', hint: 'see the output of ex/app above', exitCode: 51 });
    expect(render(failureEvents) + renderError(err, { color: false })).toBe(
      [
        '===> DETECTING',
        '     detecting took 900ms',
        '===> BUILDING',
        '[ex/app] python3 is missing',
        'ERROR: failed to run build for ex/app: bin/build exited with 1',
        'hint: see the output of ex/app above',
        'exit code 51',
        '',
      ].join('\n'),
    );
  });

  it('--verbose shows docker build chatter and debug lines', () => {
    const text = render(successEvents, { verbose: true });
    expect(text).toContain('[ex/curl]  ---> Running in 0123456789ab\n');
    expect(text).toContain('container: image=sha256:abc\n');
  });

  it('--quiet keeps warnings only', () => {
    expect(render([...successEvents, { type: 'result', result: summary }], { quiet: true })).toBe('Warning: layer x has no types\n');
  });

  it('--timestamps prefixes every line with the UTC time of day', () => {
    const text = render(successEvents.slice(0, 2), { timestamps: true, now: () => Date.UTC(2026, 0, 2, 3, 4, 5, 67) });
    expect(text).toBe('03:04:05.067 ===> DETECTING\n03:04:05.067 1 of 1 buildpacks participating\n');
  });

  it('colours only when asked (NO_COLOR and pipes give plain text)', () => {
    expect(render(successEvents.slice(0, 1), { color: true })).toBe('\u001b[36m\u001b[1m===> DETECTING\u001b[22m\u001b[39m\n');
    expect(render(successEvents, { color: false })).not.toContain('\u001b[');
  });

  it('formatEvent stays compatible with its first callers', () => {
    expect(formatEvent({ type: 'module-line', module: 'a/b', stream: 'stdout', line: 'hi' })).toBe('[a/b] hi');
    expect(formatEvent({ type: 'debug', message: 'x' })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import type { KilnEvent } from '../../../src/ports.js';
import { collectSummary, summaryOf } from '../../../src/ui/summary.js';
import { successEvents } from './events.js';

describe('build summary', () => {
  it('collects which extension changed which image, layer decisions and warnings from the events', () => {
    const seen: KilnEvent[] = [];
    let t = 1000;
    const { reporter, facts } = collectSummary({ emit: (e) => seen.push(e) }, () => t);
    const events: KilnEvent[] = [
      { type: 'phase-start', phase: 'extending (build)' },
      { type: 'module-line', module: 'ex/python', stream: 'stdout', line: 'Step 1/2' },
      { type: 'phase-end', phase: 'extending (build)', elapsedMs: 1 },
      { type: 'phase-start', phase: 'extending (run)' },
      { type: 'info', message: 'Reusing the extended run image of ex/python (sha256:0123456789ab)' },
      { type: 'phase-end', phase: 'extending (run)', elapsedMs: 1 },
      ...successEvents,
    ];
    for (const e of events) reporter.emit(e);
    expect(seen).toEqual(events);
    t = 5000;
    const s = summaryOf(
      'demo/app:latest',
      {
        imageId: 'sha256:1',
        processes: ['web'],
        defaultProcessType: 'web',
        runImage: 'run:1',
        group: [{ id: 'ex/app', version: '0.1.0' }],
        groupExtensions: [
          { id: 'ex/python', version: '1' },
          { id: 'ex/curl', version: '2' },
          { id: 'ex/idle', version: '3' },
        ],
      },
      facts,
      42,
      t,
    );
    expect(s).toEqual({
      image: 'demo/app:latest',
      imageId: 'sha256:1',
      size: 42,
      processes: ['web'],
      defaultProcess: 'web',
      runImage: 'run:1',
      buildpacks: ['ex/app@0.1.0'],
      extensions: [
        { id: 'ex/python@1', changed: ['build', 'run'] },
        { id: 'ex/curl@2', changed: ['run'] },
        { id: 'ex/idle@3', changed: [] },
      ],
      layers: { added: 1, reused: 1, other: 0 },
      elapsedMs: 4000,
      warnings: 1,
    });
  });
});

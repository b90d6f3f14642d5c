/** Issue 21: the input key covers every result-changing input, and reuse is off where a build can see outside them. */
import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../../src/app/build-app.js';
import { inputKeyLabels, inputKeyOf, reuseOffReason, type InputKeyParts } from '../../../src/app/input-key.js';
import { INPUT_IMAGES_LABEL, INPUT_KEY_LABEL } from '../../../src/lifecycle/cache/cache-volume.js';

const req: BuildRequest = { image: 'app:latest', builder: 'b:1', path: '/src', env: { A: '1' }, volumes: [] };
const base: InputKeyParts = {
  kilnVersion: '0.1.0',
  builderId: 'sha256:b',
  runImage: { ref: 'run:1', id: 'sha256:r' },
  app: 'a1',
  platformEnv: { A: '1' },
  project: undefined,
  request: req,
  sourceDateEpoch: undefined,
};

describe('inputKeyOf', () => {
  const key = inputKeyOf(base);

  it('is a sha256 and the same for the same parts', () => {
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(inputKeyOf({ ...base, platformEnv: { A: '1' } })).toBe(key);
  });

  it.each<[string, Partial<InputKeyParts>]>([
    ['kiln version', { kilnVersion: '0.2.0' }],
    ['builder id', { builderId: 'sha256:b2' }],
    ['run image id', { runImage: { ref: 'run:1', id: 'sha256:r2' } }],
    ['run image name', { runImage: { ref: 'run:2', id: 'sha256:r' } }],
    ['app', { app: 'a2' }],
    ['platform env', { platformEnv: { A: '2' } }],
    ['descriptor', { project: { exclude: ['x'] } as unknown as InputKeyParts['project'] }],
    ['SOURCE_DATE_EPOCH', { sourceDateEpoch: '1' }],
    ['--default-process', { request: { ...req, defaultProcess: 'web' } }],
    ['--run-image', { request: { ...req, runImage: 'other' } }],
    ['--network', { request: { ...req, network: 'host' } }],
    ['--volume', { request: { ...req, volumes: [{ type: 'volume', source: 'v', target: '/v', readOnly: false }] } }],
    ['a future flag', { request: { ...req, ...({ somethingNew: true } as object) } }],
  ])('changes with the %s', (_, over) => {
    expect(inputKeyOf({ ...base, ...over })).not.toBe(key);
  });

  it.each<[string, Partial<BuildRequest>]>([
    ['--clear-cache', { clearCache: true }],
    ['--no-reuse', { noReuse: true }],
    ['--timeout', { timeoutSeconds: 5 }],
    ['KILN_LABELS', { labels: { x: 'y' } }],
    ['--cache-volume', { cacheVolume: 'c' }],
  ])('does not change with %s (it does not change the image)', (_, over) => {
    expect(inputKeyOf({ ...base, request: { ...req, ...over } })).toBe(key);
  });
});

describe('reuseOffReason', () => {
  it('is off for --no-reuse, --clear-cache, a network other than none, any volume', () => {
    expect(reuseOffReason(req)).toBeUndefined();
    expect(reuseOffReason({ ...req, network: 'none' })).toBeUndefined();
    expect(reuseOffReason({ ...req, noReuse: true })).toBe('--no-reuse');
    expect(reuseOffReason({ ...req, clearCache: true })).toBe('--clear-cache');
    expect(reuseOffReason({ ...req, network: 'host' })).toBe('--network host');
    expect(reuseOffReason({ ...req, volumes: [{ type: 'bind', source: '/x', target: '/x', readOnly: true }] })).toBe('--volume');
  });
});

describe('inputKeyLabels', () => {
  it('records the key and the run image an extension switched to', () => {
    expect(inputKeyLabels('sha256:k', { ref: 'r:1', id: 'sha256:i' })).toEqual({ [INPUT_KEY_LABEL]: 'sha256:k', [INPUT_IMAGES_LABEL]: '[{"ref":"r:1","id":"sha256:i"}]' });
    expect(inputKeyLabels('sha256:k', undefined)[INPUT_IMAGES_LABEL]).toBe('[]');
  });
});

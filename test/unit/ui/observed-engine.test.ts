import { describe, expect, it } from 'vitest';
import type { KilnEvent } from '../../../src/ports.js';
import { observeEngine } from '../../../src/ui/observed-engine.js';
import { redactEnv, redactEnvList } from '../../../src/ui/redact.js';
import { FakeEngine } from '../../helpers/fake-engine.js';

describe('--verbose container specs and waits', () => {
  it('redacts secret-looking env values', () => {
    expect(redactEnv({ API_TOKEN: 't', DB_PASSWORD: 'p', AWS_SECRET_ACCESS_KEY: 's', GITHUB_AUTH: 'a', PATH: '/bin', PORT: '8080' })).toEqual({
      API_TOKEN: '<redacted>',
      DB_PASSWORD: '<redacted>',
      AWS_SECRET_ACCESS_KEY: '<redacted>',
      GITHUB_AUTH: '<redacted>',
      PATH: '/bin',
      PORT: '8080',
    });
    expect(redactEnvList(['NPM_TOKEN=x', 'HOME=/home/cnb'])).toEqual(['NPM_TOKEN=<redacted>', 'HOME=/home/cnb']);
  });

  it('reports container specs only with verbose, and waits around image loads', async () => {
    const events: KilnEvent[] = [];
    const engine = observeEngine(new FakeEngine(), { emit: (e) => events.push(e) }, { verbose: true });
    await engine.runContainer({ image: 'sha256:0123456789abcdef0123', cmd: ['/cnb/buildpacks/x/bin/detect'], user: '1000:1000', env: { CNB_PLATFORM_DIR: '/platform', MY_SECRET: 'hunter2' }, mounts: [{ type: 'volume', source: 'v', target: '/workspace', readOnly: true }], labels: {} });
    await engine.loadImage(Buffer.alloc(0));
    expect(events).toEqual([
      { type: 'debug', message: 'container: image=sha256:0123456789ab user=1000:1000 network=none' },
      { type: 'debug', message: '  cmd: ["/cnb/buildpacks/x/bin/detect"]' },
      { type: 'debug', message: '  mounts: v:/workspace:ro' },
      { type: 'debug', message: '  env: CNB_PLATFORM_DIR=/platform' },
      { type: 'debug', message: '  env: MY_SECRET=<redacted>' },
      { type: 'wait-start', id: 'w1', message: 'Loading the image into the Docker daemon' },
      { type: 'wait-end', id: 'w1' },
    ]);
    const quiet: KilnEvent[] = [];
    await observeEngine(new FakeEngine(), { emit: (e) => quiet.push(e) }, { verbose: false }).runContainer({ image: 'i', cmd: [], user: '1', labels: {} });
    expect(quiet).toEqual([]);
  });
});

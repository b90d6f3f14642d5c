import { describe, expect, it } from 'vitest';
import { daemonKind, explicitEntrypoint, normaliseImageId, normaliseImageInfo, normaliseImageName, serialQueue, withoutAttachNoise } from '../../../src/docker/podman-quirks.js';
import type { ImageInfo, OutputStream } from '../../../src/ports.js';

describe('daemonKind', () => {
  it('tells podman by its engine component, and takes that component version', () => {
    const podman = daemonKind({
      Platform: { Name: 'linux/amd64/debian-12' },
      Components: [{ Name: 'Podman Engine', Version: '4.3.1' }, { Name: 'Conmon', Version: 'conmon version 2.1.6' }],
      Version: '4.3.1',
    });
    expect(podman).toEqual({ podman: true, version: '4.3.1' });
  });

  it('tells podman by the platform name when no component says so', () => {
    expect(daemonKind({ Platform: { Name: 'Podman Engine' }, Version: '5.0.0' })).toEqual({ podman: true, version: '5.0.0' });
  });

  it('takes Docker for Docker', () => {
    expect(daemonKind({ Platform: { Name: 'Docker Engine - Community' }, Components: [{ Name: 'Engine', Version: '20.10.24' }, { Name: 'containerd' }], Version: '20.10.24' })).toEqual({
      podman: false,
      version: '20.10.24',
    });
    expect(daemonKind({})).toEqual({ podman: false, version: '' });
  });
});

describe('ids and names', () => {
  const hex = 'a'.repeat(64);

  it('gives a bare hex id its sha256: prefix and leaves others alone', () => {
    expect(normaliseImageId(hex)).toBe(`sha256:${hex}`);
    expect(normaliseImageId(`sha256:${hex}`)).toBe(`sha256:${hex}`);
    expect(normaliseImageId('abc123')).toBe('abc123');
  });

  it('names images as Docker does: no docker.io/, docker.io/library/ or podman localhost/ prefix', () => {
    expect(normaliseImageName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(normaliseImageName('docker.io/kiln/busybox-run:latest')).toBe('kiln/busybox-run:latest');
    expect(normaliseImageName('localhost/app:1')).toBe('app:1');
    expect(normaliseImageName('localhost:5000/app:1')).toBe('localhost:5000/app:1');
    expect(normaliseImageName('ghcr.io/x/y@sha256:abc')).toBe('ghcr.io/x/y@sha256:abc');
  });

  it('normalises an inspected image, dropping names that become duplicates', () => {
    const info = { id: hex, repoTags: ['localhost/app:1', 'docker.io/app:1', 'docker.io/library/busybox:1'], repoDigests: ['docker.io/app@sha256:1'] } as ImageInfo;
    expect(normaliseImageInfo(info)).toMatchObject({ id: `sha256:${hex}`, repoTags: ['app:1', 'busybox:1'], repoDigests: ['app@sha256:1'] });
  });
});

describe('serialQueue', () => {
  it('runs calls one at a time in order, also after a failure', async () => {
    const queue = serialQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) => async (): Promise<string> => {
      running++;
      expect(running).toBe(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      running--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue(task('a')), queue(task('b', true)), queue(task('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});

describe('explicitEntrypoint', () => {
  it('makes the command executable the entrypoint when the entrypoint is to be cleared', () => {
    expect(explicitEntrypoint({ Entrypoint: [], Cmd: ['sh', '-c', 'echo $1', 'x'] })).toEqual({ Entrypoint: ['sh'], Cmd: ['-c', 'echo $1', 'x'] });
  });

  it('leaves an empty command or a given entrypoint alone', () => {
    expect(explicitEntrypoint({ Entrypoint: [], Cmd: [] })).toEqual({ Entrypoint: [], Cmd: [] });
    expect(explicitEntrypoint({ Entrypoint: ['/launcher'], Cmd: ['web'] })).toEqual({ Entrypoint: ['/launcher'], Cmd: ['web'] });
  });
});

describe('withoutAttachNoise', () => {
  it("drops podman's attach error line and keeps the module's lines", () => {
    const seen: Array<[OutputStream, string]> = [];
    const spec = withoutAttachNoise({ onLine: (s: OutputStream, l: string) => void seen.push([s, l]) });
    spec.onLine('stdout', 'static-site: serving 3 file(s)');
    spec.onLine('stderr', 'Error: read unixpacket @->/proc/self/fd/13/attach: read: connection reset by peer');
    spec.onLine('stderr', 'Error: something the module said');
    expect(seen).toEqual([
      ['stdout', 'static-site: serving 3 file(s)'],
      ['stderr', 'Error: something the module said'],
    ]);
  });
});

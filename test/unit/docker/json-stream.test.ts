import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { followJsonStream, StreamError } from '../../../src/docker/json-stream.js';
import { loadedRefs, splitRef, toImageInfo } from '../../../src/docker/image-ops.js';

const lines = (...objs: unknown[]): Readable => Readable.from([Buffer.from(objs.map((o) => JSON.stringify(o)).join('\r\n').slice(0, 30)), Buffer.from(objs.map((o) => JSON.stringify(o)).join('\r\n').slice(30) + '\r\n')]);

describe('followJsonStream', () => {
  it('collects messages split across chunks', async () => {
    const msgs = await followJsonStream(lines({ stream: 'Step 1/2 : FROM x\n' }, { stream: 'Successfully built abc\n' }, { aux: { ID: 'sha256:abc' } }));
    expect(msgs).toEqual([{ stream: 'Step 1/2 : FROM x\n' }, { stream: 'Successfully built abc\n' }, { aux: { ID: 'sha256:abc' } }]);
  });

  it('rejects with the errorDetail message (docker-modem would not), after reading everything', async () => {
    const seen: unknown[] = [];
    const err = await followJsonStream(
      lines({ stream: 'Step 2/2 : RUN exit 3\n' }, { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: 'short' }, { stream: 'after\n' }),
      (m) => seen.push(m),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).message).toBe("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(seen).toHaveLength(3);
  });

  it('uses `error` when there is no errorDetail', async () => {
    await expect(followJsonStream(lines({ error: 'open /x: no such file' }))).rejects.toThrow('open /x: no such file');
  });
});

describe('image helpers', () => {
  it('loadedRefs reads "Loaded image" and "Loaded image ID" lines', () => {
    expect(loadedRefs([{ stream: 'Loaded image: a/b:c\n' }, { stream: 'Loaded image ID: sha256:123\n' }, { status: 'x' }])).toEqual(['a/b:c', 'sha256:123']);
  });

  it('splitRef keeps registry ports in the repo and defaults the tag', () => {
    expect(splitRef('localhost:5000/app:v1')).toEqual({ repo: 'localhost:5000/app', tag: 'v1' });
    expect(splitRef('localhost:5000/app')).toEqual({ repo: 'localhost:5000/app', tag: 'latest' });
    expect(splitRef('app')).toEqual({ repo: 'app', tag: 'latest' });
  });

  it('toImageInfo maps inspect output and tolerates null config parts', () => {
    const info = toImageInfo({
      Id: 'sha256:1',
      RepoTags: ['a:b'],
      RepoDigests: null,
      Os: 'linux',
      Architecture: 'amd64',
      Variant: 'v8',
      RootFS: { Layers: ['sha256:l1', 'sha256:l2'] },
      Config: { Env: ['A=1'], User: '1000', WorkingDir: '', Entrypoint: null, Cmd: ['sh'], Labels: { x: 'y', n: 1 } },
      Size: 42,
      Created: '2020-01-01T00:00:00Z',
    });
    expect(info).toEqual({
      id: 'sha256:1',
      repoTags: ['a:b'],
      repoDigests: [],
      os: 'linux',
      architecture: 'amd64',
      variant: 'v8',
      layers: ['sha256:l1', 'sha256:l2'],
      config: { env: ['A=1'], user: '1000', workingDir: '', entrypoint: null, cmd: ['sh'], labels: { x: 'y' } },
      size: 42,
      created: '2020-01-01T00:00:00Z',
    });
    expect(toImageInfo({ Config: null }).config.labels).toEqual({});
  });
});

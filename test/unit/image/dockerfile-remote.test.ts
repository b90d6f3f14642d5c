/**
 * Issue 14 point 1: extension Dockerfiles may not make the daemon fetch (ADD <url>) or copy from other
 * images (COPY --from=) unless the user opts in, nor use BuildKit-only RUN flags; errors carry file:line.
 */
import { describe, expect, it } from 'vitest';
import { remoteSourceIssues } from '../../../src/image/dockerfile-remote.js';
import { formatDockerfileIssue } from '../../../src/image/dockerfile.js';

const head = 'ARG base_image\nFROM ${base_image}\n';
const issues = (body: string, allowRemote = false): string[] => remoteSourceIssues(head + body, 'x/run.Dockerfile', { allowRemote }).map(formatDockerfileIssue);

describe('remoteSourceIssues', () => {
  it('refuses ADD of a URL (any scheme, JSON form, git@) with file:line and the opt-in flag', () => {
    expect(issues('RUN true\nADD https://example.com/tool.tgz /opt/\n')).toEqual([expect.stringMatching(/^x\/run\.Dockerfile:4: ADD https:\/\/example\.com\/tool\.tgz .*--allow-dockerfile-remote/)]);
    expect(issues('ADD ["http://example.com/a", "/a"]\n')).toHaveLength(1);
    expect(issues('ADD --chown=1:1 ftp://h/a git@github.com:o/r.git /a/\n')).toHaveLength(2);
    expect(issues('add "https://example.com/a" /a\n')).toHaveLength(1);
  });

  it('refuses ADD whose source is a variable (it could name a URL), not an escaped dollar', () => {
    expect(issues('ARG src=https://example.com/a\nADD $src /a\n')[0]).toMatch(/:4: ADD \$src uses a variable/);
    expect(issues('ADD ${src} /a\n')).toHaveLength(1);
    expect(issues('ADD a\\$b /a\n')).toEqual([]);
  });

  it('refuses COPY --from= and ADD --from=, whatever the source', () => {
    expect(issues('COPY --from=busybox:latest /bin/sh /x\n')).toEqual([expect.stringMatching(/^x\/run\.Dockerfile:3: COPY --from=busybox:latest copies from another image/)]);
    expect(issues('COPY --chown=0:0 --from=0 /a /b\n')).toHaveLength(1);
    expect(issues('ADD --from=img /a /b\n')).toHaveLength(1);
  });

  it('looks inside ONBUILD, which runs in the next extension\'s build', () => {
    expect(issues('ONBUILD ADD https://example.com/a /a\n')).toEqual([expect.stringMatching(/:3: ONBUILD ADD https:/)]);
    expect(issues('ONBUILD COPY --from=other /a /a\n')).toEqual([expect.stringMatching(/:3: ONBUILD COPY --from=other/)]);
  });

  it('allows local ADD and COPY, and everything remote with the opt-in', () => {
    expect(issues('COPY a /a\nADD b.tar /b/\nADD ["c d", "/c"]\nCOPY --chown=1000:1000 e /e\n')).toEqual([]);
    expect(issues('ADD https://example.com/a /a\nCOPY --from=busybox /bin/sh /x\n', true)).toEqual([]);
  });

  it('refuses BuildKit-only RUN flags even with the opt-in', () => {
    expect(issues('RUN --mount=type=bind,from=secret-image,target=/s cat /s/x\n', true)).toEqual([expect.stringMatching(/:3: RUN --mount is a BuildKit flag/)]);
    expect(issues('RUN --network=host apt-get update\n')).toHaveLength(1);
    expect(issues('RUN --security=insecure true\n')).toHaveLength(1);
  });

  it('says nothing about a file that does not parse (the structural check reports it)', () => {
    expect(remoteSourceIssues('FOO bar\n', 'f')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { onPlatformBase, parseDockerfile, splitWords, validateBuildDockerfile, validateRunDockerfile, formatDockerfileIssue } from '../../../src/image/dockerfile.js';
import type { SpecIssue } from '../../../src/cnb/models.js';

const errors = (r: { issues: SpecIssue[] }): SpecIssue[] => r.issues.filter((i) => i.severity === 'error');
const warnings = (r: { issues: SpecIssue[] }): SpecIssue[] => r.issues.filter((i) => i.severity === 'warning');

describe('parseDockerfile', () => {
  it('joins continuations, drops comments inside them and keeps the first line number', () => {
    const r = parseDockerfile('# syntax=docker/dockerfile:1\n\nFROM busybox\nRUN echo a \\\n# a comment\n\n  && echo b\nUSER 1000\n', 'f');
    expect(r.value?.directives).toEqual({ syntax: 'docker/dockerfile:1' });
    const ins = r.value?.instructions ?? [];
    expect(ins.map((i) => [i.keyword, i.line])).toEqual([['FROM', 3], ['RUN', 4], ['USER', 8]]);
    expect(ins[1]?.rest).toBe('echo a   && echo b');
    expect(ins[1]?.endLine).toBe(7);
  });

  it('honours the escape directive and JSON form', () => {
    const r = parseDockerfile('# escape=`\nFROM x\nRUN echo a\\\nCOPY --chown=1:1 a b\nENV A=b `\n  C=d\n', 'f');
    const ins = r.value?.instructions ?? [];
    expect(r.value?.escape).toBe('`');
    // With ` as escape, a trailing backslash is not a continuation.
    expect(ins[1]?.rest).toBe('echo a\\');
    expect(ins[2]).toMatchObject({ keyword: 'COPY', flags: ['--chown=1:1'], args: ['a', 'b'] });
    expect(ins[3]?.rest).toBe('A=b   C=d');
    const j = parseDockerfile('FROM x\nCMD ["sh", "-c", "echo hi"]\n', 'f');
    expect(j.value?.instructions[1]).toMatchObject({ json: true, args: ['sh', '-c', 'echo hi'] });
  });

  it('directives stop at the first other line; lower-case keywords work', () => {
    const r = parseDockerfile('# hello\n# escape=`\nfrom x\nrun echo \\\n  hi\n', 'f');
    expect(r.value?.directives).toEqual({});
    expect(r.value?.instructions.map((i) => i.keyword)).toEqual(['FROM', 'RUN']);
  });

  it('reports unknown instructions, empty files and heredocs with lines', () => {
    expect(errors(parseDockerfile('FROM x\nFOO bar\n', 'a.Dockerfile'))[0]).toMatchObject({ line: 2, message: 'unknown instruction: FOO' });
    expect(errors(parseDockerfile('# only a comment\n', 'f'))).toHaveLength(1);
    expect(errors(parseDockerfile('FROM x\nRUN <<EOF\necho\nEOF\n', 'f'))[0]?.line).toBe(2);
  });

  it('splits words with quotes', () => {
    expect(splitWords('a "b c" \'d e\' f\\ g')).toEqual(['a', '"b c"', "'d e'", 'f\\ g']);
  });
});

describe('validateBuildDockerfile', () => {
  const ok = 'ARG base_image\nFROM ${base_image}\nUSER root\nRUN echo hi\nARG build_id=0\nUSER 1000:1000\n';
  it('accepts the canonical shape', () => {
    const r = validateBuildDockerfile(ok, 'build.Dockerfile');
    expect(r.issues).toEqual([]);
    expect(r.value?.stages).toHaveLength(1);
  });
  it('rejects two stages at the second FROM', () => {
    const r = validateBuildDockerfile('ARG base_image\nFROM ${base_image} AS a\nRUN x\nFROM ${base_image}\n', 'build.Dockerfile');
    expect(r.value).toBeUndefined();
    expect(errors(r)[0]).toMatchObject({ line: 4, file: 'build.Dockerfile' });
    expect(errors(r)[0]?.message).toMatch(/exactly one stage/);
  });
  it('rejects a second global ARG at its line', () => {
    const r = validateBuildDockerfile('ARG base_image\nARG other=1\nFROM ${base_image}\n', 'build.Dockerfile');
    expect(errors(r)[0]).toMatchObject({ line: 2 });
    expect(formatDockerfileIssue(errors(r)[0] as SpecIssue)).toMatch(/^build.Dockerfile:2: .*exactly one ARG/);
  });
  it('rejects a missing ARG base_image and a wrong ARG name', () => {
    expect(errors(validateBuildDockerfile('FROM ${base_image}\nRUN x\n', 'f'))[0]).toMatchObject({ line: 1 });
    expect(errors(validateBuildDockerfile('ARG base\nFROM ${base_image}\n', 'f'))[0]?.message).toMatch(/base_image/);
  });
  it('rejects FROM $base_image without braces', () => {
    const r = validateBuildDockerfile('ARG base_image\n\nFROM $base_image\n', 'f');
    expect(errors(r)[0]).toMatchObject({ line: 3 });
  });
  it('warns (only) about unusual instructions, with their line', () => {
    const r = validateBuildDockerfile('ARG base_image\nFROM ${base_image}\nEXPOSE 8080\n', 'f');
    expect(r.value).toBeDefined();
    expect(warnings(r)).toEqual([expect.objectContaining({ line: 3, severity: 'warning' })]);
  });
  it('rejects instructions before FROM other than ARG', () => {
    expect(errors(validateBuildDockerfile('ARG base_image\nRUN x\nFROM ${base_image}\n', 'f'))[0]).toMatchObject({ line: 2 });
  });
});

describe('validateRunDockerfile', () => {
  it('FROM-only switches without extending', () => {
    const r = validateRunDockerfile('FROM some/image:tag\n', 'run.Dockerfile');
    expect(r.value).toEqual({ switchesTo: 'some/image:tag', extends: false, fromLine: 1 });
  });
  it('${base_image} with instructions extends without switching; ARG alone counts', () => {
    expect(validateRunDockerfile('ARG base_image\nFROM ${base_image}\nARG x\n', 'f').value).toEqual({ extends: true, fromLine: 2 });
    expect(validateRunDockerfile('ARG base_image\nFROM ${base_image}\n', 'f').value).toEqual({ extends: false, fromLine: 2 });
  });
  it('allows several global ARGs', () => {
    const r = validateRunDockerfile('ARG base_image\nARG other\nFROM ${base_image}\nLABEL a=b\n', 'f');
    expect(errors(r)).toEqual([]);
    expect(r.value?.extends).toBe(true);
  });
  it('switch and extend at once', () => {
    expect(validateRunDockerfile('FROM other:1\nUSER 1001\n', 'f').value).toEqual({ switchesTo: 'other:1', extends: true, fromLine: 1 });
  });
  it('rejects a second FROM at its line', () => {
    const r = validateRunDockerfile('ARG base_image\nFROM ${base_image}\nRUN x\nFROM busybox\n', 'run.Dockerfile');
    expect(r.value).toBeUndefined();
    expect(errors(r)[0]).toMatchObject({ line: 4 });
  });
  it('rejects no FROM', () => {
    expect(validateRunDockerfile('ARG base_image\n', 'f').value).toBeUndefined();
  });
  it('warns on unusual instructions', () => {
    const r = validateRunDockerfile('FROM ${base_image}\nVOLUME /data\n', 'f');
    expect(warnings(r)[0]).toMatchObject({ line: 2 });
  });
});

describe('onPlatformBase (a switching run.Dockerfile applied on the chosen image)', () => {
  it('turns the literal FROM into FROM ${base_image} and declares the ARG', () => {
    expect(onPlatformBase('FROM busybox:1\nRUN echo hi\n')).toBe('ARG base_image\nFROM ${base_image}\nRUN echo hi\n');
    expect(onPlatformBase('ARG base_image\nFROM other \\\n  AS x\nUSER 1000\n')).toBe('ARG base_image\nFROM ${base_image}\nUSER 1000\n');
  });
  it('leaves files on ${base_image} and unparsable ones alone', () => {
    const text = 'ARG base_image\nFROM ${base_image}\nRUN true\n';
    expect(onPlatformBase(text)).toBe(text);
    expect(onPlatformBase('RUN before any FROM\n')).toBe('RUN before any FROM\n');
  });
});

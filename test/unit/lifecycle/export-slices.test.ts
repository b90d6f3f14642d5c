import { describe, expect, it } from 'vitest';
import { globToRegExp, planSlices } from '../../../src/lifecycle/export/slices.js';

const m = (p: string, s: string): boolean => globToRegExp(p)?.test(s) ?? false;

describe('globToRegExp (Go filepath.Match)', () => {
  it('* and ? stop at /', () => {
    expect(m('public/*', 'public/a.css')).toBe(true);
    expect(m('public/*', 'public/x/a.css')).toBe(false);
    expect(m('*.js', 'a.js')).toBe(true);
    expect(m('?.js', 'ab.js')).toBe(false);
    expect(m('a?c', 'a/c')).toBe(false);
  });
  it('classes, negation, ranges and escapes', () => {
    expect(m('[a-c].txt', 'b.txt')).toBe(true);
    expect(m('[^a-c].txt', 'b.txt')).toBe(false);
    expect(m('[^a-c].txt', 'z.txt')).toBe(true);
    expect(m('\\*.txt', '*.txt')).toBe(true);
    expect(m('\\*.txt', 'a.txt')).toBe(false);
    expect(m('a.b', 'aXb')).toBe(false);
  });
  it('malformed patterns and absolute patterns never match', () => {
    expect(globToRegExp('[abc')).toBeUndefined();
    expect(globToRegExp('abc\\')).toBeUndefined();
    expect(m('/workspace/*', 'a')).toBe(false);
    expect(m('**', 'a/b')).toBe(false);
  });
});

describe('planSlices', () => {
  const entries = [
    { path: 'public', isDir: true },
    { path: 'public/a.css', isDir: false },
    { path: 'public/img', isDir: true },
    { path: 'public/img/x.png', isDir: false },
    { path: 'assets', isDir: true },
    { path: 'assets/y', isDir: false },
    { path: 'server.js', isDir: false },
  ];
  const keep = (ex: (r: string) => boolean): string[] => entries.map((e) => e.path).filter((p) => !ex(p));
  it('gives each path to the first slice that matches it or an ancestor; the rest goes to the final layer', () => {
    const p = planSlices([{ paths: ['public/*'] }, { paths: ['assets', 'public/a.css'] }, { paths: ['nothing'] }], entries);
    expect(keep(p.sliceExcludes[0]!)).toEqual(['public', 'public/a.css', 'public/img', 'public/img/x.png']);
    expect(keep(p.sliceExcludes[1]!)).toEqual(['assets', 'assets/y']);
    expect(keep(p.sliceExcludes[2]!)).toEqual([]);
    expect(keep(p.finalExclude)).toEqual(['public', 'public/img', 'assets', 'server.js']);
  });
});

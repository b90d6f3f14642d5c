import { describe, expect, it } from 'vitest';
import { DecodeContext, decodeToml, indexKeyLines } from '../../../src/cnb/decode.js';
import { parseToml, stringifyToml } from '../../../src/cnb/toml.js';
import { toml } from './helpers.js';

describe('parseToml / stringifyToml', () => {
  it('parses into plain objects', () => {
    const r = parseToml('a = 1\n[b]\nc = ["x"]\n', 'f.toml');
    expect(r.issues).toEqual([]);
    expect(r.value).toStrictEqual({ a: 1, b: { c: ['x'] } });
  });

  it('turns a syntax error into one issue with a 1-based line', () => {
    const r = parseToml('a = 1\n[b]\nc = = 2\n', 'f.toml');
    expect(r.value).toBeUndefined();
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ severity: 'error', file: 'f.toml', keyPath: '', line: 3 });
    expect(r.issues[0]?.message).toMatch(/^invalid TOML: Unexpected character/);
    expect(r.issues[0]?.message).not.toContain('\n');
  });

  it('stringifies, dropping undefined values, and round-trips', () => {
    const text = stringifyToml({ a: 'x', b: undefined, c: [{ d: 1 }] });
    expect(parseToml(text, 'f').value).toStrictEqual({ a: 'x', c: [{ d: 1 }] });
  });
});

describe('indexKeyLines', () => {
  it('maps keys, tables and array-of-table elements to lines', () => {
    const lines = indexKeyLines(toml`
      top = 1
      [[order]]
        [[order.group]]
        id = "a"
        [[order.group]]
        id = "b"
      [[order]]
        [[order.group]]
        "id" = "c"
      [x.y]
      z.w = 2
    `);
    expect(lines.get('top')).toBe(1);
    expect(lines.get('order[0]')).toBe(2);
    expect(lines.get('order[0].group[1].id')).toBe(6);
    expect(lines.get('order[1].group[0]')).toBe(8);
    expect(lines.get('order[1].group[0].id')).toBe(9);
    expect(lines.get('x.y')).toBe(10);
    expect(lines.get('x.y.z.w')).toBe(11);
  });

  it('skips the continuation lines of multi-line arrays', () => {
    const lines = indexKeyLines('a = [\n  ["x"],\n  ["y"]  # ]\n]\n[t]\nb = 1\n');
    expect(lines.get('t')).toBe(5);
    expect(lines.get('t.b')).toBe(6);
    expect(lines.has('x')).toBe(false);
  });

  it('handles CRLF line ends and comments after headers', () => {
    const lines = indexKeyLines('[[images]] # run\r\nimage = "x"\r\n');
    expect(lines.get('images[0].image')).toBe(2);
  });

  it('skips the insides of multi-line strings', () => {
    const lines = indexKeyLines('a = """\nb = 1\n"""\nc = 2\n');
    expect(lines.has('b')).toBe(false);
    expect(lines.get('c')).toBe(4);
  });

  it('falls back to the nearest ancestor line', () => {
    const ctx = new DecodeContext('f', '[build]\nimage = "x"\n');
    expect(ctx.lineOf('build.env[0].name')).toBe(1);
    expect(ctx.lineOf('nothing')).toBeUndefined();
  });
});

describe('TableReader', () => {
  it('reports wrong types and missing keys as errors and unknown keys as warnings', () => {
    const r = decodeToml('s = 1\nextra = true\n[t]\nb = "no"\n', 'f.toml', (root) => ({
      s: root.string('s'),
      req: root.reqString('req'),
      b: root.optTable('t')?.bool('b'),
    }));
    expect(r.value).toBeUndefined();
    expect(r.issues).toEqual([
      { severity: 'error', file: 'f.toml', keyPath: 's', line: 1, message: 'must be a string, not an integer' },
      { severity: 'error', file: 'f.toml', keyPath: 'req', message: 'is required' },
      { severity: 'error', file: 'f.toml', keyPath: 't.b', line: 4, message: 'must be a boolean, not a string' },
      { severity: 'warning', file: 'f.toml', keyPath: 'extra', line: 2, message: 'unknown key (ignored)' },
    ]);
  });

  it('checks every element of string arrays and table arrays', () => {
    const r = decodeToml('a = [1, 2]\nt = [1]\n', 'f', (root) => ({ a: root.stringArray('a'), t: root.tableArray('t', () => 1) }));
    expect(r.issues.map((i) => [i.keyPath, i.message])).toEqual([
      ['a[0]', 'must be a string, not an integer'],
      ['a[1]', 'must be a string, not an integer'],
      ['t[0]', 'must be a table, not an integer'],
    ]);
  });
});

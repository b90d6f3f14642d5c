/**
 * Issue 16 point 4: every `io.buildpacks.*` and `io.kiln.*` label name lives in src/cnb/labels.ts. The
 * string and template literals of every other file in src/ are read with TypeScript's own scanner (so
 * comments, which may name a label, are skipped) and none may spell one.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as labels from '../../../src/cnb/labels.js';
import { literalsOf, sourceFiles } from '../../helpers/ts-literals.js';

const root = resolve(__dirname, '../../..');
const home = 'src/cnb/labels.ts';

const LABEL = /\bio\.(buildpacks|kiln)\./;

describe('label names have one home (src/cnb/labels.ts)', () => {
  it('the scanner finds strings and template parts, not comments', () => {
    const lits = literalsOf("// 'io.kiln.a'\n/* \"io.kiln.b\" */ const a = 'io.kiln.c'; const b = `x${a}io.kiln.d${`io.kiln.e`}y`;");
    expect(lits.filter((l) => LABEL.test(l))).toEqual(['io.kiln.c', 'io.kiln.d', 'io.kiln.e']);
  });

  it('no file of src/ other than labels.ts spells an io.buildpacks.* or io.kiln.* string', () => {
    const offenders = sourceFiles(join(root, 'src'))
      .filter((f) => relative(root, f) !== home)
      .flatMap((f) => literalsOf(readFileSync(f, 'utf8')).filter((l) => LABEL.test(l)).map((l) => `${relative(root, f)}: ${l}`));
    expect(offenders).toEqual([]);
  });

  it('labels.ts holds the names kiln reads and writes', () => {
    const values = Object.values(labels);
    expect(values).toContain('io.buildpacks.lifecycle.metadata');
    expect(values).toContain('io.kiln.session');
    expect(new Set(values).size).toBe(values.length);
  });
});

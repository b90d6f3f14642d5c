/**
 * Issue 16 point 4: every `io.buildpacks.*` and `io.kiln.*` label name lives in src/cnb/labels.ts. The
 * string and template literals of every other file in src/ are read with TypeScript's own scanner (so
 * comments, which may name a label, are skipped) and none may spell one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as labels from '../../../src/cnb/labels.js';

const root = resolve(__dirname, '../../..');
const home = 'src/cnb/labels.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The text of every string-like token of a TypeScript file (strings, template heads, middles and tails). */
function literalsOf(text: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, text);
  const out: string[] = [];
  const braces: boolean[] = []; // per open brace: does it close a template substitution?
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (k === ts.SyntaxKind.OpenBraceToken) braces.push(false);
    else if (k === ts.SyntaxKind.TemplateHead) {
      out.push(scanner.getTokenValue());
      braces.push(true);
    } else if (k === ts.SyntaxKind.CloseBraceToken) {
      if (braces.pop() === true) {
        const t = scanner.reScanTemplateToken(false);
        out.push(scanner.getTokenValue());
        if (t === ts.SyntaxKind.TemplateMiddle) braces.push(true);
      }
    } else if (k === ts.SyntaxKind.StringLiteral || k === ts.SyntaxKind.NoSubstitutionTemplateLiteral) out.push(scanner.getTokenValue());
    else if (k === ts.SyntaxKind.SlashToken || k === ts.SyntaxKind.SlashEqualsToken) {
      // A regular expression where an expression may start; a division otherwise (good enough for our code).
      const t = scanner.reScanSlashToken();
      if (t === ts.SyntaxKind.RegularExpressionLiteral) out.push(scanner.getTokenValue());
    }
  }
  return out;
}

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

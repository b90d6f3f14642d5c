/**
 * The string-like tokens of a TypeScript file, read with TypeScript's own scanner so comments are
 * skipped (test/unit/cnb/labels-home.test.ts, paths.test.ts: one home for label names and paths).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/** Every .ts file below dir. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/**
 * The text of every string-like token of a TypeScript file (strings, template heads, middles and
 * tails); with startsOnly, only the tokens a string starts with (no middles and tails).
 */
export function literalsOf(text: string, opts: { startsOnly?: boolean } = {}): string[] {
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
        if (opts.startsOnly !== true) out.push(scanner.getTokenValue());
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

/**
 * The folder layering of src/ (docs/architecture.md, "Layers"): imports point downward,
 * `cli -> app -> lifecycle | builder -> cnb | image -> (nothing of ours)`; `docker/` and `ui/` implement
 * ports and only `cli/` wires them; dockerode is imported only in docker/, the TOML library only in
 * cnb/toml.ts, ora only in ui/. Type-only imports create no dependency when the code runs, so ui/ may
 * name the result types of the layers it renders. cnb/ and image/ are one pure layer in two folders. Every relative import (static, re-export or dynamic) of every file under
 * src/ is checked; a failure names the file and line. An import the rule does not allow either goes, or
 * gets an entry in EXCEPTIONS with the reason it is there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** `(root)`: the files directly in src/ (errors.ts, ports.ts, kiln-temp-dir.ts, ...), which import only each other. */
const ALLOWED: Record<string, string[]> = {
  cli: ['*'],
  app: ['lifecycle', 'builder', 'cnb', 'image', 'registry', 'stacks'],
  lifecycle: ['cnb', 'image'],
  builder: ['cnb', 'image'],
  // Pull policy and registry credentials: small helpers under app/, config/ and cli/.
  registry: ['image'],
  config: ['registry'],
  // Base images carry the CNB labels and image formats, like builder/.
  stacks: ['cnb', 'image'],
  // The pure layer, in two folders: the CNB formats and the image formats use each other's names and models.
  cnb: ['image'],
  image: ['cnb'],
  // Adapters of the ports: what they know of ours is the ports and the pure image format.
  docker: ['image'],
  ui: [],
  '(root)': [],
};

/**
 * Type-only imports (no dependency when the code runs) a layer may make besides ALLOWED: ui/ renders the
 * results of every layer below cli/.
 */
const TYPES_ALLOWED: Record<string, string[]> = {
  ui: ['app', 'lifecycle', 'builder', 'cnb', 'image', 'registry', 'config', 'stacks'],
};

/** file -> imported file (both relative to src/) -> why the rule does not apply. */
const EXCEPTIONS: Record<string, Record<string, string>> = {
  'stacks/debian.ts': { 'docker/line-splitter.ts': 'a pure line splitter that lives with its main user, the Docker stream readers' },
};

/** Third-party packages only one place may import (docs/architecture.md, "Layers"). */
const ONLY_IN: Record<string, (file: string) => boolean> = {
  dockerode: (f) => f.startsWith('docker/'),
  'docker-modem': (f) => f.startsWith('docker/'),
  '@iarna/toml': (f) => f === 'cnb/toml.ts',
  ora: (f) => f.startsWith('ui/'),
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const layerOf = (rel: string): string => (rel.includes('/') ? (rel.split('/')[0] as string) : '(root)');

interface Import {
  file: string;
  line: number;
  spec: string;
  /** `import type` / `export type`, or every name in the braces marked `type`: no dependency when the code runs. */
  typeOnly: boolean;
}

/** Every import and re-export (static, side-effect, dynamic) with its line; comments are skipped. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  const lineAt = (i: number): number => text.slice(0, i).split('\n').length;
  const out: Import[] = [];
  // The clause between the keyword and `from` holds no quote and no semicolon, so a match stays in one statement.
  for (const m of text.matchAll(/\b(import|export)\s+(type\s+)?([^;'"]*?)\bfrom\s*['"]([^'"]+)['"]/g)) {
    const clause = (m[3] as string).trim();
    const names = clause.startsWith('{') ? clause.replace(/[{}]/g, '').split(',').map((n) => n.trim()).filter((n) => n !== '') : [];
    const typeOnly = m[2] !== undefined || (names.length > 0 && names.every((n) => n.startsWith('type ')));
    out.push({ file, line: lineAt(m.index), spec: m[4] as string, typeOnly });
  }
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ file, line: lineAt(m.index), spec: (m[1] ?? m[2]) as string, typeOnly: false });
  return out;
}

describe('the layers of src/ (docs/architecture.md, "Layers")', () => {
  const files = sources(SRC);

  it('finds the sources', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('every import points to its own folder, a layer below, or a documented exception', () => {
    const problems: string[] = [];
    for (const file of files) {
      const from = relative(SRC, file);
      const layer = layerOf(from);
      for (const imp of importsOf(file)) {
        if (!imp.spec.startsWith('.')) continue;
        const to = relative(SRC, resolve(dirname(file), imp.spec)).replace(/\.js$/, '.ts');
        const target = layerOf(to);
        if (to.startsWith('..')) {
          problems.push(`src/${from}:${imp.line}: imports ${imp.spec}, outside src/`);
          continue;
        }
        const allowed = layer === target || target === '(root)' || (ALLOWED[layer] ?? []).some((l) => l === '*' || l === target) || (imp.typeOnly && (TYPES_ALLOWED[layer] ?? []).includes(target));
        if (!allowed && EXCEPTIONS[from]?.[to] === undefined) problems.push(`src/${from}:${imp.line}: ${layer}/ must not import${imp.typeOnly ? ' (even types)' : ''} ${to} (${target}/)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the root files (errors.ts, ports.ts, ...) import no folder of ours', () => {
    const problems = files
      .filter((f) => layerOf(relative(SRC, f)) === '(root)')
      .flatMap((f) => importsOf(f).filter((i) => i.spec.startsWith('.') && relative(SRC, resolve(dirname(f), i.spec)).includes('/')).map((i) => `src/${relative(SRC, f)}:${i.line}: imports ${i.spec}`));
    expect(problems).toEqual([]);
  });

  it('dockerode only in docker/, the TOML library only in cnb/toml.ts, ora only in ui/', () => {
    const problems: string[] = [];
    for (const file of files) {
      const from = relative(SRC, file);
      for (const imp of importsOf(file)) {
        const only = ONLY_IN[imp.spec];
        if (only !== undefined && !only(from)) problems.push(`src/${from}:${imp.line}: imports ${imp.spec}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no import circle inside app/ or lifecycle/ (type imports count: build-app, build-phases and build-extensions once had one)', () => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      const from = relative(SRC, file);
      graph.set(from, importsOf(file).filter((i) => i.spec.startsWith('.')).map((i) => relative(SRC, resolve(dirname(file), i.spec)).replace(/\.js$/, '.ts')));
    }
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const to of graph.get(f) ?? []) if (layerOf(to) === layerOf(f)) visit(to, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (['app', 'lifecycle'].includes(layerOf(f))) visit(f, []);
    expect(circles).toEqual([]);
  });

  it('every exception is still needed (an import that went takes its entry with it)', () => {
    const seen = new Set(files.flatMap((f) => importsOf(f).filter((i) => i.spec.startsWith('.')).map((i) => `${relative(SRC, f)} ${relative(SRC, resolve(dirname(f), i.spec)).replace(/\.js$/, '.ts')}`)));
    const stale = Object.entries(EXCEPTIONS).flatMap(([from, tos]) => Object.keys(tos).filter((to) => !seen.has(`${from} ${to}`)).map((to) => `${from} -> ${to}`));
    expect(stale).toEqual([]);
  });
});

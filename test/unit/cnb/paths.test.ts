/** Issue 16 point 4: one home for the well-known paths and ONE id-escaping rule (src/cnb/paths.ts). */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_DIR, BUILDPACKS_DIR, escapeId, LAYERS_DIR, PLATFORM_DIR } from '../../../src/cnb/paths.js';
import { literalsOf } from '../../helpers/ts-literals.js';

const WELL_KNOWN = /^\/(cnb|layers|workspace|platform)(\/|$)/;

const root = resolve(__dirname, '../../..');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('cnb/paths.ts', () => {
  it('names the platform directories and escapes / in module ids as _', () => {
    expect([APP_DIR, LAYERS_DIR, PLATFORM_DIR, BUILDPACKS_DIR]).toEqual(['/workspace', '/layers', '/platform', '/cnb/buildpacks']);
    expect(escapeId('kiln-test/a/b')).toBe('kiln-test_a_b');
    expect(escapeId('plain')).toBe('plain');
  });

  it('is the only file of src/ that replaces / with _ (the base64url of a registry auth header is not an id)', () => {
    const others = files(join(root, 'src'))
      .map((f) => relative(root, f))
      .filter((f) => f !== 'src/cnb/paths.ts' && f !== 'src/docker/registry-pull.ts')
      .filter((f) => /replace(All)?\((\/\\\/\/g|'\/'), '_'\)/.test(readFileSync(join(root, f), 'utf8')));
    expect(others).toEqual([]);
  });

  it('no other file of src/ starts a string with /cnb, /layers, /workspace or /platform', () => {
    const offenders = files(join(root, 'src'))
      .filter((f) => relative(root, f) !== 'src/cnb/paths.ts')
      .flatMap((f) => literalsOf(readFileSync(f, 'utf8'), { startsOnly: true }).filter((l) => WELL_KNOWN.test(l)).map((l) => `${relative(root, f)}: ${l}`));
    expect(offenders).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseGroupFile, parsePlanFile, stringifyGroupFile, stringifyPlanFile } from '../../../src/cnb/group-plan.js';
import type { GroupFile, PlanFile } from '../../../src/cnb/models.js';
import { parseRunFile, parseStackFile, stringifyRunFile, stringifyStackFile } from '../../../src/cnb/run-file.js';
import { declaresSbomMediaType, mediaTypesMatch, parseSbomFileName, sbomFormatOf } from '../../../src/cnb/sbom.js';
import { errors, ok, warnings } from './helpers.js';

describe('group.toml', () => {
  const g: GroupFile = {
    group: [
      { id: 'a', version: '1', api: '0.12', homepage: 'https://a' },
      { id: 'b', version: '2', api: '0.9' },
    ],
    groupExtensions: [{ id: 'e', version: '0.1', api: '0.10' }],
  };

  it('round-trips, omitting empty homepage', () => {
    const text = stringifyGroupFile(g);
    expect(text.match(/homepage/g)).toHaveLength(1);
    expect(text).toContain('[[group-extensions]]');
    expect(ok(parseGroupFile(text, 'group.toml'))).toEqual(g);
  });

  it('requires id, version and api; ignores legacy extension/optional keys', () => {
    const r = parseGroupFile('[[group]]\nid = "a"\noptional = true\n[[group-extensions]]\nid = "e"\nversion = "1"\napi = "0.10"\nextension = true\n', 'group.toml');
    expect(errors(r).map((i) => i.keyPath)).toEqual(['group[0].version', 'group[0].api']);
    expect(warnings(r)).toEqual([]);
  });
});

describe('plan.toml', () => {
  const p: PlanFile = {
    entries: [
      {
        providers: [{ id: 'ext', version: '0.1', extension: true }, { id: 'a', version: '1' }],
        requires: [{ name: 'node', metadata: { version: '20.x' } }, { name: 'npm', metadata: {} }],
      },
    ],
  };

  it('round-trips, writing extension only for extensions', () => {
    const text = stringifyPlanFile(p);
    expect(text.match(/extension = true/g)).toHaveLength(1);
    expect(ok(parsePlanFile(text, 'plan.toml'))).toEqual(p);
  });

  it('reports bad entries', () => {
    const r = parsePlanFile('[[entries]]\n[[entries.providers]]\nid = "a"\n[[entries.requires]]\nname = "x"\nversion = "1"\n', 'plan.toml');
    expect(errors(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['entries[0].providers[0].version', 2],
      ['entries[0].requires[0].version', 6],
    ]);
  });
});

describe('run.toml / stack.toml', () => {
  it('round-trips run.toml', () => {
    const r = { images: [{ image: 'run:1', mirrors: ['m:1'] }, { image: 'run:2', mirrors: [] }] };
    expect(ok(parseRunFile(stringifyRunFile(r), 'run.toml'))).toEqual(r);
    expect(ok(parseRunFile('', 'run.toml'))).toEqual({ images: [] });
  });

  it('requires an image', () => {
    expect(errors(parseRunFile('[[images]]\nmirrors = []\n', 'run.toml'))).toMatchObject([{ keyPath: 'images[0].image', line: 1, message: 'is required' }]);
  });

  it('reads and writes the legacy stack.toml', () => {
    const s = { runImage: { image: 'r', mirrors: ['m'] } };
    expect(ok(parseStackFile(stringifyStackFile(s), 'stack.toml'))).toEqual(s);
    expect(ok(parseStackFile('', 'stack.toml'))).toEqual({});
    expect(warnings(parseStackFile('[run-image]\nimage = "r"\n[build-image]\nimage = "b"\n', 'stack.toml'))).toMatchObject([{ keyPath: 'build-image', line: 3 }]);
  });
});

describe('SBOM names and media types', () => {
  it('parses layer, launch and build SBOM names', () => {
    expect(parseSbomFileName('node.sbom.cdx.json')).toEqual({ kind: 'layer', layer: 'node', ext: 'cdx', format: 'cdx', mediaType: 'application/vnd.cyclonedx+json' });
    expect(parseSbomFileName('launch.sbom.spdx.json')).toEqual({ kind: 'launch', ext: 'spdx', format: 'spdx', mediaType: 'application/spdx+json' });
    expect(parseSbomFileName('build.sbom.syft.json')).toEqual({ kind: 'build', ext: 'syft', format: 'syft', mediaType: 'application/vnd.syft+json' });
  });

  it('flags unknown formats and ignores non-SBOM names', () => {
    expect(parseSbomFileName('node.sbom.xml.json')).toEqual({ kind: 'layer', layer: 'node', ext: 'xml' });
    expect(parseSbomFileName('node.toml')).toBeUndefined();
    expect(parseSbomFileName('node.sbom.cdx.xml')).toBeUndefined();
    expect(parseSbomFileName('a.b.sbom.cdx.json')).toBeUndefined();
  });

  it('matches media types ignoring parameters and case', () => {
    expect(mediaTypesMatch('application/vnd.cyclonedx+json; version=1.4', 'application/vnd.cyclonedx+json')).toBe(true);
    expect(mediaTypesMatch('application/spdx+json', 'application/vnd.syft+json')).toBe(false);
    expect(sbomFormatOf('Application/SPDX+json;x=y')).toBe('spdx');
    expect(sbomFormatOf('text/plain')).toBeUndefined();
    expect(declaresSbomMediaType(['application/vnd.syft+json;version=2'], 'application/vnd.syft+json')).toBe(true);
    expect(declaresSbomMediaType([], 'application/vnd.syft+json')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { parseDetectPlan, planHasRequires } from '../../../src/cnb/detect-plan.js';
import { parseOrderFile, stringifyOrderFile } from '../../../src/cnb/order.js';
import { errors, ok, toml, warnings } from './helpers.js';

describe('parseOrderFile', () => {
  it('reads order and order-extensions', () => {
    const o = ok(
      parseOrderFile(
        toml`
          [[order]]
            [[order.group]]
            id = "a"
            version = "1.0.0"
            [[order.group]]
            id = "b"
            version = "2.0.0"
            optional = true
          [[order-extensions]]
            [[order-extensions.group]]
            id = "ext"
            version = "0.1.0"
        `,
        'order.toml',
      ),
    );
    expect(o).toEqual({
      order: [{ group: [{ id: 'a', version: '1.0.0', optional: false }, { id: 'b', version: '2.0.0', optional: true }] }],
      orderExtensions: [{ group: [{ id: 'ext', version: '0.1.0', optional: false }] }],
    });
    expect(parseOrderFile(stringifyOrderFile(o), 'x').value).toEqual(o);
  });

  it('accepts an empty file', () => {
    expect(ok(parseOrderFile('', 'order.toml'))).toEqual({ order: [], orderExtensions: [] });
  });

  it('rejects nested extension groups, missing versions and bad types', () => {
    const r = parseOrderFile(
      toml`
        [[order]]
          [[order.group]]
          id = "a"
          optional = "yes"
        [[order-extensions]]
          [[order-extensions.group]]
          id = "e"
          version = "1"
            [[order-extensions.group.group]]
            id = "f"
      `,
      'order.toml',
    );
    expect(errors(r)).toEqual([
      { severity: 'error', file: 'order.toml', keyPath: 'order[0].group[0].version', line: 2, message: 'is required' },
      { severity: 'error', file: 'order.toml', keyPath: 'order[0].group[0].optional', line: 4, message: 'must be a boolean, not a string' },
      {
        severity: 'error',
        file: 'order.toml',
        keyPath: 'order-extensions[0].group[0].group',
        line: 9,
        message: expect.stringContaining('may not nest'),
      },
    ]);
  });

  it('warns about unknown keys', () => {
    const r = parseOrderFile('[[order]]\n[[order.group]]\nid = "a"\nversion = "1"\nfoo = 1\n[extra]\n', 'o');
    expect(warnings(r).map((i) => [i.keyPath, i.line])).toEqual([
      ['order[0].group[0].foo', 5],
      ['extra', 6],
    ]);
  });

  it('requires a group in every order entry', () => {
    expect(errors(parseOrderFile('[[order]]\n', 'o'))).toMatchObject([{ keyPath: 'order[0].group', line: 1 }]);
  });

  it('stringifies optional only when true and omits empty order-extensions', () => {
    const text = stringifyOrderFile({ order: [{ group: [{ id: 'a', version: '1', optional: false }] }], orderExtensions: [] });
    expect(text).not.toContain('optional');
    expect(text).not.toContain('order-extensions');
    expect(text).toContain('[[order.group]]');
  });
});

describe('parseDetectPlan', () => {
  it('reads provides, requires and or alternatives', () => {
    const p = ok(
      parseDetectPlan(
        toml`
          [[provides]]
          name = "node"
          [[requires]]
          name = "node"
          [requires.metadata]
          version = "20.x"
          [[or]]
          [[or.provides]]
          name = "npm"
          [[or.requires]]
          name = "npm"
        `,
        'plan.toml',
      ),
    );
    expect(p).toEqual({
      provides: [{ name: 'node' }],
      requires: [{ name: 'node', metadata: { version: '20.x' } }],
      or: [{ provides: [{ name: 'npm' }], requires: [{ name: 'npm', metadata: {} }] }],
    });
  });

  it('treats an empty file as an empty plan', () => {
    expect(parseDetectPlan('', 'plan')).toEqual({ value: { provides: [], requires: [], or: [] }, issues: [] });
  });

  it('rejects a top-level version (edge case 13), also next to metadata.version', () => {
    const r = parseDetectPlan('[[requires]]\nname = "node"\nversion = "1"\n', 'plan');
    expect(errors(r)).toMatchObject([{ keyPath: 'requires[0].version', line: 3, message: expect.stringContaining('top-level version is not allowed') }]);
    const both = parseDetectPlan('[[requires]]\nname = "n"\nversion = "1"\n[requires.metadata]\nversion = "1"\n', 'plan');
    expect(errors(both)).toMatchObject([{ keyPath: 'requires[0].version', message: expect.stringContaining('both') }]);
  });

  it('requires names and warns about unknown keys', () => {
    const r = parseDetectPlan('[[provides]]\nnam = "x"\n[[or]]\n[[or.requires]]\nname = ""\n', 'plan');
    expect(errors(r)).toMatchObject([
      { keyPath: 'provides[0].name', line: 1, message: 'is required' },
      { keyPath: 'or[0].requires[0].name', line: 5, message: 'must not be empty' },
    ]);
    expect(warnings(r)).toMatchObject([{ keyPath: 'provides[0].nam', line: 2 }]);
  });

  it('says whether a plan requires anything', () => {
    expect(planHasRequires(ok(parseDetectPlan('[[provides]]\nname = "a"\n', 'p')))).toBe(false);
    expect(planHasRequires(ok(parseDetectPlan('[[or]]\n[[or.requires]]\nname = "a"\n', 'p')))).toBe(true);
  });
});

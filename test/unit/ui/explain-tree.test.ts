import { describe, expect, it } from 'vitest';
import type { TraceGroup } from '../../../src/lifecycle/resolve-order.js';
import { formatExplainTree } from '../../../src/ui/explain-tree.js';
import { makeStyle } from '../../../src/ui/style.js';

const trace: TraceGroup[] = [
  {
    index: 1,
    result: 'fail',
    reason: 'non-optional kiln-test/never@0.1.0 failed (exit 100)',
    trials: [],
    members: [
      { kind: 'extension', id: 'ex/py', version: '1', optional: true, status: 'pass', detect: 'pass', code: 0, via: ['order-extensions'] },
      { kind: 'buildpack', id: 'kiln-test/never', version: '0.1.0', optional: false, status: 'fail', detect: 'fail', code: 100, via: [] },
    ],
  },
  {
    index: 2,
    result: 'pass',
    trials: [{ options: [0, 0], ok: true, dropped: [] }],
    members: [
      { kind: 'extension', id: 'ex/py', version: '1', optional: true, status: 'pass', detect: 'pass', code: 0, via: ['order-extensions'] },
      { kind: 'buildpack', id: 'ex/app', version: '2', optional: false, status: 'pass', detect: 'pass', code: 0, via: [] },
      { kind: 'buildpack', id: 'ex/opt', version: '3', optional: true, status: 'skipped-optional', detect: 'pass', code: 0, note: 'requires nothing-provides-this', via: [] },
    ],
  },
];

const plans: Record<string, { provides: { name: string }[]; requires: { name: string; metadata: Record<string, unknown> }[]; or: never[] }> = {
  'ex/py': { provides: [{ name: 'python3' }], requires: [], or: [] },
  'ex/app': { provides: [], requires: [{ name: 'python3', metadata: {} }], or: [] },
  'ex/opt': { provides: [], requires: [{ name: 'nothing-provides-this', metadata: {} }], or: [] },
};

describe('kiln detect --explain tree', () => {
  it('shows each group, each module with status and exit code, and plan entries matched or not', () => {
    const lines = formatExplainTree({ builder: 'b:1', path: 'app', ok: true, trace, planOf: (m) => plans[m.id] }, makeStyle(false));
    expect(lines).toEqual([
      'Order resolution for app with b:1',
      '├── group 1: fail — non-optional kiln-test/never@0.1.0 failed (exit 100)',
      '│   ├── ✓ extension ex/py@1 (pass, exit 0, optional, via order-extensions)',
      '│   │       provides python3 → required by nobody',
      '│   └── ✗ buildpack kiln-test/never@0.1.0 (fail, exit 100)',
      '└── group 2: pass',
      '    ├── ✓ extension ex/py@1 (pass, exit 0, optional, via order-extensions)',
      '    │       provides python3 → required by ex/app',
      '    ├── ✓ buildpack ex/app@2 (pass, exit 0)',
      '    │       requires python3 ← provided by ex/py',
      '    └── – buildpack ex/opt@3 (skipped-optional, exit 0, optional) — requires nothing-provides-this',
      '            requires nothing-provides-this ← provided by nobody',
      'Result: group 2 passes (later groups are not tried)',
    ]);
  });

  it('says when no group passed', () => {
    const lines = formatExplainTree({ builder: 'b', path: 'p', ok: false, trace: trace.slice(0, 1), planOf: () => undefined }, makeStyle(false));
    expect(lines.at(-1)).toBe('Result: no group passed');
    expect(lines[1]).toBe('└── group 1: fail — non-optional kiln-test/never@0.1.0 failed (exit 100)');
  });
});

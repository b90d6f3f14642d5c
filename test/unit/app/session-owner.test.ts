/** Who owns a session (src/app/session-owner.ts): a live kiln, a dead one, a reused pid, another host. */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { processStart } from '../../../src/process-identity.js';
import { ownerState, sessionLabels, SESSION_HOST_LABEL, SESSION_LABEL, SESSION_PID_LABEL, SESSION_START_LABEL } from '../../../src/app/session-owner.js';
import { cacheImageLabels } from '../../../src/lifecycle/extend/cache.js';

describe('session owner', () => {
  it('a session carries the id, pid, host and start time of its kiln', () => {
    const l = sessionLabels('abc');
    expect(l).toEqual({ [SESSION_LABEL]: 'abc', [SESSION_PID_LABEL]: String(process.pid), [SESSION_HOST_LABEL]: hostname(), [SESSION_START_LABEL]: processStart(process.pid) });
    expect(l[SESSION_START_LABEL]).toMatch(/^\d+$/);
  });

  it('this process is alive; an exited one is dead; a reused pid (other start time) is dead', () => {
    expect(ownerState(sessionLabels('a'))).toBe('alive');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    expect(ownerState({ ...sessionLabels('b'), [SESSION_PID_LABEL]: dead, [SESSION_START_LABEL]: '1' })).toBe('dead');
    expect(ownerState({ ...sessionLabels('c'), [SESSION_START_LABEL]: '1' })).toBe('dead');
  });

  it('another host, or no owner labels (an older kiln): unknown, never dead', () => {
    expect(ownerState({ ...sessionLabels('d'), [SESSION_HOST_LABEL]: 'elsewhere' })).toBe('unknown');
    expect(ownerState({ [SESSION_LABEL]: 'e' })).toBe('unknown');
  });

  it('kept extended images carry none of the session labels', () => {
    const labels = cacheImageLabels({ ...sessionLabels('f'), 'io.kiln.test': 'x' }, 'key', SESSION_LABEL);
    expect(labels).toEqual({ 'io.kiln.test': 'x', 'io.kiln.extend-cache': 'key' });
  });
});

/** Issue 14 point 1: --extension-network none|host, and host networking refused when it reaches the API. */
import { describe, expect, it } from 'vitest';
import { parseExtensionNetwork, refuseExposedHostNetwork } from '../../../src/cli/network-flags.js';
import { buildRequestOf } from '../../../src/cli/commands/build.js';
import { KilnError } from '../../../src/errors.js';

describe('network flags', () => {
  it('--extension-network takes none or host; anything else is exit 3 naming the flag', () => {
    expect(parseExtensionNetwork('none')).toBe('none');
    expect(parseExtensionNetwork('host')).toBe('host');
    const e = (() => {
      try {
        parseExtensionNetwork('bridge');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).exitCode).toBe(3);
    expect((e as KilnError).message).toContain('--extension-network "bridge" must be none or host');
  });

  it('the build request carries the Dockerfile network and the remote opt-in only when asked', () => {
    expect(buildRequestOf('app', { builder: 'b', path: '.', env: [], volume: [] })).not.toHaveProperty('extensionNetwork');
    expect(buildRequestOf('app', { builder: 'b', path: '.', env: [], volume: [], extensionNetwork: 'host', allowDockerfileRemote: true })).toMatchObject({ extensionNetwork: 'host', allowDockerfileRemote: true });
  });

  it('refuses host networking with a TCP daemon, naming the flag (exit 3); none is always fine', async () => {
    const e = await refuseExposedHostNetwork({ '--network': undefined, '--extension-network': 'host' }, 'tcp://127.0.0.1:2375').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).exitCode).toBe(3);
    expect((e as KilnError).message).toContain('--extension-network host would give Dockerfile RUN steps (root) a path to the Docker daemon\'s API');
    const m = await refuseExposedHostNetwork({ '--network': 'host' }, 'tcp://10.0.0.1:2375').catch((x: unknown) => x);
    expect((m as KilnError).message).toContain('--network host would give build containers');
    await expect(refuseExposedHostNetwork({ '--network': 'none', '--extension-network': 'none' }, 'tcp://127.0.0.1:2375')).resolves.toBeUndefined();
  });
});

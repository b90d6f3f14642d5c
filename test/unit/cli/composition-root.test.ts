/** Issue 16 point 3: main.ts builds the engine once and hands it to the commands (cli/context.ts). */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCliContext } from '../../../src/cli/context.js';
import { main } from '../../../src/cli/main.js';
import { ExitCode } from '../../../src/errors.js';
import type { ContainerEngine } from '../../../src/ports.js';
import { sourceFiles } from '../../helpers/ts-literals.js';

afterEach(() => vi.restoreAllMocks());

describe('the composition root', () => {
  it('makes the engine on first use only, and once', async () => {
    const make = vi.fn(() => ({}) as ContainerEngine);
    const ctx = createCliContext({ createEngine: make });
    expect(make).not.toHaveBeenCalled();
    const [a, b] = await Promise.all([ctx.engine(), ctx.engine()]);
    expect(a).toBe(b);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it('commands use the engine it gives them (kiln inspect of an image the engine does not have)', async () => {
    const inspectImage = vi.fn(async () => undefined);
    const ctx = createCliContext({ createEngine: () => ({ inspectImage }) as unknown as ContainerEngine });
    let err = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    const code = await main(['node', 'kiln', 'inspect', 'kiln-test/absent:1'], ctx);
    spy.mockRestore();
    expect(inspectImage).toHaveBeenCalledWith('kiln-test/absent:1');
    expect(code).toBe(ExitCode.missingImage);
    expect(err).toContain('kiln-test/absent:1');
  });

  it('no file of src/cli/ writes to the terminal or makes an engine itself: src/ui/ and context.ts do', () => {
    const root = resolve(__dirname, '../../..');
    const offenders = sourceFiles(join(root, 'src/cli'))
      .filter((f) => relative(root, f) !== 'src/cli/context.ts')
      .filter((f) => /process\.(stdout|stderr)|createDockerEngine|docker-engine\.js/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});

/** Issue 21: `kiln build --no-reuse` turns the reuse of an unchanged previous image off. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildRequestOf, registerBuild } from '../../../src/cli/commands/build.js';
import { createCliContext } from '../../../src/cli/context.js';

describe('--no-reuse', () => {
  it('is a build flag and becomes noReuse in the request; absent, the request has no noReuse', () => {
    const program = new Command();
    registerBuild(program, createCliContext());
    const build = program.commands.find((c) => c.name() === 'build');
    expect(build?.options.some((o) => o.long === '--no-reuse')).toBe(true);
    const base = { builder: 'b', path: '.', env: [], volume: [] };
    expect(buildRequestOf('app', { ...base, reuse: false }).noReuse).toBe(true);
    expect(buildRequestOf('app', { ...base, reuse: true })).not.toHaveProperty('noReuse');
  });
});

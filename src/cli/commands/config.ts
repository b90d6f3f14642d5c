/**
 * `kiln config` (issue 17): default-builder, pull-policy and run-image-mirrors in kiln's config file
 * (config/kiln-config.ts, XDG rules). Each can be shown, set and removed; `kiln config` lists all.
 */
import type { Command } from 'commander';
import { kilnConfigPath, readKilnConfig, writeKilnConfig, type KilnConfig } from '../../config/kiln-config.js';
import { ExitCode, KilnError } from '../../errors.js';
import { parsePullPolicy, PULL_POLICIES } from '../../registry/pull-policy.js';
import type { CliContext } from '../context.js';
import { collect } from '../repeatable.js';

function listLines(c: KilnConfig): string[] {
  const lines = [`# ${kilnConfigPath()}`, `default-builder = ${c.defaultBuilder ?? '(not set)'}`, `pull-policy = ${c.pullPolicy ?? '(not set: if-not-present)'}`];
  const mirrors = Object.entries(c.runImageMirrors);
  if (mirrors.length === 0) lines.push('run-image-mirrors = (none)');
  for (const [image, list] of mirrors) lines.push(`run-image-mirrors ${image} = ${list.join(', ')}`);
  return lines;
}

function usage(cause: string, hint?: string): KilnError {
  return new KilnError({ action: 'change kiln config', cause, ...(hint !== undefined ? { hint } : {}), exitCode: ExitCode.usage });
}

export function registerConfig(program: Command, ctx: CliContext): void {
  /** One line of human text on stdout (ui/command-output.ts). */
  const say = async (text: string): Promise<void> => (await ctx.output({})).text(`${text}\n`);
  const update = async (fn: (c: KilnConfig) => string): Promise<void> => {
    const c = await readKilnConfig();
    const message = fn(c);
    await writeKilnConfig(c);
    await say(message);
  };
  const config = program.command('config').description(`kiln's settings (${kilnConfigPath()}): default builder, pull policy, run-image mirrors`);
  config
    .command('list', { isDefault: true })
    .description('show every setting')
    .option('--json', 'print the settings as JSON')
    .action(async (o: { json?: boolean }) => {
      const c = await readKilnConfig();
      (await ctx.output({ json: o.json === true })).result(c, () => `${listLines(c).join('\n')}\n`);
    });
  config
    .command('default-builder [image]')
    .description('show, set or (--unset) remove the builder `kiln build` uses without -B and without project.toml builder')
    .option('--unset', 'remove the default builder')
    .action(async (image: string | undefined, o: { unset?: boolean }) => {
      if (o.unset === true) {
        if (image !== undefined) throw usage('--unset takes no image');
        return update((c) => (delete c.defaultBuilder, 'default builder removed'));
      }
      if (image === undefined) return say((await readKilnConfig()).defaultBuilder ?? '(not set)');
      if (image.trim() === '') throw usage('the builder image name is empty');
      return update((c) => ((c.defaultBuilder = image), `default builder set to ${image}`));
    });
  config
    .command('pull-policy [policy]')
    .description(`show, set or (--unset) remove the default --pull-policy (${PULL_POLICIES.join(', ')})`)
    .option('--unset', 'back to the built-in default (if-not-present)')
    .action(async (policy: string | undefined, o: { unset?: boolean }) => {
      if (o.unset === true) {
        if (policy !== undefined) throw usage('--unset takes no policy');
        return update((c) => (delete c.pullPolicy, 'pull policy removed (default: if-not-present)'));
      }
      if (policy === undefined) return say((await readKilnConfig()).pullPolicy ?? 'if-not-present (default)');
      const p = parsePullPolicy(policy, 'kiln config pull-policy');
      return update((c) => ((c.pullPolicy = p), `pull policy set to ${p}`));
    });
  config
    .command('run-image-mirrors [run-image]')
    .description('show, add (-m) or remove (--remove [-m]) mirrors of a run image, tried before the builder\'s own')
    .option('-m, --mirror <image>', 'a mirror of the run image (repeatable)', collect, [])
    .option('--remove', 'remove the given mirrors (all mirrors of the run image without -m)')
    .action(async (runImage: string | undefined, o: { mirror: string[]; remove?: boolean }) => {
      if (runImage === undefined) {
        if (o.mirror.length > 0 || o.remove === true) throw usage('name the run image', 'kiln config run-image-mirrors <run-image> -m <mirror>');
        const mirrors = Object.entries((await readKilnConfig()).runImageMirrors);
        return say(mirrors.length === 0 ? '(none)' : mirrors.map(([i, l]) => `${i} = ${l.join(', ')}`).join('\n'));
      }
      if (o.remove === true) {
        return update((c) => {
          const left = o.mirror.length === 0 ? [] : (c.runImageMirrors[runImage] ?? []).filter((m) => !o.mirror.includes(m));
          if (left.length === 0) delete c.runImageMirrors[runImage];
          else c.runImageMirrors[runImage] = left;
          return left.length === 0 ? `no mirrors for ${runImage}` : `mirrors of ${runImage}: ${left.join(', ')}`;
        });
      }
      if (o.mirror.length === 0) return say((await readKilnConfig()).runImageMirrors[runImage]?.join('\n') ?? '(none)');
      if (o.mirror.some((m) => m.trim() === '')) throw usage('a mirror name is empty');
      return update((c) => {
        const list = [...new Set([...(c.runImageMirrors[runImage] ?? []), ...o.mirror])];
        c.runImageMirrors[runImage] = list;
        return `mirrors of ${runImage}: ${list.join(', ')}`;
      });
    });
}

/**
 * PURE: what `kiln generate` shows (issue 20 point 2) from the generate phase's result: for each
 * extension of the chosen group, in order, the Dockerfiles and extend-config.toml args it produced, the
 * image each Dockerfile applies to, and the build args it would get (image_extension.md, "Phase:
 * Extension": base_image, build_id, user_id, group_id, then the extension's own args).
 */
import type { ExtendArg } from '../cnb/models.js';
import type { GenerateResult } from '../lifecycle/generate.js';
import { extendBuildArgs } from '../lifecycle/extend/plan.js';

/** build_id is a fresh UUID for every application (platform.md, "`extender`"): shown as this. */
export const FRESH_BUILD_ID = '<a new UUID per application>';

export interface ReportedDockerfile {
  kind: 'build' | 'run';
  /** The image it is applied to (the builder, the run image, or the image a run.Dockerfile switches to). */
  appliesTo: string;
  /** False when nothing of it is applied (a FROM-only switch, or superseded by a later switch). */
  applied: boolean;
  note?: string;
  switchesTo?: string;
  text: string;
  /** The build args in the lifecycle's order; user_id/group_id of the original image (a later Dockerfile gets the User the previous one left). */
  args: ExtendArg[];
  /** Which generated folder is its build context: context.<kind>, context, or the app. */
  context: 'context.build' | 'context.run' | 'context' | 'app';
}

export interface ReportedExtension {
  id: string;
  version: string;
  source: 'bin/generate' | 'generate/';
  dockerfiles: ReportedDockerfile[];
  /** extend-config.toml's args, as written. */
  extendConfig: { build: ExtendArg[]; run: ExtendArg[] };
}

export interface GenerateReport {
  builder: string;
  /** The run image the build would export on (after any switch). */
  runImage: string;
  runImageSwitched: boolean;
  extensions: ReportedExtension[];
  warnings: string[];
}

export interface ReportImages {
  builder: { ref: string; id: string; user: string };
  run: { ref: string; id: string; user: string };
  /** User of the image a run.Dockerfile switches to, when known. */
  switchedUser?: string;
}

function contextOf(kind: 'build' | 'run', c: GenerateResult['extensions'][number]['contexts']): ReportedDockerfile['context'] {
  if (kind === 'build' && c.build !== undefined) return 'context.build';
  if (kind === 'run' && c.run !== undefined) return 'context.run';
  return c.shared !== undefined ? 'context' : 'app';
}

export function generateReport(gen: GenerateResult, images: ReportImages): GenerateReport {
  const runRef = gen.runImage.switched ? gen.runImage.image : images.run.ref;
  const runUser = gen.runImage.switched ? (images.switchedUser ?? images.run.user) : images.run.user;
  const extensions = gen.extensions.map((e): ReportedExtension => {
    const dockerfiles: ReportedDockerfile[] = [];
    if (e.buildDockerfile !== undefined) {
      dockerfiles.push({
        kind: 'build',
        appliesTo: images.builder.ref,
        applied: true,
        text: e.buildDockerfile,
        args: extendBuildArgs({ baseImage: images.builder.id, buildId: FRESH_BUILD_ID, user: images.builder.user, extensionArgs: e.args.build }),
        context: contextOf('build', e.contexts),
      });
    }
    if (e.runDockerfile !== undefined) {
      const switchesTo = e.run?.switchesTo;
      const extendsIt = e.run?.extends === true;
      const note = e.ignored
        ? 'superseded: a later extension switches the run image, so this file is not applied'
        : !extendsIt && switchesTo !== undefined
          ? `switches the run image to ${switchesTo}; nothing else to apply`
          : undefined;
      dockerfiles.push({
        kind: 'run',
        appliesTo: runRef,
        applied: !e.ignored && extendsIt,
        ...(note !== undefined ? { note } : {}),
        ...(switchesTo !== undefined ? { switchesTo } : {}),
        text: e.runDockerfile,
        args: extendBuildArgs({ baseImage: runRef, buildId: FRESH_BUILD_ID, user: runUser, extensionArgs: e.args.run }),
        context: contextOf('run', e.contexts),
      });
    }
    return { id: e.id, version: e.version, source: e.source, dockerfiles, extendConfig: { build: e.args.build, run: e.args.run } };
  });
  return { builder: images.builder.ref, runImage: runRef, runImageSwitched: gen.runImage.switched, extensions, warnings: gen.warnings };
}

/** extend-config.toml text for `--output` (image_extension.md, "extend-config.toml (TOML)"). */
export function extendConfigToml(args: { build: ExtendArg[]; run: ExtendArg[] }): string {
  const section = (kind: 'build' | 'run'): string[] => args[kind].map((a) => `[[${kind}.args]]\nname = ${JSON.stringify(a.name)}\nvalue = ${JSON.stringify(a.value)}\n`);
  return [...section('build'), ...section('run')].join('\n');
}

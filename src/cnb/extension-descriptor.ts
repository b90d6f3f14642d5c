/**
 * extension.toml (image_extension.md, "extension.toml (TOML)"): like buildpack.toml but never composite, no sbom-formats, no stacks.
 */
import type { DescriptorOptions } from './buildpack-descriptor.js';
import { decodeToml } from './decode.js';
import type { ExtensionDescriptor, ParseResult } from './models.js';
import { decodeModuleApi, decodeModuleInfo, decodeTargets, LINUX_TARGET } from './module-common.js';

export function parseExtensionDescriptor(text: string, file: string, opts: DescriptorOptions = {}): ParseResult<ExtensionDescriptor> {
  return decodeToml(text, file, (root, ctx) => {
    const api = decodeModuleApi(root);
    // Image extensions arrived with Buildpack API 0.9, but the lifecycle runs an extension of any
    // Buildpack API it supports (0.7 .. 0.12; pack's acceptance fixtures use a 0.7 one), and so does kiln.
    if (root.has('order')) {
      root.raw('order');
      ctx.error('order', 'an extension must not declare [[order]] (extensions are never composite)');
    }
    const ext = root.optTable('extension');
    if (!ext) {
      if (!root.has('extension')) ctx.error('extension', 'is required');
      root.ignore(...Object.keys(root.data)); // the error above says enough
      return undefined;
    }
    const info = decodeModuleInfo(ext);
    ext.finish();
    let targets = decodeTargets(root);
    if (targets.length === 0 && opts.hasExecutables === true) targets = [{ ...LINUX_TARGET, distros: [] }];
    const value: ExtensionDescriptor = { kind: 'extension', api, ...info, targets, metadata: root.freeTable('metadata') };
    return value;
  }) as ParseResult<ExtensionDescriptor>;
}

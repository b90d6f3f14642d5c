/** The run image's target, as build, detect and the extend step need it. */
import { BASE_DISTRO_NAME_LABEL, BASE_DISTRO_VERSION_LABEL } from '../cnb/labels.js';
import type { Labels } from '../ports.js';
import type { TargetVars } from '../lifecycle/container/module-env.js';
import type { Target } from '../cnb/models.js';

/** The run image's target from its config and distro labels (buildpack.md, "Targets" CNB_TARGET_*; platform.md, "Target Data"). */
export function targetOf(info: { os: string; architecture: string; variant?: string; config: { labels: Labels } }): { vars: TargetVars; target: Target } {
  const name = info.config.labels[BASE_DISTRO_NAME_LABEL] ?? '';
  const version = info.config.labels[BASE_DISTRO_VERSION_LABEL] ?? '';
  const vars: TargetVars = { os: info.os, arch: info.architecture, ...(info.variant ? { variant: info.variant } : {}), ...(name ? { distroName: name } : {}), ...(version ? { distroVersion: version } : {}) };
  const target: Target = { os: info.os, arch: info.architecture, variant: info.variant ?? '', distros: name !== '' ? [{ name, version }] : [] };
  return { vars, target };
}

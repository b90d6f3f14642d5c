/**
 * PURE: the files of a new buildpack or image extension (`kiln buildpack new`, `kiln extension new`):
 * a descriptor with the newest Buildpack API kiln speaks and `[[targets]]` (buildpack.md,
 * "buildpack.toml (TOML)"; image_extension.md, "extension.toml (TOML)"), POSIX sh executables with
 * comments that say what the spec gives them, and a README. Values (id, targets) are written into TOML
 * strings with TOML escaping and into shell scripts only as comments or quoted heredoc text, never as code.
 */
import { SUPPORTED_BUILDPACK_APIS } from './api-version.js';
import { REBASABLE_LABEL } from './labels.js';

export type ExtensionKind = 'build' | 'run' | 'both';

export interface ScaffoldTarget {
  os: string;
  arch?: string;
  variant?: string;
}

export interface ScaffoldFile {
  /** Path relative to the module directory, with `/`. */
  path: string;
  text: string;
  /** 0o755 for executables, else 0o644. */
  mode: number;
}

export interface ScaffoldOptions {
  id: string;
  version: string;
  targets: readonly ScaffoldTarget[];
}

/** The Buildpack API new modules declare: the newest kiln speaks. */
export const SCAFFOLD_API: string = SUPPORTED_BUILDPACK_APIS[SUPPORTED_BUILDPACK_APIS.length - 1] as string;

/** A TOML basic string (quotes, backslashes and control characters escaped). */
function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** A value safe inside a shell comment or a quoted heredoc: one line, printable. */
function commentSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** A file-name-safe short name from a module id ("acme/hello-world" -> "hello-world"). */
export function shortName(id: string): string {
  const last = id.split('/').pop() ?? id;
  const safe = last.replace(/[^A-Za-z0-9._-]/g, '-');
  return safe === '' ? 'module' : safe;
}

function targetsToml(targets: readonly ScaffoldTarget[]): string {
  return targets
    .map((t) =>
      [
        '[[targets]]',
        `os = ${tomlString(t.os)}`,
        ...(t.arch !== undefined ? [`arch = ${tomlString(t.arch)}`] : []),
        ...(t.variant !== undefined ? [`variant = ${tomlString(t.variant)}`] : []),
      ].join('\n'),
    )
    .join('\n\n');
}

function descriptor(kind: 'buildpack' | 'extension', o: ScaffoldOptions): string {
  const specFile = kind === 'buildpack' ? 'buildpack.md, "buildpack.toml (TOML)"' : 'image_extension.md, "extension.toml (TOML)"';
  return `# The ${kind} descriptor (${specFile}).
api = ${tomlString(SCAFFOLD_API)}

[${kind}]
id = ${tomlString(o.id)}
version = ${tomlString(o.version)}
name = ${tomlString(o.id)}

# Where this ${kind} can run: a builder only uses modules whose targets match its build image.
${targetsToml(o.targets)}
`;
}

const DETECT_COMMON = `# Runs as the builder's CNB user with the app directory as working directory.
# Exit 0 to take part in the build, 100 to stay out of it; any other code is an error.
# CNB_PLATFORM_DIR holds the platform's env/ files; CNB_BUILD_PLAN_PATH is where a build plan goes.
set -eu
# To take part only for some apps, test for a file of the app, e.g.:
#   [ -f package.json ] || exit 100
`;

function buildpackFiles(o: ScaffoldOptions): ScaffoldFile[] {
  const tool = `${shortName(o.id)}-hello`;
  const detect = `#!/bin/sh
# bin/detect of ${commentSafe(o.id)} (buildpack.md, "Phase #2: Detection", "Buildpack Interface: Detection").
${DETECT_COMMON}exit 0
`;
  const build = `#!/bin/sh
# bin/build of ${commentSafe(o.id)} (buildpack.md, "Phase #5: Build", "Buildpack Interface: Build").
# Runs as the builder's CNB user with the app directory as working directory. Inputs:
#   CNB_LAYERS_DIR     this buildpack's layers directory: one subdirectory (+ <name>.toml) per layer
#   CNB_PLATFORM_DIR   the platform directory (env/ holds the user's --env values as files)
#   CNB_BP_PLAN_PATH   the buildpack plan (what detect's build plan resolved to)
#   CNB_BUILDPACK_DIR  this buildpack's own directory (read only)
set -eu

# A launch layer: it is part of the app image; its bin/ joins PATH there (buildpack.md, "Layer Types").
layer="$CNB_LAYERS_DIR/hello"
mkdir -p "$layer/bin"
cat > "$layer/bin/${tool}" <<'TOOL'
#!/bin/sh
echo "hello from ${commentSafe(o.id)}"
TOOL
chmod 755 "$layer/bin/${tool}"
cat > "$layer.toml" <<'LAYER'
[types]
launch = true
LAYER

# A process type the app image can start by name (buildpack.md, "launch.toml (TOML)"). It is not the
# default, so the app's own default process stays the default.
cat > "$CNB_LAYERS_DIR/launch.toml" <<'LAUNCH'
[[processes]]
type = "${tool}"
command = ["${tool}"]
LAUNCH

echo "added the ${tool} tool"
`;
  return [
    { path: 'buildpack.toml', text: descriptor('buildpack', o), mode: 0o644 },
    { path: 'bin/detect', text: detect, mode: 0o755 },
    { path: 'bin/build', text: build, mode: 0o755 },
    { path: 'README.md', text: readme('buildpack', o), mode: 0o644 },
  ];
}

const BUILD_DOCKERFILE = (id: string): string => `ARG base_image
FROM \${base_image}

# Steps run as root; RUN steps have no network unless kiln build gets --extension-network host.
USER root
RUN mkdir -p /opt/${shortName(id)} && echo "build image extended by ${commentSafe(id)}" > /opt/${shortName(id)}/build.txt

# Back to the image's own user (image_extension.md, "Dockerfile Requirements": user_id, group_id).
ARG user_id
ARG group_id
USER \${user_id}:\${group_id}
`;

const RUN_DOCKERFILE = (id: string): string => `ARG base_image
FROM \${base_image}

USER root
RUN mkdir -p /opt/${shortName(id)} && echo "run image extended by ${commentSafe(id)}" > /opt/${shortName(id)}/run.txt

# The new layers only add files under /opt: safe to rebase onto a new run image (kiln rebase).
LABEL ${REBASABLE_LABEL}="true"

# A run image must not be left as root (image_extension.md, "Dockerfile Requirements": user_id, group_id).
ARG user_id
ARG group_id
USER \${user_id}:\${group_id}
`;

function extensionFiles(o: ScaffoldOptions, kind: ExtensionKind): ScaffoldFile[] {
  const detect = `#!/bin/sh
# bin/detect of ${commentSafe(o.id)} (image_extension.md, "Detection"; buildpack.md, "Phase #2: Detection").
${DETECT_COMMON}exit 0
`;
  const writes: string[] = [];
  if (kind !== 'run') writes.push(`cat > "$CNB_OUTPUT_DIR/build.Dockerfile" <<'DOCKERFILE'\n${BUILD_DOCKERFILE(o.id)}DOCKERFILE\n`);
  if (kind !== 'build') writes.push(`cat > "$CNB_OUTPUT_DIR/run.Dockerfile" <<'DOCKERFILE'\n${RUN_DOCKERFILE(o.id)}DOCKERFILE\n`);
  const generate = `#!/bin/sh
# bin/generate of ${commentSafe(o.id)} (image_extension.md, "Generation", "Phase: Generation").
# Runs as the builder's CNB user with the app directory as working directory; it MUST NOT write there.
# Inputs: CNB_OUTPUT_DIR (where the Dockerfiles go), CNB_PLATFORM_DIR, CNB_BP_PLAN_PATH,
# CNB_EXTENSION_DIR. It may write build.Dockerfile (applied to the builder image before the build) and
# run.Dockerfile (applied to the run image), a context/ (or context.build/, context.run/) directory,
# and extend-config.toml with build args. See what it emits for an app: kiln extension lint . --app DIR
set -eu

${writes.join('\n')}
echo "generated ${kind === 'both' ? 'build.Dockerfile and run.Dockerfile' : `${kind}.Dockerfile`}"
`;
  return [
    { path: 'extension.toml', text: descriptor('extension', o), mode: 0o644 },
    { path: 'bin/detect', text: detect, mode: 0o755 },
    { path: 'bin/generate', text: generate, mode: 0o755 },
    { path: 'README.md', text: readme('extension', o), mode: 0o644 },
  ];
}

function readme(kind: 'buildpack' | 'extension', o: ScaffoldOptions): string {
  const main = kind === 'buildpack' ? 'bin/build' : 'bin/generate';
  return `# ${commentSafe(o.id)}

A ${kind} made with \`kiln ${kind} new\`.

- \`${kind}.toml\`: id, version, Buildpack API ${SCAFFOLD_API}, targets.
- \`bin/detect\`: whether the ${kind} takes part (exit 0) or not (exit 100).
- \`${main}\`: what it does; the comments say what the spec gives it.

Check it:

    kiln ${kind} lint .

Try it on an app without making a builder (see kiln's README, "For buildpack and extension authors"):

    kiln build my-app --builder <builder> --path <app> --${kind} .
`;
}

/** Every file of a new module of `kind`. */
export function scaffoldFiles(kind: 'buildpack' | 'extension', o: ScaffoldOptions, extensionKind: ExtensionKind = 'both'): ScaffoldFile[] {
  return kind === 'buildpack' ? buildpackFiles(o) : extensionFiles(o, extensionKind);
}

/** Parses `os[/arch[/variant]]` (pack's --targets, without distros). Undefined when malformed. */
export function parseScaffoldTarget(text: string): ScaffoldTarget | undefined {
  const parts = text.split('/');
  if (parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) return undefined;
  const [os, arch, variant] = parts as [string, string | undefined, string | undefined];
  return { os, ...(arch !== undefined ? { arch } : {}), ...(variant !== undefined ? { variant } : {}) };
}

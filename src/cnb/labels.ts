/**
 * Every image, container and volume label name kiln reads or writes, in one place (issue 16 point 4):
 * the CNB ones (platform.md, "Labels", "Build Image", "Run Image"; distribution.md, "Buildpackage")
 * and kiln's own `io.kiln.*` ones. test/unit/cnb/labels-home.test.ts checks that no other file in src/
 * spells an `io.buildpacks.` or `io.kiln.` string.
 */

// App image (platform.md, "Labels").
export const LIFECYCLE_METADATA_LABEL = 'io.buildpacks.lifecycle.metadata';
export const BUILD_METADATA_LABEL = 'io.buildpacks.build.metadata';
export const PROJECT_METADATA_LABEL = 'io.buildpacks.project.metadata';
/** On a run image, a run.Dockerfile and an app image: whether rebase may swap the run image. */
export const REBASABLE_LABEL = 'io.buildpacks.rebasable';

// Base images (platform.md, "Run Image" and "Build Image").
export const BASE_ID_LABEL = 'io.buildpacks.base.id';
/** The legacy name of io.buildpacks.base.id (Platform API < 0.12). */
export const STACK_ID_LABEL = 'io.buildpacks.stack.id';
export const BASE_DISTRO_NAME_LABEL = 'io.buildpacks.base.distro.name';
export const BASE_DISTRO_VERSION_LABEL = 'io.buildpacks.base.distro.version';
export const BASE_MAINTAINER_LABEL = 'io.buildpacks.base.maintainer';
export const BASE_HOMEPAGE_LABEL = 'io.buildpacks.base.homepage';
export const BASE_DESCRIPTION_LABEL = 'io.buildpacks.base.description';
/** The stack id that buildpack.md, "buildpack.toml (TOML)" maps to the ubuntu bionic target. */
export const BIONIC_STACK_ID = 'io.buildpacks.stacks.bionic';

// Builder image (platform.md, "Build Image"; pack's builder format).
export const BUILDER_METADATA_LABEL = 'io.buildpacks.builder.metadata';
export const BUILDPACK_LAYERS_LABEL = 'io.buildpacks.buildpack.layers';
export const EXTENSION_LAYERS_LABEL = 'io.buildpacks.extension.layers';
export const BUILDPACK_ORDER_LABEL = 'io.buildpacks.buildpack.order';
export const ORDER_EXTENSIONS_LABEL = 'io.buildpacks.buildpack.order-extensions';

// Buildpackages (distribution.md, "Buildpackage").
export const BUILDPACK_METADATA_LABEL = 'io.buildpacks.buildpack.metadata';
export const EXTENSION_METADATA_LABEL = 'io.buildpacks.extension.metadata';
export const PACKAGE_METADATA_LABEL = 'io.buildpacks.buildpackage.metadata';

// kiln's own labels.
/** On a builder: the build base image it was made from (pack's labels do not name it). */
export const BUILD_IMAGE_LABEL = 'io.kiln.builder.build-image';
/** On every container, volume and intermediate image of a build session (app/session-owner.ts). */
export const SESSION_LABEL = 'io.kiln.session';
export const SESSION_PID_LABEL = 'io.kiln.session.pid';
export const SESSION_HOST_LABEL = 'io.kiln.session.host';
export const SESSION_START_LABEL = 'io.kiln.session.start';
/** On a cache volume and the extended images kept for an app: the app image name. */
export const CACHE_LABEL = 'io.kiln.cache';
/** On an app image: the input key of the build that made it (app/input-key.ts, issue 21). */
export const INPUT_KEY_LABEL = 'io.kiln.input-key';
/** On an app image: JSON [{ref, id}] of the run image(s) an extension switched to, re-checked before reuse. */
export const INPUT_IMAGES_LABEL = 'io.kiln.input-images';
/** On an extended builder or run image kept for reuse (lifecycle/extend/cache.ts). */
export const EXTEND_CACHE_LABEL = 'io.kiln.extend-cache';
/** On the app container `kiln build --run` starts (app/app-container.ts): the app image it runs. */
export const DEV_APP_LABEL = 'io.kiln.dev-app';

// Base ids of kiln's own stacks (src/stacks/).
export const BUSYBOX_BASE_ID = 'io.kiln.stacks.busybox';
export const DEBIAN_BASE_ID = 'io.kiln.stacks.debian-bookworm';

/** On an ephemeral builder (a builder plus --buildpack/--extension modules), its content key (app/ephemeral-builder.ts). */
export const EPHEMERAL_BUILDER_LABEL = 'io.kiln.ephemeral-builder';

/** project.toml's table of the project descriptor schema 0.2 (extensions/project-descriptor.md): not a label, but the same namespace, so it lives here too. */
export const PROJECT_TABLE = 'io.buildpacks';

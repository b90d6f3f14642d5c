/**
 * A quick builder image for integration tests: the busybox build base plus the given shell-script
 * buildpacks and extensions in the platform.md, "Build Image" layout, built with one Dockerfile (no lifecycle binaries:
 * kiln's lifecycle runs on the host). Modules are root-owned with 0755 (executables, directories) or
 * 0644 modes; /layers and /workspace belong to the CNB user; the image's user is the CNB user.
 */
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEngine, Labels } from '../../src/ports.js';
import { escapeId } from '../../src/lifecycle/phase-context.js';
import { makeTar, type TarFileEntry } from '../../src/image/tar-files.js';
import { parseToml } from '../../src/cnb/toml.js';
import { getBusyboxImages } from './busybox-images.js';
import { testLabels } from './test-labels.js';

export interface TestBuilderOptions {
  /** Host directories, each holding a buildpack.toml (and bin/…). */
  buildpacks: string[];
  /** Host directories, each holding an extension.toml. */
  extensions: string[];
  /** Text of /cnb/order.toml. */
  orderToml: string;
  /** Written to /cnb/run.toml ([[images]] image) and /cnb/stack.toml ([run-image] image). */
  runImage: string;
  /** Text of /cnb/run.toml instead of the one naming `runImage` (e.g. with mirrors). */
  runToml?: string;
  /** Tag of the builder image. */
  tag: string;
  /** Labels of the builder image (the test label is added). */
  labels: Labels;
  /** Base image (default: the run's busybox build base from getBusyboxImages, uid/gid 1000). */
  baseImage?: string;
  /** CNB user of the base (default 1000:1000). */
  uid?: number;
  gid?: number;
}

/** id and version from buildpack.toml / extension.toml ([buildpack] or [extension] table). */
async function moduleIdentity(dir: string, kind: 'buildpack' | 'extension'): Promise<{ id: string; version: string }> {
  const file = join(dir, `${kind}.toml`);
  const parsed = parseToml(await readFile(file, 'utf8'), file);
  const table = parsed.value?.[kind];
  if (typeof table !== 'object' || table === null) throw new Error(`${file}: no [${kind}] table`);
  const { id, version } = table as Record<string, unknown>;
  if (typeof id !== 'string' || typeof version !== 'string') throw new Error(`${file}: [${kind}] needs id and version strings`);
  return { id, version };
}

/** Every entry under a host directory, below `prefix` in the tar, root-owned with normalised modes. */
async function dirEntries(hostDir: string, prefix: string): Promise<TarFileEntry[]> {
  const out: TarFileEntry[] = [{ path: prefix, type: 'directory', mode: 0o755 }];
  for (const name of (await readdir(hostDir)).sort()) {
    const host = join(hostDir, name);
    const path = `${prefix}/${name}`;
    const st = await lstat(host);
    if (st.isDirectory()) out.push(...(await dirEntries(host, path)));
    else if (st.isSymbolicLink()) out.push({ path, type: 'symlink', linkname: await readlink(host) });
    else out.push({ path, content: await readFile(host), mode: (st.mode & 0o111) !== 0 ? 0o755 : 0o644 });
  }
  return out;
}

/** Parents of a path as directory entries ("cnb", "cnb/buildpacks", …), root-owned 0755. */
function parents(path: string, seen: Set<string>): TarFileEntry[] {
  const parts = path.split('/');
  const out: TarFileEntry[] = [];
  for (let i = 1; i < parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    if (!seen.has(p)) {
      seen.add(p);
      out.push({ path: p, type: 'directory', mode: 0o755 });
    }
  }
  return out;
}

/** Builds the builder image; resolves with its image id (it is also tagged `opts.tag`). */
export async function makeTestBuilder(engine: ContainerEngine, opts: TestBuilderOptions): Promise<string> {
  const uid = opts.uid ?? 1000;
  const gid = opts.gid ?? 1000;
  const base = opts.baseImage ?? (await getBusyboxImages(engine, { uid, gid })).build;
  const seen = new Set<string>();
  const entries: TarFileEntry[] = [];
  const addModule = async (dir: string, kind: 'buildpack' | 'extension'): Promise<void> => {
    const { id, version } = await moduleIdentity(dir, kind);
    const target = `cnb/${kind}s/${escapeId(id)}/${version}`;
    entries.push(...parents(target, seen), ...(await dirEntries(dir, target)));
  };
  for (const dir of opts.buildpacks) await addModule(dir, 'buildpack');
  for (const dir of opts.extensions) await addModule(dir, 'extension');
  const runImage = JSON.stringify(opts.runImage);
  entries.push(
    ...parents('cnb/order.toml', seen),
    { path: 'cnb/order.toml', content: opts.orderToml },
    { path: 'cnb/run.toml', content: opts.runToml ?? `[[images]]\nimage = ${runImage}\n` },
    { path: 'cnb/stack.toml', content: `[run-image]\nimage = ${runImage}\n` },
    { path: 'owned/layers', type: 'directory', mode: 0o755, uid, gid },
    { path: 'owned/workspace', type: 'directory', mode: 0o755, uid, gid },
    { path: 'rootdirs/platform', type: 'directory', mode: 0o755 },
    { path: 'rootdirs/platform/env', type: 'directory', mode: 0o755 },
    {
      path: 'Dockerfile',
      content: [
        'ARG base_image',
        'FROM ${base_image}',
        'USER root',
        'COPY cnb/ /cnb/',
        'COPY rootdirs/ /',
        `COPY --chown=${uid}:${gid} owned/ /`,
        `USER ${uid}:${gid}`,
        '',
      ].join('\n'),
    },
  );
  const { imageId } = await engine.buildImage({
    context: await makeTar(entries),
    dockerfile: 'Dockerfile',
    buildArgs: { base_image: base },
    tag: opts.tag,
    labels: { ...opts.labels, ...testLabels() },
  });
  return imageId;
}

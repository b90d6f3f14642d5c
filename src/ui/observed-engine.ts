/**
 * A ContainerEngine decorator for the CLI: with --verbose it reports every container spec (image,
 * user, command, mounts, network, env with secrets redacted) and Dockerfile build, and around the
 * daemon calls that print nothing for a while (image load/import/save) it emits wait-start/wait-end
 * so the TTY renderer can show a spinner. The lifecycle never knows it is being watched.
 */
import type { BuildSpec, ContainerEngine, ContainerSpec, ExecSpec, Reporter } from '../ports.js';
import { redactEnv } from './redact.js';

export function describeContainer(spec: ContainerSpec): string[] {
  const mounts = (spec.mounts ?? []).map((m) => `${m.source}:${m.target}${m.readOnly === true ? ':ro' : ''}`);
  const env = redactEnv(spec.env ?? {});
  return [
    `container: image=${spec.image.slice(0, 19)} user=${spec.user} network=${spec.network ?? 'none'}${spec.workingDir !== undefined ? ` workdir=${spec.workingDir}` : ''}`,
    `  cmd: ${JSON.stringify(spec.cmd)}`,
    ...(mounts.length > 0 ? [`  mounts: ${mounts.join(' ')}`] : []),
    ...Object.entries(env).map(([k, v]) => `  env: ${k}=${v}`),
  ];
}

/** A process run in a kept container (its image, mounts and network are the container's, described when it started). */
export function describeExec(id: string, spec: ExecSpec): string[] {
  return [
    `exec in container ${id.slice(0, 12)}: user=${spec.user}${spec.workingDir !== undefined ? ` workdir=${spec.workingDir}` : ''}`,
    `  cmd: ${JSON.stringify(spec.cmd)}`,
    ...Object.entries(redactEnv(spec.env ?? {})).map(([k, v]) => `  env: ${k}=${v}`),
  ];
}

export function describeBuild(spec: BuildSpec): string[] {
  return [
    `dockerfile build: ${spec.dockerfile} network=${spec.network ?? 'default'}${spec.tag !== undefined ? ` tag=${spec.tag}` : ''}`,
    ...Object.entries(redactEnv(spec.buildArgs)).map(([k, v]) => `  arg: ${k}=${v}`),
  ];
}

export function observeEngine(engine: ContainerEngine, reporter: Reporter, opts: { verbose: boolean }): ContainerEngine {
  let waitSeq = 0;
  const debug = (lines: string[]): void => {
    if (opts.verbose) for (const message of lines) reporter.emit({ type: 'debug', message });
  };
  const waiting = async <T>(message: string, fn: () => Promise<T>): Promise<T> => {
    const id = `w${++waitSeq}`;
    reporter.emit({ type: 'wait-start', id, message });
    try {
      return await fn();
    } finally {
      reporter.emit({ type: 'wait-end', id });
    }
  };
  return {
    ping: () => engine.ping(),
    runContainer: (spec) => {
      debug(describeContainer(spec));
      return engine.runContainer(spec);
    },
    createContainer: (spec) => {
      debug(describeContainer(spec));
      return engine.createContainer(spec);
    },
    ...(engine.startContainer !== undefined && engine.execInContainer !== undefined
      ? {
          startContainer: (spec: ContainerSpec) => {
            debug(describeContainer(spec));
            return (engine.startContainer as NonNullable<ContainerEngine['startContainer']>)(spec);
          },
          execInContainer: (id: string, spec: ExecSpec) => {
            debug(describeExec(id, spec));
            return (engine.execInContainer as NonNullable<ContainerEngine['execInContainer']>)(id, spec);
          },
        }
      : {}),
    removeContainer: (id) => engine.removeContainer(id),
    putArchive: (id, dest, tar) => engine.putArchive(id, dest, tar),
    getArchive: (id, src) => engine.getArchive(id, src),
    buildImage: (spec) => {
      debug(describeBuild(spec));
      return engine.buildImage(spec);
    },
    loadImage: (archive) => waiting('Loading the image into the Docker daemon', () => engine.loadImage(archive)),
    importImage: (rootfs, o) => waiting(`Importing ${o.ref}`, () => engine.importImage(rootfs, o)),
    saveImage: (ref) => waiting(`Reading layers of ${ref.slice(0, 19)}`, () => engine.saveImage(ref)),
    inspectImage: (ref) => engine.inspectImage(ref),
    tagImage: (ref, target) => engine.tagImage(ref, target),
    ...(engine.pushImage !== undefined ? { pushImage: (ref: string, o?: Parameters<NonNullable<ContainerEngine['pushImage']>>[1]) => waiting(`Pushing ${ref}`, () => (engine.pushImage as NonNullable<ContainerEngine['pushImage']>).call(engine, ref, o)) } : {}),
    // Pulls report their own progress (pull-start/-progress/-end, app/image-fetcher.ts).
    ...(engine.pullImage !== undefined ? { pullImage: (ref: string, o?: Parameters<NonNullable<ContainerEngine['pullImage']>>[1]) => (engine.pullImage as NonNullable<ContainerEngine['pullImage']>).call(engine, ref, o) } : {}),
    removeImage: (ref, o) => engine.removeImage(ref, o),
    createVolume: (name, labels) => engine.createVolume(name, labels),
    removeVolume: (name) => engine.removeVolume(name),
    volumeExists: (name) => engine.volumeExists(name),
    listContainers: (f) => engine.listContainers(f),
    listVolumes: (f) => engine.listVolumes(f),
    listImages: (f) => engine.listImages(f),
    ...(engine.listLabelled !== undefined ? { listLabelled: engine.listLabelled.bind(engine) } : {}),
  };
}

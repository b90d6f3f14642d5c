/**
 * What the remote-daemon tests share (issue 19): the KILN_REMOTE_* lines of scripts/remote-daemons.sh
 * (a second dockerd over tcp and over ssh), a kiln child process with a given environment (bin/kiln.js,
 * so the ssh connection's effect on process exit is tested too), and a Docker context pointing at the
 * second daemon.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '../..');

export interface RemoteEnv {
  tcpHost: string;
  sshHost: string;
  sshExecHost: string;
  sshHome: string;
  sshWrongHome: string;
  dockerSocket: string;
  dockerdPid: number;
}

/** Stands in for the env when the tests are skipped (their describe bodies still run to collect them). */
export const NO_REMOTE: RemoteEnv = { tcpHost: 'tcp://127.0.0.1:1', sshHost: 'ssh://nobody@127.0.0.1:1', sshExecHost: 'ssh://nobody@127.0.0.1:1', sshHome: '', sshWrongHome: '', dockerSocket: '', dockerdPid: 0 };

/** The script's env lines, or why the remote tests skip (shown in the skipped describe's name). */
export function remoteEnv(): { env?: RemoteEnv; skip: string } {
  const e = process.env;
  const need = ['KILN_REMOTE_TCP_HOST', 'KILN_REMOTE_SSH_HOST', 'KILN_REMOTE_SSH_EXEC_HOST', 'KILN_REMOTE_SSH_HOME', 'KILN_REMOTE_SSH_WRONG_HOME', 'KILN_REMOTE_DOCKER_SOCKET', 'KILN_REMOTE_DOCKERD_PID'];
  const missing = need.filter((k) => e[k] === undefined || e[k] === '');
  if (missing.length > 0) {
    const skip = `SKIPPED: ${missing.join(', ')} not set (run scripts/remote-daemons.sh start and export its lines; .ci/run does)`;
    console.warn(`remote-daemon tests ${skip}`);
    return { skip };
  }
  return {
    skip: '',
    env: {
      tcpHost: e.KILN_REMOTE_TCP_HOST ?? '',
      sshHost: e.KILN_REMOTE_SSH_HOST ?? '',
      sshExecHost: e.KILN_REMOTE_SSH_EXEC_HOST ?? '',
      sshHome: e.KILN_REMOTE_SSH_HOME ?? '',
      sshWrongHome: e.KILN_REMOTE_SSH_WRONG_HOME ?? '',
      dockerSocket: e.KILN_REMOTE_DOCKER_SOCKET ?? '',
      dockerdPid: Number(e.KILN_REMOTE_DOCKERD_PID),
    },
  };
}

/** The environment of a kiln child: this process's, without any daemon selection, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', SSH_AUTH_SOCK: '' };
  for (const k of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'KILN_SSH_DOCKER_SOCKET']) delete env[k];
  return { ...env, ...extra };
}

export interface KilnRun {
  code: number;
  out: string;
}

/** Runs `node bin/kiln.js ARGS` to its end (stdout and stderr together). */
export function kiln(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 170_000): Promise<KilnRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/kiln.js'), ...args], { env, cwd: root, maxBuffer: 64 << 20, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Writes a Docker config dir whose current context `name` points at `host` (as `docker context create` does). */
export function writeContext(configDir: string, name: string, host: string): void {
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(configDir, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Metadata: { Description: 'kiln test' }, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  writeFileSync(join(configDir, 'config.json'), JSON.stringify({ currentContext: name }));
}

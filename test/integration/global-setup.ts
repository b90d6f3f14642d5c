import { execSync } from 'node:child_process';

/** Integration tests need a daemon; scripts/ensure-docker.sh starts one. Fail early and clearly if none answers. */
export default function setup(): void {
  try {
    execSync('docker version --format "{{.Server.Version}}"', { stdio: 'pipe' });
  } catch {
    throw new Error('integration tests need a Docker daemon: run scripts/ensure-docker.sh (or scripts/test.sh) first');
  }
}

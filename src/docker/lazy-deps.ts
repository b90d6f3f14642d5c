/**
 * Start-up (issue 21): dockerode loads gRPC and uuid (for BuildKit sessions) and docker-modem loads ssh2 (for
 * ssh:// daemons) when they are first required, which is about two thirds of dockerode's load time.
 * kiln uses neither unless DOCKER_HOST is ssh://. Before dockerode is imported (docker-engine.ts), this
 * puts stand-ins for them into the CommonJS module cache that load the real module on first use: the
 * gRPC modules on first property access, ssh2 when its Client is constructed.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

type Loader = () => Record<string | symbol, unknown>;

/** Puts `make(load)` into the module cache at `id` as resolved from `from`; `load` requires the real module. */
function standIn(id: string, from: string, make: (load: Loader) => unknown): void {
  let path: string;
  try {
    path = require.resolve(id, { paths: [from] });
  } catch {
    return;
  }
  if (require.cache[path] !== undefined) return;
  let real: Record<string | symbol, unknown> | undefined;
  const load: Loader = () => {
    if (real === undefined) {
      delete require.cache[path];
      real = require(path) as Record<string | symbol, unknown>;
    }
    return real;
  };
  const stub = { id: path, filename: path, loaded: true, exports: make(load), children: [], paths: [] } as unknown as NodeJS.Module;
  require.cache[path] = stub;
}

/** Exports whose every property access loads the real module. */
const onAccess = (load: Loader): unknown => new Proxy({}, { get: (_, p) => load()[p], has: (_, p) => p in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, p) => Reflect.getOwnPropertyDescriptor(load(), p) });

try {
  const dockerode = dirname(require.resolve('dockerode'));
  const modem = dirname(require.resolve('docker-modem', { paths: [dockerode] }));
  standIn('@grpc/grpc-js', dockerode, onAccess);
  standIn('@grpc/proto-loader', dockerode, onAccess);
  // dockerode's BuildKit session helper loads uuid (22 files) as it loads; kiln never uses BuildKit sessions.
  standIn(join(dockerode, 'session.js'), dockerode, (load) => (...args: unknown[]): unknown => (load() as unknown as (...a: unknown[]) => unknown)(...args));
  standIn('ssh2', modem, (load) => ({
    // docker-modem reads `.Client` when it loads and constructs it only for an ssh:// daemon.
    Client: function Client(...args: unknown[]): unknown {
      const Real = load().Client as new (...a: unknown[]) => unknown;
      return new Real(...args);
    },
  }));
} catch {
  // Nothing to do: dockerode then loads everything itself.
}

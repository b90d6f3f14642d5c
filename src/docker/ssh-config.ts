/**
 * The basics of an OpenSSH client config (ssh_config(5)) that `DOCKER_HOST=ssh://…` honours: for the
 * `Host` blocks matching the alias, HostName, User, Port, IdentityFile (each adds one; `~` and `%d`/`%u`
 * `%h`/`%r` are expanded minimally), UserKnownHostsFile and IdentitiesOnly. The first value of a keyword
 * wins, as in ssh(1). `Match` blocks and `Include` are skipped. Pure: text in, settings out.
 */

export interface SshHostSettings {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  knownHostsFiles?: string[];
  identitiesOnly?: boolean;
}

function patternMatches(patterns: string[], alias: string): boolean {
  let matched = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const glob = negated ? raw.slice(1) : raw;
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (re.test(alias)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Splits a config line into keyword and arguments (`Key value`, `Key=value`, double quotes). */
function splitLine(line: string): [string, string[]] | undefined {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (m === null) return undefined;
  const [, key = '', rest = ''] = m;
  const args: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let a = re.exec(rest); a !== null; a = re.exec(rest)) args.push(a[1] ?? a[2] ?? '');
  return [key.toLowerCase(), args];
}

export function sshSettingsFor(configText: string, alias: string): SshHostSettings {
  const out: SshHostSettings = { identityFiles: [] };
  let active = true; // lines before the first Host block apply to every host
  for (const rawLine of configText.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parsed = splitLine(line);
    if (parsed === undefined) continue;
    const [key, args] = parsed;
    if (key === 'host') {
      active = patternMatches(args, alias);
      continue;
    }
    if (key === 'match') {
      active = false;
      continue;
    }
    const value = args[0];
    if (!active || value === undefined) continue;
    if (key === 'hostname' && out.hostName === undefined) out.hostName = value;
    else if (key === 'user' && out.user === undefined) out.user = value;
    else if (key === 'port' && out.port === undefined && /^\d+$/.test(value)) out.port = Number(value);
    else if (key === 'identityfile' && value.toLowerCase() !== 'none') out.identityFiles.push(value);
    else if (key === 'userknownhostsfile' && out.knownHostsFiles === undefined) out.knownHostsFiles = args;
    else if (key === 'identitiesonly' && out.identitiesOnly === undefined) out.identitiesOnly = value.toLowerCase() === 'yes';
  }
  return out;
}

/** Expands `~` and the tokens ssh_config(5) "TOKENS" defines that kiln knows: %d %u %h %r %p %%. */
export function expandSshPath(path: string, t: { home: string; localUser: string; host: string; user: string; port: number }): string {
  const tilde = path === '~' ? t.home : path.startsWith('~/') ? t.home + path.slice(1) : path;
  return tilde.replace(/%([duhrp%])/g, (_m, c: string) => {
    switch (c) {
      case 'd':
        return t.home;
      case 'u':
        return t.localUser;
      case 'h':
        return t.host;
      case 'r':
        return t.user;
      case 'p':
        return String(t.port);
      default:
        return '%';
    }
  });
}

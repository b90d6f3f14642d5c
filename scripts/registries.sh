#!/usr/bin/env bash
# Two plain-HTTP Docker registries (Debian's docker-registry, distribution 2.x) on 127.0.0.1 for the
# pull tests (issue 17): one without auth on $KILN_REGISTRY_PLAIN_PORT (default 5171) and one with
# htpasswd basic auth on $KILN_REGISTRY_AUTH_PORT (default 5172). The daemon treats 127.0.0.0/8 as
# insecure, so plain HTTP is fine.
#
#   scripts/registries.sh start   installs docker-registry and apache2-utils (htpasswd) when missing,
#                                 starts whichever registry does not answer yet (storage in a temp dir)
#                                 and records the pids of those it started
#   scripts/registries.sh stop PID...  stops the registries with these recorded pids (the ones a `start`
#                                 printed in KILN_REGISTRY_STARTED_PIDS); without pids, every registry
#                                 this state dir recorded. A caller stops only what its own start started.
#   scripts/registries.sh env     prints KILN_REGISTRY_* lines (ports, user, password file)
#
# State (pids, htpasswd, the generated password, logs) lives in $KILN_REGISTRIES_STATE
# (default /tmp/kiln-registries-<plain port>); the password is never printed.
set -euo pipefail
# shellcheck source=lib/pids.sh
. "$(dirname "$0")/lib/pids.sh"

plain_port="${KILN_REGISTRY_PLAIN_PORT:-5171}"
auth_port="${KILN_REGISTRY_AUTH_PORT:-5172}"
state="${KILN_REGISTRIES_STATE:-/tmp/kiln-registries-$plain_port}"
user="kiln-test"

# 200 (no auth) or 401 (auth) both mean "a registry answers".
answers() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" 2>/dev/null || true)
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

install_missing() {
  local pkgs=()
  command -v docker-registry >/dev/null 2>&1 || pkgs+=(docker-registry)
  command -v htpasswd >/dev/null 2>&1 || pkgs+=(apache2-utils)
  [ "${#pkgs[@]}" = 0 ] && return 0
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "registries: installing ${pkgs[*]}"
  $sudo apt-get update -qq
  # docker-registry's postinst may try to start a service (no init here): that failure is harmless.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null || true
  command -v docker-registry >/dev/null 2>&1 && command -v htpasswd >/dev/null 2>&1
}

# start_one NAME PORT [htpasswd-file]
start_one() {
  local name="$1" port="$2" htfile="${3:-}"
  if answers "$port"; then
    echo "registries: $name registry already answers on 127.0.0.1:$port (not started here)"
    return 0
  fi
  local dir="$state/$name"
  mkdir -p "$dir"
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    if [ -n "$htfile" ]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: kiln-test"
      echo "    path: $htfile"
    fi
  } >"$dir/config.yml"
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/pid"
  started_pids="$started_pids $!"
  if answers_within "$(cat "$dir/pid")" 30 answers "$port"; then
    echo "registries: started $name registry on 127.0.0.1:$port (pid $(cat "$dir/pid"), storage $dir/data)"
    return 0
  fi
  echo "registries: the $name registry did not answer within 30 s; see $dir/registry.log" >&2
  tail -20 "$dir/registry.log" >&2 || true
  return 1
}

# stop_one NAME [PID...]: stops NAME's recorded registry (only if its pid is among PIDs, when given).
stop_one() {
  local name="$1" dir="$state/$1"
  shift
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  pid_chosen "$pid" "$@" || return 0
  end_pid "$pid" 4
  rm -f "$dir/pid"
  rm -rf "$dir/data"
  echo "registries: stopped $name registry (pid $pid)"
}

print_env() {
  echo "KILN_REGISTRY_PLAIN=127.0.0.1:$plain_port"
  echo "KILN_REGISTRY_AUTH=127.0.0.1:$auth_port"
  echo "KILN_REGISTRY_AUTH_USER=$user"
  echo "KILN_REGISTRY_AUTH_PASSWORD_FILE=$state/auth/password"
}

case "${1:-start}" in
  start)
    install_missing || { echo "registries: cannot install docker-registry / apache2-utils" >&2; exit 1; }
    mkdir -p "$state/auth"
    chmod 700 "$state"
    if [ ! -s "$state/auth/password" ]; then
      (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$state/auth/password")
    fi
    # htpasswd reads the password from stdin (-i), so it never shows in a process list.
    (umask 077; htpasswd -iBc "$state/auth/htpasswd" "$user" <"$state/auth/password" 2>/dev/null)
    started_pids=""
    start_one plain "$plain_port"
    start_one auth "$auth_port" "$state/auth/htpasswd"
    print_env
    echo "KILN_REGISTRY_STARTED_PIDS=${started_pids# }"
    ;;
  stop)
    shift
    stop_one plain "$@"
    stop_one auth "$@"
    # Nothing of ours runs any more: drop the state (htpasswd, password, logs) too.
    if [ ! -f "$state/plain/pid" ] && [ ! -f "$state/auth/pid" ] && [ -d "$state" ]; then rm -rf "$state"; fi
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 3
    ;;
esac

#!/usr/bin/env bash
# A second Docker daemon for the remote-daemon tests (issue 19 point 5, README "Remote daemons"): its own
# data-root, exec-root and socket (--bridge=none --iptables=false), listening on tcp://127.0.0.1:$KILN_REMOTE_TCP_PORT
# (default 5351), and an sshd of its own on 127.0.0.1:$KILN_REMOTE_SSH_PORT (default 5352) with a throwaway
# host key and client key, through which kiln reaches the same daemon's socket over ssh.
#
# A second sshd on $KILN_REMOTE_SSH_EXEC_PORT (default 5353) refuses socket forwarding and sets
# DOCKER_HOST for its sessions, so kiln's fallback, `docker system dial-stdio` there, reaches the same daemon.
#
#   scripts/remote-daemons.sh start        starts both (state in $KILN_REMOTE_STATE, default
#                                           /tmp/kiln-remote-<tcp port>) and prints KILN_REMOTE_* lines
#   scripts/remote-daemons.sh stop PID...   stops the daemons with these pids (KILN_REMOTE_STARTED_PIDS of
#                                           a start), removes their containers' state and the state dir
#   scripts/remote-daemons.sh env           prints the KILN_REMOTE_* lines again
#
# The client side lives in two HOME directories of the state dir: home/.ssh holds the client key, a
# known_hosts with the sshd's real host key ([127.0.0.1]:port form, hashed) and a config naming the key;
# home-wrong/.ssh is the same but its known_hosts holds ANOTHER key for the host (a changed host key).
# Nothing here is secret beyond the throwaway keys, which never leave the state dir.
set -euo pipefail
# shellcheck source=lib/pids.sh
. "$(dirname "$0")/lib/pids.sh"

tcp_port="${KILN_REMOTE_TCP_PORT:-5351}"
ssh_port="${KILN_REMOTE_SSH_PORT:-5352}"
exec_port="${KILN_REMOTE_SSH_EXEC_PORT:-5353}"
state="${KILN_REMOTE_STATE:-/tmp/kiln-remote-$tcp_port}"
user="$(id -un)"

print_env() {
  echo "KILN_REMOTE_TCP_HOST=tcp://127.0.0.1:$tcp_port"
  echo "KILN_REMOTE_SSH_HOST=ssh://$user@127.0.0.1:$ssh_port"
  echo "KILN_REMOTE_SSH_EXEC_HOST=ssh://$user@127.0.0.1:$exec_port"
  echo "KILN_REMOTE_SSH_HOME=$state/home"
  echo "KILN_REMOTE_SSH_WRONG_HOME=$state/home-wrong"
  echo "KILN_REMOTE_DOCKER_SOCKET=$state/docker.sock"
  echo "KILN_REMOTE_DOCKERD_PID=$(cat "$state/dockerd.pid" 2>/dev/null || true)"
}

answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$tcp_port/_ping" 2>/dev/null; }

start_dockerd() {
  if answers; then
    echo "remote-daemons: a daemon already answers on tcp://127.0.0.1:$tcp_port (not started here)"
    return 0
  fi
  mkdir -p "$state/data" "$state/exec"
  nohup dockerd --bridge=none --iptables=false --ip-masq=false \
    --data-root "$state/data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" \
    -H "unix://$state/docker.sock" -H "tcp://127.0.0.1:$tcp_port" --tls=false \
    >"$state/dockerd.log" 2>&1 &
  local pid=$!
  started_pids="$started_pids $pid"
  if answers_within "$pid" 60 answers; then
    echo "remote-daemons: started dockerd (pid $pid) on tcp://127.0.0.1:$tcp_port and unix://$state/docker.sock"
    return 0
  fi
  echo "remote-daemons: the second dockerd did not answer; see $state/dockerd.log" >&2
  tail -20 "$state/dockerd.log" >&2 || true
  return 1
}

# A client HOME whose known_hosts holds `hostkey` (hashed, [host]:port form) for the sshd.
client_home() {
  local home="$1" hostkey="$2"
  mkdir -p "$home/.ssh"
  chmod 700 "$home" "$home/.ssh"
  cp "$state/client_key" "$home/.ssh/id_ed25519"
  cp "$state/client_key.pub" "$home/.ssh/id_ed25519.pub"
  {
    echo "[127.0.0.1]:$ssh_port $(cut -d' ' -f1,2 "$hostkey")"
    echo "[127.0.0.1]:$exec_port $(cut -d' ' -f1,2 "$hostkey")"
  } >"$home/.ssh/known_hosts"
  ssh-keygen -H -f "$home/.ssh/known_hosts" >/dev/null 2>&1
  rm -f "$home/.ssh/known_hosts.old"
  printf 'Host 127.0.0.1\n  IdentityFile ~/.ssh/id_ed25519\n' >"$home/.ssh/config"
  chmod 600 "$home/.ssh/"*
}

start_sshd() {
  if [ -f "$state/sshd.pid" ] && kill -0 "$(cat "$state/sshd.pid")" 2>/dev/null && [ -f "$state/sshd-exec.pid" ]; then
    echo "remote-daemons: sshd already runs (pid $(cat "$state/sshd.pid"))"
    return 0
  fi
  rm -f "$state/host_key" "$state/host_key.pub" "$state/other_key" "$state/other_key.pub" "$state/client_key" "$state/client_key.pub"
  ssh-keygen -q -t ed25519 -N '' -C kiln-test-host -f "$state/host_key"
  ssh-keygen -q -t ed25519 -N '' -C kiln-test-other -f "$state/other_key"
  ssh-keygen -q -t ed25519 -N '' -C kiln-test-client -f "$state/client_key"
  cp "$state/client_key.pub" "$state/authorized_keys"
  chmod 600 "$state/authorized_keys"
  cat >"$state/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $state/host_key
PidFile $state/sshd.pid
AuthorizedKeysFile $state/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $user
UsePAM no
StrictModes no
AllowStreamLocalForwarding local
AllowTcpForwarding local
X11Forwarding no
PrintMotd no
MaxSessions 100
EOF
  sed -e "s/^Port .*/Port $exec_port/" -e "s|^PidFile .*|PidFile $state/sshd-exec.pid|" \
    -e 's/^AllowStreamLocalForwarding .*/AllowStreamLocalForwarding no/' "$state/sshd_config" >"$state/sshd-exec_config"
  echo "SetEnv DOCKER_HOST=unix://$state/docker.sock" >>"$state/sshd-exec_config"
  # sshd wants its privilege-separation dir; it is empty and shared with a system sshd, if any.
  [ -d /run/sshd ] || mkdir -p /run/sshd
  /usr/sbin/sshd -f "$state/sshd_config" -E "$state/sshd.log"
  for _ in $(seq 1 20); do [ -s "$state/sshd.pid" ] && break; sleep 0.2; done
  [ -s "$state/sshd.pid" ] || { echo "remote-daemons: sshd did not start; see $state/sshd.log" >&2; tail -20 "$state/sshd.log" >&2; return 1; }
  started_pids="$started_pids $(cat "$state/sshd.pid")"
  echo "remote-daemons: started sshd (pid $(cat "$state/sshd.pid")) on 127.0.0.1:$ssh_port"
  /usr/sbin/sshd -f "$state/sshd-exec_config" -E "$state/sshd-exec.log"
  for _ in $(seq 1 20); do [ -s "$state/sshd-exec.pid" ] && break; sleep 0.2; done
  [ -s "$state/sshd-exec.pid" ] || { echo "remote-daemons: the second sshd did not start; see $state/sshd-exec.log" >&2; return 1; }
  started_pids="$started_pids $(cat "$state/sshd-exec.pid")"
  echo "remote-daemons: started sshd without socket forwarding (pid $(cat "$state/sshd-exec.pid")) on 127.0.0.1:$exec_port"
  client_home "$state/home" "$state/host_key.pub"
  client_home "$state/home-wrong" "$state/other_key.pub"
}

stop_pid() {
  local pid="$1" file
  for file in "$state/dockerd.pid" "$state/sshd.pid" "$state/sshd-exec.pid"; do
    [ -f "$file" ] && [ "$(cat "$file")" = "$pid" ] || continue
    end_pid "$pid" 10 # SIGCONT first: a test may have stopped it
    rm -f "$file"
    echo "remote-daemons: stopped pid $pid"
  done
}

case "${1:-start}" in
  start)
    if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
      sudo=""
      [ "$(id -u)" = 0 ] || sudo="sudo"
      echo "remote-daemons: installing openssh-server"
      $sudo apt-get update -qq
      # Its postinst may try to start the system sshd (no init here): that failure is harmless.
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null || true
    fi
    command -v dockerd >/dev/null && [ -x /usr/sbin/sshd ] || { echo "remote-daemons: needs dockerd and openssh-server (/usr/sbin/sshd)" >&2; exit 1; }
    mkdir -p "$state"
    chmod 700 "$state"
    started_pids=""
    start_dockerd
    start_sshd
    print_env
    echo "KILN_REMOTE_STARTED_PIDS=${started_pids# }"
    ;;
  stop)
    shift
    for p in "$@"; do stop_pid "$p"; done
    if [ ! -f "$state/dockerd.pid" ] && [ ! -f "$state/sshd.pid" ] && [ ! -f "$state/sshd-exec.pid" ] && [ -d "$state" ]; then
      umount "$state/exec/netns/default" 2>/dev/null || true
      rm -rf "$state"
    fi
    ;;
  env)
    print_env
    ;;
  *)
    echo "usage: $0 start|stop PID...|env" >&2
    exit 3
    ;;
esac

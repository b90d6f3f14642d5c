#!/usr/bin/env bash
# A private podman API service for the podman tests (issue 19 point 3; README "podman"): Debian's
# podman 4.3 as `podman system service` on its own unix socket, with its own storage, runtime dirs and
# containers.conf (cgroupfs, file events and locks, no network), so it shares nothing with a podman
# or Docker already on the machine.
#
#   scripts/podman-service.sh start      checks that podman works here (`podman info` with this
#                                        config: storage driver overlay, else vfs), starts the service
#                                        and prints KILN_PODMAN_* lines: KILN_PODMAN_HOST (a DOCKER_HOST
#                                        value), KILN_PODMAN_VERSION and KILN_PODMAN_STARTED_PIDS
#   scripts/podman-service.sh stop PID   stops the service with this recorded pid (TERM, then KILL
#                                        after 10 s: a daemon stuck on its own locks ignores TERM),
#                                        unmounts what it left mounted and removes the state dir
#   scripts/podman-service.sh env        prints the KILN_PODMAN_* lines of a running service
#
# State (config, storage, socket, log) lives in $KILN_PODMAN_STATE (default /tmp/kiln-podman).
# Exit 0 with the lines printed, or non-zero with the reason on stderr (no podman, podman info fails).
set -euo pipefail
# shellcheck source=lib/pids.sh
. "$(dirname "$0")/lib/pids.sh"

state="${KILN_PODMAN_STATE:-/tmp/kiln-podman}"
sock="$state/podman.sock"

podman_cmd() {
  CONTAINERS_CONF="$state/containers.conf" CONTAINERS_STORAGE_CONF="$state/storage.conf" \
    podman --root "$state/root" --runroot "$state/runroot" "$@"
}

answers() {
  [ -S "$sock" ] && curl -s -o /dev/null --max-time 5 --unix-socket "$sock" http://podman/_ping 2>/dev/null
}

write_config() {
  local driver="$1" runtime=runc
  command -v crun >/dev/null 2>&1 && runtime=crun
  mkdir -p "$state/root" "$state/runroot" "$state/tmp" "$state/cni"
  cat >"$state/containers.conf" <<EOF
[containers]
netns = "none"
default_ulimits = []
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$state/events.log"
lock_type = "file"
tmp_dir = "$state/tmp"
image_copy_tmp_dir = "$state/tmp"
runtime = "$runtime"

[network]
network_backend = "cni"
network_config_dir = "$state/cni"
EOF
  cat >"$state/storage.conf" <<EOF
[storage]
driver = "$driver"
runroot = "$state/runroot"
graphroot = "$state/root"
EOF
}

print_env() {
  echo "KILN_PODMAN_HOST=unix://$sock"
  echo "KILN_PODMAN_VERSION=$(podman --version | awk '{print $NF}')"
}

case "${1:-start}" in
  start)
    if ! command -v podman >/dev/null 2>&1; then
      echo "podman-service: podman is not installed (Debian: apt-get install podman)" >&2
      exit 1
    fi
    if answers; then
      echo "podman-service: a podman service already answers on $sock (not started here)"
      print_env
      echo "KILN_PODMAN_STARTED_PIDS="
      exit 0
    fi
    mkdir -p "$state"
    chmod 700 "$state"
    # overlay when the state dir's file system takes it (not on overlayfs itself), else vfs.
    driver=""
    for d in overlay vfs; do
      write_config "$d"
      if podman_cmd info >"$state/info.log" 2>&1; then driver="$d"; break; fi
    done
    if [ -z "$driver" ]; then
      echo "podman-service: podman cannot run here; podman info says:" >&2
      tail -5 "$state/info.log" >&2
      exit 1
    fi
    rm -f "$sock"
    nohup env CONTAINERS_CONF="$state/containers.conf" CONTAINERS_STORAGE_CONF="$state/storage.conf" \
      podman --root "$state/root" --runroot "$state/runroot" system service --time=0 "unix://$sock" >"$state/service.log" 2>&1 &
    echo $! >"$state/pid"
    if answers_within "$(cat "$state/pid")" 30 answers; then
      echo "podman-service: started podman $(podman --version | awk '{print $NF}') (pid $(cat "$state/pid"), storage $driver in $state)"
      print_env
      echo "KILN_PODMAN_STARTED_PIDS=$(cat "$state/pid")"
      exit 0
    fi
    echo "podman-service: the service did not answer on $sock; see $state/service.log" >&2
    tail -20 "$state/service.log" >&2 || true
    kill "$(cat "$state/pid")" 2>/dev/null || true
    exit 1
    ;;
  stop)
    shift
    [ -f "$state/pid" ] || exit 0
    pid=$(cat "$state/pid")
    pid_chosen "$pid" "$@" || exit 0
    # Containers still there (a test killed mid-run): removed through podman itself, bounded in time
    # in case the daemon is stuck.
    timeout 30 env CONTAINERS_CONF="$state/containers.conf" CONTAINERS_STORAGE_CONF="$state/storage.conf" \
      podman --root "$state/root" --runroot "$state/runroot" rm -a -f -t 0 >/dev/null 2>&1 || true
    end_pid "$pid" 10
    # Mounts (overlay layers, shm) of this state dir only, deepest first.
    awk -v root="$state/" '$2 ~ "^"root {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    rm -rf "$state"
    echo "podman-service: stopped podman service (pid $pid)"
    ;;
  env)
    answers || { echo "podman-service: no service answers on $sock" >&2; exit 1; }
    print_env
    ;;
  *)
    echo "usage: $0 start|stop PID|env" >&2
    exit 3
    ;;
esac

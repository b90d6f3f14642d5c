# Starting and stopping the services the test scripts run, by pid (sourced by registries.sh,
# remote-daemons.sh and podman-service.sh).

# pid_chosen PID [PIDS...]: true when no PIDS are given, or when PID is one of them.
pid_chosen() {
  local pid="$1"
  shift
  [ "$#" -eq 0 ] || printf '%s\n' "$@" | grep -qx "$pid"
}

# end_pid PID [SECONDS]: SIGCONT (a test may have stopped it), SIGTERM, up to SECONDS (default 10) for it
# to go, then SIGKILL. Returns once the process is gone (or 5 s after the SIGKILL).
end_pid() {
  local pid="$1" tries=$(( ${2:-10} * 5 ))
  kill -CONT "$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$tries"); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  echo "pid $pid ignored SIGTERM for ${2:-10} s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
}

# answers_within PID SECONDS CMD...: polls CMD every 0.5 s until it succeeds (true); false once PID is gone
# or SECONDS have passed.
answers_within() {
  local pid="$1" tries=$(( $2 * 2 ))
  shift 2
  for _ in $(seq 1 "$tries"); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

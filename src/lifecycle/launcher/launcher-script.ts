/**
 * kiln's launcher: a POSIX sh script installed as /cnb/lifecycle/launcher (root, 0755), with one
 * /cnb/process/<type> symlink per process pointing at it (buildpack.md, "Phase #6: Export"). It needs only
 * /bin/sh and `cat`, so it runs on a busybox-only run image as well as on Debian.
 *
 * It reads the process table the exporter writes into the config layer (process-table.ts documents the
 * layout), not metadata.toml: parsing TOML in sh is not worth it.
 *
 * Behaviour (platform.md, "`launcher`"):
 * - process: basename($0) naming a table entry (the /cnb/process/<type> symlinks); else `launcher -- cmd
 *   args` = direct exec, `launcher cmd args` = shell process; nothing at all => exit 82 with the
 *   lifecycle's "when there is no default process a command is required" and the defined types.
 *   CNB_PROCESS_TYPE is ignored with the lifecycle's two warnings (Platform API >= 0.10: choose the
 *   process with the entrypoint, `docker run --entrypoint <type>`).
 * - user args: replace the process args (Buildpack API >= 0.9, or a command with >1 entries); appended
 *   for single-entry commands of API < 0.9 buildpacks (the table says which).
 * - env: CNB_LAYERS_DIR, CNB_APP_DIR, CNB_PROCESS_TYPE, CNB_PLATFORM_API, CNB_DEPRECATION_MODE are
 *   removed, /cnb/process and /cnb/lifecycle are stripped from PATH; then per buildpack (group order),
 *   per layer (lexical): bin -> PATH, lib -> LD_LIBRARY_PATH (prepend with ':'), then env/, env.launch/,
 *   env.launch/<type>/ with the 7.3 suffix rules in lexical file order. Root dirs and env dirs are
 *   applied layer by layer, as the lifecycle's launcher does (launch/launcher.go doEnv).
 * - exec.d: per buildpack, per layer: exec.d/* then exec.d/<type>/*, each with fd 3 captured; lines
 *   `NAME = "value"` override the env; a non-zero exit fails the launch (exit 82).
 * - profile.d (shell processes only): per layer profile.d/* then profile.d/<type>/*, then <app>/.profile.
 * - cd to the process working dir (default <app>), then exec.
 *
 * Differences from the lifecycle's Go launcher (deliberate, documented):
 * - Shell processes run in /bin/sh (busybox ash or dash), not bash; a user command without args is
 *   eval'ed as a script; with args, the args are appended to the script text unquoted (the Go launcher
 *   `eval echo`s each one) so `$VAR` references expand in both.
 * - Env files whose variable name is not a shell identifier (e.g. `FOO-BAR`) are skipped: sh cannot
 *   export them. Values are read exactly (a sentinel defeats $(...) stripping trailing newlines), but a
 *   value cannot contain a NUL byte.
 * - exec.d output is parsed line by line: only single-line basic strings, with \" and \\ unescaped.
 * - Buildpack APIs are checked at export time, not at launch; CNB_EXEC_ENV (Platform 0.15) is ignored
 *   because we export at Platform API 0.13.
 * - Shell variables named kiln_* are the script's own; an env file of that name would clash.
 */
import { PLATFORM_API } from '../../cnb/api-version.js';
import { APP_DIR, LAUNCHER_PATH, LAYERS_DIR, PROCESS_DIR } from '../../cnb/paths.js';

export { LAUNCHER_PATH, PROCESS_DIR };

export const LAUNCHER_SCRIPT = `#!/bin/sh
# kiln launcher (see src/lifecycle/launcher/launcher-script.ts for what it does and how it differs
# from the lifecycle's launcher). Exit code 82 = failed before exec.
kiln_die() { printf 'kiln launcher: %s\\n' "$1" >&2; exit 82; }

kiln_layers=\${CNB_LAYERS_DIR:-${LAYERS_DIR}}
kiln_app=\${CNB_APP_DIR:-${APP_DIR}}
# Platform API >= 0.10 chooses the process by the entrypoint only: CNB_PROCESS_TYPE is ignored with the
# lifecycle launcher's warning, which names the supported way (platform.md "launcher").
if [ -n "\${CNB_PROCESS_TYPE-}" ]; then
  printf 'kiln launcher: warning: CNB_PROCESS_TYPE is not supported in Platform API %s\n' "\${CNB_PLATFORM_API:-${PLATFORM_API}}" >&2
  printf "kiln launcher: warning: run with ENTRYPOINT '%s' (docker run --entrypoint %s ...) to invoke the '%s' process type\n" "$CNB_PROCESS_TYPE" "$CNB_PROCESS_TYPE" "$CNB_PROCESS_TYPE" >&2
fi
unset CNB_LAYERS_DIR CNB_APP_DIR CNB_PROCESS_TYPE CNB_PLATFORM_API CNB_DEPRECATION_MODE
kiln_table=$kiln_layers/config/kiln-launch
[ -d "$kiln_table" ] || kiln_die "no process table at $kiln_table"

# Reads a file exactly: $(...) strips trailing newlines, so a sentinel is appended and removed.
kiln_read() { kiln_v=$(cat "$1" && printf x) || kiln_die "cannot read $1"; kiln_v=\${kiln_v%x}; }

# Appends $1, single-quoted for eval, to kiln_line.
kiln_q() {
  kiln_s=$1; kiln_o=
  while :; do
    case $kiln_s in
      *\\'*) kiln_o=$kiln_o\${kiln_s%%\\'*}\\'\\\\\\'\\'; kiln_s=\${kiln_s#*\\'} ;;
      *) kiln_o=$kiln_o$kiln_s; break ;;
    esac
  done
  kiln_line="$kiln_line '$kiln_o'"
}

# Appends every file of a numbered item directory (0000, 0001, ...) to kiln_line.
kiln_items() {
  for kiln_f in "$1"/*; do
    [ -f "$kiln_f" ] || continue
    kiln_read "$kiln_f"; kiln_q "$kiln_v"
  done
}

# PATH without /cnb/process and /cnb/lifecycle (platform.md, "launcher").
kiln_ifs=$IFS; set -f; IFS=:
kiln_new=
for kiln_p in \${PATH-}; do
  case $kiln_p in /cnb/process|/cnb/process/|/cnb/lifecycle|/cnb/lifecycle/) ;; *) kiln_new=\${kiln_new:+$kiln_new:}$kiln_p ;; esac
done
IFS=$kiln_ifs; set +f
PATH=$kiln_new; export PATH

# ---- which process
kiln_type=
kiln_self=\${0##*/}
case $kiln_self in
  launcher|.|..|'') ;;
  *) [ -d "$kiln_table/processes/$kiln_self" ] && kiln_type=$kiln_self ;;
esac

kiln_line=
kiln_workdir=$kiln_app
if [ -n "$kiln_type" ]; then
  kiln_pdir=$kiln_table/processes/$kiln_type
  kiln_read "$kiln_pdir/direct"; kiln_direct=$kiln_v
  kiln_read "$kiln_pdir/user-args"; kiln_mode=$kiln_v
  [ -f "$kiln_pdir/working-dir" ] && { kiln_read "$kiln_pdir/working-dir"; kiln_workdir=$kiln_v; }
  kiln_items "$kiln_pdir/command"
  if [ $# -eq 0 ] || [ "$kiln_mode" = append ]; then kiln_items "$kiln_pdir/args"; fi
  for kiln_a in "$@"; do kiln_q "$kiln_a"; done
  if [ "$kiln_direct" != true ]; then
    # Legacy shell process (Buildpack API < 0.9): the items joined by spaces form the script.
    kiln_script=
    for kiln_f in "$kiln_pdir"/command/* "$kiln_pdir"/args/*; do
      [ -f "$kiln_f" ] || continue
      kiln_read "$kiln_f"; kiln_script="$kiln_script\${kiln_script:+ }$kiln_v"
    done
    [ $# -gt 0 ] && kiln_script="$kiln_script $*"
  fi
else
  if [ $# -eq 0 ]; then
    # The lifecycle's words; the launcher itself is never named as if it were a process type.
    kiln_types=
    for kiln_f in "$kiln_table"/processes/*; do [ -d "$kiln_f" ] && kiln_types="$kiln_types\${kiln_types:+, }\${kiln_f##*/}"; done
    case $kiln_self in
      launcher|.|..|'') kiln_why='when there is no default process a command is required' ;;
      *) kiln_why="no process type '$kiln_self' is defined, and no command was given" ;;
    esac
    kiln_die "$kiln_why: run the image with --entrypoint <process type> (defined: \${kiln_types:-none}) or give a command"
  fi
  if [ "$1" = -- ]; then
    shift
    [ $# -gt 0 ] || kiln_die "'--' must be followed by a command"
    kiln_direct=true
    for kiln_a in "$@"; do kiln_q "$kiln_a"; done
  else
    kiln_direct=false
    kiln_script="$*"
  fi
fi

# ---- environment from launch layers (buildpack.md, "Environment Variable Modification Rules")
kiln_prepend() { eval "kiln_cur=\\\${$1-}"; if [ -n "$kiln_cur" ]; then export "$1=$2:$kiln_cur"; else export "$1=$2"; fi; }

kiln_env_dir() {
  [ -d "$1" ] || return 0
  for kiln_f in "$1"/*; do
    [ -f "$kiln_f" ] || continue
    kiln_b=\${kiln_f##*/}
    kiln_n=\${kiln_b%%.*}
    case $kiln_b in *.*) kiln_x=\${kiln_b#*.} ;; *) kiln_x= ;; esac
    case $kiln_n in ''|[0-9]*|*[!A-Za-z0-9_]*) continue ;; esac
    case $kiln_x in ''|override|default|append|prepend) ;; *) continue ;; esac
    kiln_read "$kiln_f"; kiln_val=$kiln_v
    eval "kiln_cur=\\\${$kiln_n-}"
    kiln_d=
    if [ -f "$1/$kiln_n.delim" ]; then kiln_read "$1/$kiln_n.delim"; kiln_d=$kiln_v; fi
    case $kiln_x in
      ''|override) ;;
      default) [ -n "$kiln_cur" ] && continue ;;
      append) [ -n "$kiln_cur" ] && kiln_val=$kiln_cur$kiln_d$kiln_val ;;
      prepend) [ -n "$kiln_cur" ] && kiln_val=$kiln_val$kiln_d$kiln_cur ;;
    esac
    export "$kiln_n=$kiln_val"
  done
}

# Runs every executable in $1 with fd 3 captured; NAME = "value" lines override the env.
exec 4>&1
kiln_exec_dir() {
  [ -d "$1" ] || return 0
  for kiln_f in "$1"/*; do
    [ -f "$kiln_f" ] || continue
    kiln_out=$("$kiln_f" 3>&1 1>&4 </dev/null) || kiln_die "exec.d program $kiln_f failed"
    while IFS= read -r kiln_l; do
      case $kiln_l in *=*) ;; *) continue ;; esac
      kiln_n=\${kiln_l%%=*}; kiln_val=\${kiln_l#*=}
      kiln_n=$(printf '%s' "$kiln_n" | tr -d ' \\t')
      case $kiln_n in ''|[0-9]*|*[!A-Za-z0-9_]*) continue ;; esac
      kiln_val=$(printf '%s' "$kiln_val" | sed -e 's/^[ \\t]*"//' -e 's/"[ \\t]*$//' -e 's/\\\\"/"/g' -e 's/\\\\\\\\/\\\\/g'; printf x)
      export "$kiln_n=\${kiln_val%x}"
    done <<KILN_EOF
$kiln_out
KILN_EOF
  done
}

kiln_each_layer() {
  # $1: a function taking a layer dir. Buildpacks in group order, layers in lexical order.
  while IFS= read -r kiln_bp; do
    [ -n "$kiln_bp" ] || continue
    for kiln_layer in "$kiln_layers/$kiln_bp"/*; do
      [ -d "$kiln_layer" ] || continue
      "$1" "$kiln_layer"
    done
  done < "$kiln_table/buildpacks"
}

kiln_layer_env() {
  [ -d "$1/bin" ] && kiln_prepend PATH "$1/bin"
  [ -d "$1/lib" ] && kiln_prepend LD_LIBRARY_PATH "$1/lib"
  kiln_env_dir "$1/env"
  kiln_env_dir "$1/env.launch"
  [ -n "$kiln_type" ] && kiln_env_dir "$1/env.launch/$kiln_type"
  return 0
}

kiln_layer_execd() {
  kiln_exec_dir "$1/exec.d"
  [ -n "$kiln_type" ] && kiln_exec_dir "$1/exec.d/$kiln_type"
  return 0
}

kiln_layer_profile() {
  for kiln_pf in "$1/profile.d"/*; do [ -f "$kiln_pf" ] && . "$kiln_pf"; done
  if [ -n "$kiln_type" ]; then
    for kiln_pf in "$1/profile.d/$kiln_type"/*; do [ -f "$kiln_pf" ] && . "$kiln_pf"; done
  fi
  return 0
}

cd "$kiln_app" || kiln_die "cannot cd to $kiln_app"
kiln_each_layer kiln_layer_env
kiln_each_layer kiln_layer_execd
exec 4>&-

if [ "$kiln_direct" = true ]; then
  cd "$kiln_workdir" || kiln_die "cannot cd to $kiln_workdir"
  eval "exec $kiln_line"
fi

# Shell process: profile.d scripts (per layer), then <app>/.profile, then the script.
kiln_each_layer kiln_layer_profile
[ -f "$kiln_app/.profile" ] && . "$kiln_app/.profile"
cd "$kiln_workdir" || kiln_die "cannot cd to $kiln_workdir"
eval "$kiln_script"
`;

/**
 * Shell scripts kiln runs in containers with `sh -c`: the script text is fixed kiln code, and every
 * name, path or value it works on (layer names, module ids, plan contents, paths) is a positional
 * parameter ("$1", "$@"), so nothing a module controls is ever parsed as shell (issue 14,
 * docs/reliability.md "Hostile modules"). Only kiln's own constants may appear in the script text.
 */
export interface ShScript {
  /** The fixed script. */
  script: string;
  /** Its positional parameters, in order. */
  args: string[];
}

/** The argv that runs the script: `sh -c <script> <name> <args...>` (`name` is $0, shown in sh's errors). */
export function shArgv(s: ShScript, name: string): string[] {
  return ['sh', '-c', s.script, name, ...s.args];
}

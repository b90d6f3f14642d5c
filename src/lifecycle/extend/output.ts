/**
 * What people see of one Dockerfile application: the daemon's classic builder appends the labels kiln
 * puts on every image it builds (session and cache bookkeeping) as one last `LABEL` step. That step is
 * kiln's, not the extension's, so it is left out of the extension's output and the step count
 * ("Step 2/3" instead of "Step 2/4"); everything else passes through unchanged.
 */
const STEP = /^Step (\d+)\/(\d+) : (.*)$/;

export function extensionOutputFilter(labels: Readonly<Record<string, string>>, emit: (line: string) => void): (line: string) => void {
  const keys = Object.keys(labels);
  let hiding = false;
  return (line: string) => {
    const step = STEP.exec(line);
    if (step !== null && keys.length > 0) {
      const [, i, n, rest] = step as unknown as [string, string, string, string];
      const own = Number(n) - keys.length;
      if (Number(i) > own && rest.startsWith('LABEL ') && keys.some((k) => rest.startsWith(`LABEL ${k}=`))) {
        hiding = true;
        return;
      }
      hiding = false;
      emit(`Step ${i}/${own} : ${rest}`);
      return;
    }
    if (/^Successfully (built|tagged) /.test(line)) hiding = false;
    if (!hiding) emit(line);
  };
}

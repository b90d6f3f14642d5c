/**
 * `kiln detect --explain` as a tree: each candidate group tried (buildpack.md, "Order Resolution"), each module with its
 * status (pass / fail / error / skipped) and bin/detect exit code, and the build-plan entries it
 * provides or requires, marked matched or not against the other passing modules of the group.
 */
import type { DetectPlan } from '../cnb/models.js';
import type { TraceGroup, TraceMember } from '../lifecycle/resolve-order.js';
import type { Style } from './style.js';

export interface ExplainInput {
  builder: string;
  path: string;
  trace: TraceGroup[];
  ok: boolean;
  /** The plan bin/detect wrote, per "kind:id@version" (only for modules that passed). */
  planOf: (m: TraceMember) => DetectPlan | undefined;
}

function mark(status: TraceMember['status'], style: Style): string {
  switch (status) {
    case 'pass':
      return style.green('✓');
    case 'fail':
      return style.red('✗');
    case 'error':
      return style.red('!');
    case 'skipped-optional':
    case 'skipped-duplicate':
      return style.dim('–');
    case 'not-run':
      return style.dim('·');
  }
}

function statusText(m: TraceMember): string {
  const bits: string[] = [m.status];
  if (m.code !== undefined) bits.push(`exit ${m.code}`);
  if (m.optional) bits.push('optional');
  if (m.via.length > 0) bits.push(`via ${m.via.join(' > ')}`);
  return bits.join(', ');
}

/** Plan lines of one member: provides/requires with who matches them inside the group. */
function planLines(m: TraceMember, plan: DetectPlan, group: { m: TraceMember; plan: DetectPlan }[], style: Style): string[] {
  const others = group.filter((g) => g.m.status === 'pass');
  const lines: string[] = [];
  for (const p of plan.provides) {
    const by = others.filter((o) => o.plan.requires.some((r) => r.name === p.name)).map((o) => o.m.id);
    lines.push(`provides ${p.name} ${by.length > 0 ? style.green(`→ required by ${by.join(', ')}`) : style.yellow('→ required by nobody')}`);
  }
  for (const r of plan.requires) {
    const by = others.filter((o) => o.plan.provides.some((p) => p.name === r.name)).map((o) => o.m.id);
    lines.push(`requires ${r.name} ${by.length > 0 ? style.green(`← provided by ${by.join(', ')}`) : style.red('← provided by nobody')}`);
  }
  if (plan.or.length > 0) lines.push(style.dim(`(+${plan.or.length} [[or]] alternative${plan.or.length > 1 ? 's' : ''})`));
  return lines;
}

export function formatExplainTree(input: ExplainInput, style: Style): string[] {
  const out = [style.bold(`Order resolution for ${input.path} with ${input.builder}`)];
  input.trace.forEach((g, gi) => {
    const lastGroup = gi === input.trace.length - 1;
    const head = g.result === 'pass' ? style.green('pass') : g.result === 'fail' ? style.red('fail') : style.red('error');
    out.push(`${lastGroup ? '└──' : '├──'} group ${g.index}: ${head}${g.reason !== undefined ? style.dim(` — ${g.reason}`) : ''}`);
    const stem = lastGroup ? '    ' : '│   ';
    const withPlans = g.members.map((m) => ({ m, plan: m.status === 'pass' || m.detect === 'pass' ? input.planOf(m) : undefined }));
    const passing = withPlans.filter((x): x is { m: TraceMember; plan: DetectPlan } => x.plan !== undefined);
    withPlans.forEach(({ m, plan }, mi) => {
      const lastMember = mi === withPlans.length - 1;
      out.push(`${stem}${lastMember ? '└──' : '├──'} ${mark(m.status, style)} ${m.kind} ${m.id}@${m.version} ${style.dim(`(${statusText(m)})`)}${m.note !== undefined ? ` — ${m.note}` : ''}`);
      const inner = `${stem}${lastMember ? '    ' : '│   '}    `;
      if (plan !== undefined) for (const l of planLines(m, plan, passing, style)) out.push(`${inner}${l}`);
    });
    const failedTrial = g.trials.find((t) => !t.ok && t.reason !== undefined);
    if (g.result !== 'pass' && failedTrial?.reason !== undefined && failedTrial.reason !== g.reason) out.push(`${stem}    ${style.dim(`plan: ${failedTrial.reason}`)}`);
    if (g.trials.length > 1) out.push(`${stem}    ${style.dim(`${g.trials.length} build-plan trials`)}`);
  });
  const passed = input.trace.find((g) => g.result === 'pass');
  out.push(passed !== undefined ? style.green(`Result: group ${passed.index} passes (later groups are not tried)`) : style.red('Result: no group passed'));
  return out;
}

/**
 * The run.Dockerfiles a build applied, recorded in the app image so `kiln rebase --reextend` can apply
 * them again on a new run image (beyond pack; the lifecycle keeps no such record, platform.md, "`exporter`").
 * Label `dev.kiln.extend.run` (not io.kiln.*: that prefix is for session/test labels that sweeps remove),
 * JSON: {"version":1,"steps":[{"extension","dockerfile","args":[{name,value}],"context"?:base64 tar,
 * "appContext"?:true}]}. A step whose context was the app records appContext instead of the app's files;
 * a re-extension gives it an empty context. Contexts past MAX_CONTEXT_BYTES are not recorded (the
 * label says so with "contextOmitted"), so labels stay small.
 */
import type { ExtendArg } from '../cnb/models.js';

export const EXTEND_RECORD_LABEL = 'dev.kiln.extend.run';
/** Largest context tar (bytes, before base64) put in the label. */
export const MAX_CONTEXT_BYTES = 256 * 1024;

export interface RecordedStep {
  extensionId: string;
  dockerfile: string;
  args: ExtendArg[];
  /** The step's own context tar; undefined with appContext (the app dir) or contextOmitted. */
  context?: Buffer;
  appContext?: boolean;
  /** The context was too big to record. */
  contextOmitted?: boolean;
}

export interface StepInput {
  extensionId: string;
  dockerfile: string;
  args: ExtendArg[];
  context?: Buffer;
}

export function encodeExtendRecord(steps: readonly StepInput[]): string {
  return JSON.stringify({
    version: 1,
    steps: steps.map((s) => ({
      extension: s.extensionId,
      dockerfile: s.dockerfile,
      args: s.args.map((a) => ({ name: a.name, value: a.value })),
      ...(s.context === undefined ? { appContext: true } : s.context.length > MAX_CONTEXT_BYTES ? { contextOmitted: true } : { context: s.context.toString('base64') }),
    })),
  });
}

function fail(detail: string): never {
  throw new Error(`label ${EXTEND_RECORD_LABEL} is invalid: ${detail}`);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function decodeExtendRecord(text: string): RecordedStep[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail((e as Error).message);
  }
  if (!isObj(parsed) || parsed.version !== 1 || !Array.isArray(parsed.steps)) fail('expected {"version":1,"steps":[…]}');
  return parsed.steps.map((s: unknown, i): RecordedStep => {
    if (!isObj(s) || typeof s.extension !== 'string' || typeof s.dockerfile !== 'string' || !Array.isArray(s.args)) fail(`step ${i} needs extension, dockerfile and args`);
    const args = s.args.map((a: unknown): ExtendArg => {
      if (!isObj(a) || typeof a.name !== 'string' || typeof a.value !== 'string') fail(`step ${i} has an arg without name/value strings`);
      return { name: a.name, value: a.value };
    });
    const step: RecordedStep = { extensionId: s.extension, dockerfile: s.dockerfile, args };
    if (typeof s.context === 'string') step.context = Buffer.from(s.context, 'base64');
    if (s.appContext === true) step.appContext = true;
    if (s.contextOmitted === true) step.contextOmitted = true;
    return step;
  });
}

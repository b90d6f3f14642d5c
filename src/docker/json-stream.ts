/**
 * Follows the JSON-lines progress stream of /build, /images/load and /images/create ourselves:
 * docker-modem's follower does not fail on `{"error": ...}` lines (docs/architecture.md, "Known traps"), so every
 * message is checked for `error`/`errorDetail` and the daemon's own text becomes the rejection.
 */
import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.js';

/**
 * Cap on one JSON message (the daemon sends build output in pieces of at most 32 KiB, up to six times
 * that once JSON-escaped): a longer line cannot be parsed once cut, so it becomes a note in the output.
 */
export const JSON_LINE_CAP_BYTES = 1024 * 1024;

export interface JsonMessage {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
  id?: string;
  /** Pull progress of one layer (bytes). */
  progressDetail?: { current?: number; total?: number };
}

export class StreamError extends Error {
  constructor(
    message: string,
    readonly messages: JsonMessage[],
  ) {
    super(message);
    this.name = 'StreamError';
  }
}

function decode(line: string): JsonMessage | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const o = parsed as Record<string, unknown>;
    const msg: JsonMessage = {};
    if (typeof o.stream === 'string') msg.stream = o.stream;
    if (typeof o.status === 'string') msg.status = o.status;
    if (typeof o.error === 'string') msg.error = o.error;
    if (typeof o.id === 'string') msg.id = o.id;
    if (typeof o.errorDetail === 'object' && o.errorDetail !== null) {
      const d = o.errorDetail as Record<string, unknown>;
      msg.errorDetail = {};
      if (typeof d.message === 'string') msg.errorDetail.message = d.message;
      if (typeof d.code === 'number') msg.errorDetail.code = d.code;
    }
    if (typeof o.progressDetail === 'object' && o.progressDetail !== null) {
      const p = o.progressDetail as Record<string, unknown>;
      msg.progressDetail = {};
      if (typeof p.current === 'number') msg.progressDetail.current = p.current;
      if (typeof p.total === 'number') msg.progressDetail.total = p.total;
    }
    if (typeof o.aux === 'object' && o.aux !== null) {
      const a = o.aux as Record<string, unknown>;
      msg.aux = typeof a.ID === 'string' ? { ID: a.ID } : {};
    }
    return msg;
  } catch {
    // A non-JSON line (should not happen): keep it as plain output.
    return { stream: line };
  }
}

/**
 * Reads the whole stream; resolves with every message, or rejects with a StreamError carrying the
 * first error line's text (errorDetail.message, else error). With `keep: false` the messages are only
 * passed to onMessage, not collected (a build's output can be any size).
 */
export function followJsonStream(stream: Readable, onMessage?: (m: JsonMessage) => void, opts: { keep?: boolean } = {}): Promise<JsonMessage[]> {
  return new Promise((resolve, reject) => {
    const messages: JsonMessage[] = [];
    let failure: string | undefined;
    const splitter = new LineSplitter((line, cutFrom) => {
      const m = cutFrom === undefined ? decode(line) : { stream: `[kiln: a message of ${cutFrom} bytes from the daemon was dropped, over the ${JSON_LINE_CAP_BYTES} bytes limit]\n` };
      if (m === undefined) return;
      if (opts.keep !== false) messages.push(m);
      if (failure === undefined && (m.error !== undefined || m.errorDetail !== undefined)) {
        failure = (m.errorDetail?.message ?? m.error ?? 'unknown error').trim();
      }
      onMessage?.(m);
    }, { maxBytes: JSON_LINE_CAP_BYTES });
    stream.on('data', (chunk: Buffer | string) => splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('error', (e) => reject(e));
    stream.on('end', () => {
      splitter.flush();
      if (failure !== undefined) reject(new StreamError(failure, messages));
      else resolve(messages);
    });
  });
}

/**
 * File names are bytes; a Linux app may hold names that are not UTF-8 (latin-1 from an old archive, say).
 * Such a name is carried through kiln as a string with each byte that is not part of valid UTF-8 stored
 * as one code unit U+DC80..U+DCFF (a lone low surrogate, as Python's "surrogateescape" does), so it can
 * be joined and compared like any path, and turned back into the exact bytes for the file system
 * (fsPath) and for the tar header (tar-files.ts writes it as a PAX `path`, which the daemon takes as bytes).
 */
const ESCAPE_BASE = 0xdc00;

/** The name's string form: valid UTF-8 decoded, every other byte escaped. */
export function decodeName(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') || Buffer.from(text, 'utf8').equals(bytes)) return text;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes, i);
    if (len > 0) {
      out += bytes.subarray(i, i + len).toString('utf8');
      i += len;
    } else {
      out += String.fromCharCode(ESCAPE_BASE + (bytes[i] as number));
      i += 1;
    }
  }
  return out;
}

/** Whether `s` holds escaped bytes (only names read from a non-UTF-8 file system do). */
export function hasRawBytes(s: string): boolean {
  return /[\uDC80-\uDCFF]/.test(s) && [...s].some((c) => c.length === 1 && c.charCodeAt(0) >= 0xdc80 && c.charCodeAt(0) <= 0xdcff);
}

/** The exact bytes of a name made by decodeName. */
export function encodeName(s: string): Buffer {
  if (!hasRawBytes(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  for (const c of s) {
    const code = c.length === 1 ? c.charCodeAt(0) : -1;
    parts.push(code >= 0xdc80 && code <= 0xdcff ? Buffer.of(code - ESCAPE_BASE) : Buffer.from(c, 'utf8'));
  }
  return Buffer.concat(parts);
}

/** A path for node:fs: the string itself, or its bytes when it holds escaped bytes. */
export function fsPath(s: string): string | Buffer {
  return hasRawBytes(s) ? encodeName(s) : s;
}

/** Length of the valid UTF-8 sequence starting at i (0 when the byte there does not start one). */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len === 0 || i + len > b.length) return 0;
  for (let k = 1; k < len; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return 0;
  // Overlong forms, surrogates and code points above U+10FFFF are not valid UTF-8.
  return Buffer.from(b.subarray(i, i + len).toString('utf8'), 'utf8').equals(b.subarray(i, i + len)) && !b.subarray(i, i + len).toString('utf8').includes('\uFFFD') ? len : 0;
}

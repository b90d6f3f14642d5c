/** Single-quoted for sh: any byte string becomes one word. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * PURE: the 1-based line of a key in TOML text, for messages about a decoded key path
 * ("buildpack.id", "targets[0].os", "build.args[1].name"). Decoding works on parsed values, which have
 * no lines; this finds the line the way a reader would: the table header of the path's table part, then
 * the key inside it (the n-th header for an array-of-tables index). Undefined when not found.
 */
function headerRe(table: string): RegExp {
  const esc = table.replace(/[.[\]]/g, (c) => `\\${c}`);
  return new RegExp(`^\\s*\\[\\[?\\s*${esc}\\s*\\]\\]?\\s*(#.*)?$`);
}

export function lineOfKey(text: string, keyPath: string): number | undefined {
  const lines = text.split('\n');
  const parts = keyPath.split('.').map((p) => {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(p);
    return { name: m?.[1] ?? p, index: m?.[2] !== undefined ? Number(m[2]) : undefined };
  });
  const key = parts[parts.length - 1];
  if (key === undefined) return undefined;
  // The table the key lives in: every part before the last, plus the last when it has an index (a table of an array).
  const tableParts = key.index !== undefined ? parts : parts.slice(0, -1);
  let start = 0;
  if (tableParts.length > 0) {
    const name = tableParts.map((p) => p.name).join('.');
    const idx = tableParts[tableParts.length - 1]?.index ?? 0;
    const re = headerRe(name);
    let seen = -1;
    start = -1;
    for (let i = 0; i < lines.length; i++) {
      if (re.test(lines[i] ?? '') && ++seen === idx) {
        start = i;
        break;
      }
    }
    if (start < 0) return undefined;
    if (key.index !== undefined) return start + 1;
    start += 1;
  }
  const keyRe = new RegExp(`^\\s*"?${key.name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}"?\\s*=`);
  for (let i = start; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (/^\s*\[/.test(l)) break;
    if (keyRe.test(l)) return i + 1;
  }
  return undefined;
}

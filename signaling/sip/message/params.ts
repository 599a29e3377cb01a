/**
 * Generic parameter lists (RFC 3261 §25.1 generic-param: `;name[=value]`), shared by Via,
 * name-addr header params and URI params. Values keep their quotes when quoted.
 */

/**
 * Parses `;a=1;b;c="x;y"` (leading ';' optional) into a map with lower-cased names.
 * Returns undefined when a parameter name is empty or a quoted value is unterminated.
 */
export function parseParams(text: string, start = 0, end = text.length): Map<string, string | null> | undefined {
  const out = new Map<string, string | null>();
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x3b || c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    let j = i;
    while (j < end) {
      const d = text.charCodeAt(j);
      if (d === 0x3d || d === 0x3b) break;
      j++;
    }
    const name = text.slice(i, j).trim().toLowerCase();
    if (name.length === 0) return undefined;
    if (j < end && text.charCodeAt(j) === 0x3d) {
      let k = j + 1;
      while (k < end && (text.charCodeAt(k) === 0x20 || text.charCodeAt(k) === 0x09)) k++;
      let v: string;
      if (k < end && text.charCodeAt(k) === 0x22) {
        let q = k + 1;
        while (q < end && text.charCodeAt(q) !== 0x22) q += text.charCodeAt(q) === 0x5c ? 2 : 1;
        if (q >= end) return undefined;
        v = text.slice(k, q + 1);
        i = q + 1;
      } else {
        let q = k;
        while (q < end && text.charCodeAt(q) !== 0x3b) q++;
        v = text.slice(k, q).trim();
        i = q;
      }
      out.set(name, v);
    } else {
      out.set(name, null);
      i = j;
    }
  }
  return out;
}

/** Writes a parameter map as `;a=1;b`. */
export function writeParams(params: ReadonlyMap<string, string | null>): string {
  let s = '';
  for (const [k, v] of params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

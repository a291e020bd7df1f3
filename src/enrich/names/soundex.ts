// American Soundex: the blocking key that groups candidate pairs by how a name sounds.

// Codes for a..z; 0 marks letters that are dropped (vowels, y) and 7 marks h/w, which do not split equal codes.
const CODES = [0, 1, 2, 3, 0, 1, 2, 7, 0, 2, 2, 4, 5, 5, 0, 1, 2, 6, 2, 3, 0, 1, 7, 2, 0, 2];

/** Four-character Soundex code of a lower-case ASCII name, or '' when it has no letters. */
export function soundex(name: string): string {
  let out = '';
  let last = -1;
  for (let i = 0; i < name.length && out.length < 4; i++) {
    const c = name.charCodeAt(i) - 97;
    if (c < 0 || c > 25) continue;
    const code = CODES[c] ?? 0;
    if (out.length === 0) {
      out = String.fromCharCode(c + 65);
      last = code;
      continue;
    }
    if (code === 7) continue;
    if (code !== 0 && code !== last) out += String(code);
    last = code;
  }
  return out.length === 0 ? '' : out.padEnd(4, '0');
}

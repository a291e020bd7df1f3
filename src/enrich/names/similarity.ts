// Edit-style comparisons for name tokens that Jaro-Winkler judges badly: one keying slip in a short
// name, and letters kept but reordered. Both run per candidate pair, so they avoid allocation.

/**
 * Whether two strings differ by one keying slip (Damerau): one character substituted, inserted or
 * dropped, or two neighbours swapped. Insertions and drops count only from `minLen` characters up,
 * because "jon"/"john" and "ann"/"anna" are different names as often as they are slips.
 */
export function oneEdit(a: string, b: string, minLen = 4): boolean {
  const la = a.length;
  const lb = b.length;
  if (la === lb) {
    let first = -1;
    let diff = 0;
    for (let i = 0; i < la; i++) {
      if (a.charCodeAt(i) === b.charCodeAt(i)) continue;
      if (++diff > 2) return false;
      if (first < 0) first = i;
    }
    if (diff <= 1) return true;
    return a.charCodeAt(first) === b.charCodeAt(first + 1) && a.charCodeAt(first + 1) === b.charCodeAt(first);
  }
  const [s, l] = la < lb ? [a, b] : [b, a];
  if (l.length - s.length !== 1 || s.length < minLen) return false;
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === l.charCodeAt(i)) i++;
  for (let j = i; j < s.length; j++) if (s.charCodeAt(j) !== l.charCodeAt(j + 1)) return false;
  return true;
}

// Letter counts reused across calls: names are lower-case ASCII after normalisation; other code
// points share buckets by their low bits, which can only make two names look more alike, never less.
const counts = new Int32Array(128);

/**
 * Bag distance (Bartolini et al., one of Febrl's string comparators): how many letters one string
 * has that the other lacks, the larger of the two ways, ignoring order. 0 for anagrams.
 */
export function bagDistance(a: string, b: string): number {
  return (a.length > b.length ? a.length : b.length) - commonLetters(a, b);
}

/** How many letters two strings share, counted with multiplicity and ignoring order. */
export function commonLetters(a: string, b: string): number {
  for (let i = 0; i < a.length; i++) counts[a.charCodeAt(i) & 127]!++;
  let common = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i) & 127;
    if (counts[c]! > 0) {
      counts[c]!--;
      common++;
    }
  }
  for (let i = 0; i < a.length; i++) counts[a.charCodeAt(i) & 127] = 0;
  return common;
}

// Given-name equivalence (Bob = Robert) from the carltonnorthern/nicknames table (Apache-2.0, see NOTICE).
import { readFileSync } from 'node:fs';

let roots: Map<string, readonly string[]> | undefined;

// The table is read on first use, not at import, so modules that never score names pay nothing.
function table(): Map<string, readonly string[]> {
  if (roots !== undefined) return roots;
  const text = readFileSync(new URL('../data/nicknames.csv', import.meta.url), 'utf8');
  const sets = new Map<string, Set<string>>();
  // One string object per formal name, so root lists compare by reference in the common case.
  const canonical = new Map<string, string>();
  const canon = (s: string): string => {
    const c = canonical.get(s);
    if (c !== undefined) return c;
    canonical.set(s, s);
    return s;
  };
  const add = (name: string, root: string): void => {
    let s = sets.get(name);
    if (s === undefined) sets.set(name, (s = new Set([canon(name)])));
    s.add(canon(root));
  };
  for (const line of text.split('\n')) {
    const [formal, rel, nick] = line.trim().split(',');
    if (formal === undefined || nick === undefined || rel !== 'has_nickname') continue;
    add(formal, formal);
    add(nick, formal);
  }
  roots = new Map([...sets].map(([k, v]) => [k, [...v]]));
  return roots;
}

/**
 * Formal names a given name can stand for, itself included. Two names are equivalent when these
 * lists intersect: Bob and Robert directly, Bobby and Rob through Robert.
 */
export function nicknameRoots(name: string): readonly string[] {
  return table().get(name) ?? [name];
}

/** Whether two normalised given names are the same name by the nickname table. */
export function areNicknames(a: string, b: string): boolean {
  if (a === b) return true;
  return rootsIntersect(nicknameRoots(a), nicknameRoots(b));
}

/** Whether two root lists from nicknameRoots share a name. */
export function rootsIntersect(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) for (const y of b) if (x === y) return true;
  return false;
}

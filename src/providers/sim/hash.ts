// Deterministic numbers from a seed and strings: the same input and seed give the same answer.
import { createHash } from 'node:crypto';

/** A number in [0, 1) from the seed and the parts. */
export function unit(seed: string, ...parts: (string | number)[]): number {
  const digest = createHash('sha256').update(`${seed}\u0000${parts.join('\u0000')}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** A hex string of `length` characters from the seed and the parts. */
export function hex(length: number, seed: string, ...parts: (string | number)[]): string {
  return createHash('sha256').update(`${seed}\u0001${parts.join('\u0000')}`).digest('hex').slice(0, length);
}

/** One of the items, chosen by the seed and the parts. */
export function pick<T>(items: readonly T[], seed: string, ...parts: (string | number)[]): T {
  return items[Math.floor(unit(seed, 'pick', ...parts) * items.length)] as T;
}

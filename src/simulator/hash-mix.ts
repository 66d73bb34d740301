/**
 * The deterministic hashing both generated populations (population.ts and
 * cloud/population.ts) are built on: murmur3's 32-bit finalizer, a bijection
 * on 32-bit integers, and its inverse. A population hash of entry i is
 * `saltedHex(i, salt, checks)`: the first word mixes i with the salt, so it
 * can be undone (`indexOfHead`); each further word mixes that first word
 * with one check salt, so a lookup can tell a real hash from a made-up one by
 * rebuilding it. Each population keeps its own salts; what keeps two of them
 * apart is argued where the salts are chosen.
 */

const MIX_1 = 0x85ebca6b;
const MIX_2 = 0xc2b2ae35;

function inverseOdd(a: number): number {
  // Newton's iteration for the inverse modulo 2^32 (each round doubles the correct bits).
  let x = a;
  for (let round = 0; round < 5; round += 1) x = Math.imul(x, 2 - Math.imul(a, x));
  return x;
}
const MIX_1_INVERSE = inverseOdd(MIX_1);
const MIX_2_INVERSE = inverseOdd(MIX_2);

/** murmur3's 32-bit finalizer: random-looking, and a bijection (unmix undoes it). */
export function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, MIX_1);
  h ^= h >>> 13;
  h = Math.imul(h, MIX_2);
  h ^= h >>> 16;
  return h >>> 0;
}

export function unmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, MIX_2_INVERSE);
  h ^= (h >>> 13) ^ (h >>> 26);
  h = Math.imul(h, MIX_1_INVERSE);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of i under a salt: different salts give independent-looking families of hashes of the same i. */
export function saltedMix(i: number, salt: number): number {
  return mix((i ^ salt) >>> 0);
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** 8 lower-case hex digits per word: the head `saltedMix(i, salt)`, then `mix(head ^ check)` for each check salt. */
export function saltedHex(i: number, salt: number, checks: readonly number[]): string {
  const head = saltedMix(i, salt);
  return hex8(head) + checks.map((check) => hex8(mix((head ^ check) >>> 0))).join('');
}

/** The i whose saltedHex under `salt` starts with this hex text's first 8 digits; whether the rest matches is the caller's check. */
export function indexOfHead(hex: string, salt: number): number {
  return (unmix(Number.parseInt(hex.slice(0, 8), 16)) ^ salt) >>> 0;
}

/**
 * The project's seeded random number generator: xoshiro128** (Blackman & Vigna)
 * with its 128-bit state expanded from the seed by splitmix32.
 *
 * Everything random in shaderprop (weight initialisation, shuffling, data splits)
 * draws from an `Rng`, so a run is reproduced exactly by its seed. Independent
 * streams for separate purposes come from `fork(label)`, which depends only on the
 * generator's seed and the label, never on how many numbers were drawn before.
 */

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_53 = 2 ** 53;

/** A 32-bit integer finaliser with low bias (Chris Wellons' "lowbias32"). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Four words from splitmix32 started at `seed`: the usual way to fill a xoshiro state. */
function splitmix32x4(seed: number): [number, number, number, number] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    return mix32(state);
  };
  return [next(), next(), next(), next()];
}

/** Hashes a sequence of 32-bit words into one word, distinct per `lane`. */
function absorb(lane: number, words: readonly number[]): number {
  let h = mix32(0x6a09e667 ^ lane);
  for (const w of words) h = mix32((h ^ (w >>> 0)) + 0x9e3779b9);
  return h;
}

type State = [number, number, number, number];

export class Rng {
  /** xoshiro128** state, four unsigned 32-bit words, never all zero. */
  private s: State;
  /** What `fork` derives from: the state this generator started with. */
  private key: State;
  /** The second Box–Muller value, kept for the next `normal()` call. */
  private spare: number | undefined;

  /**
   * A generator for `seed`, any safe integer (negative ones included); equal seeds
   * give equal streams.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Rng seed must be a safe integer, got ${seed}; pass e.g. 42.`);
    }
    // Both halves of a 53-bit seed matter: the high half perturbs the splitmix start.
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    const words = splitmix32x4(lo ^ mix32(hi ^ 0x85ebca6b));
    this.key = Rng.nonZero(words);
    this.s = [...this.key];
  }

  /** A generator started at the exact xoshiro128** `state` (four u32 words, not all zero); e.g. for checkpoints or reference vectors. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w >= TWO_POW_32)) {
      throw new RangeError(`Rng.fromState needs four unsigned 32-bit integers, got [${state.join(', ')}].`);
    }
    if (state.every((w) => w === 0)) throw new RangeError('Rng.fromState: an all-zero xoshiro state never leaves zero.');
    const rng = new Rng(0);
    rng.key = [state[0]!, state[1]!, state[2]!, state[3]!];
    rng.s = [...rng.key];
    return rng;
  }

  private static nonZero(words: State): State {
    return words.every((w) => w === 0) ? [0x9e3779b9, 0x243f6a88, 0xb7e15162, 0x7f4a7c15] : words;
  }

  /** The current state (four u32 words): `Rng.fromState(rng.getState())` continues the stream (a cached normal is not kept). */
  getState(): number[] {
    return [...this.s];
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits (two `nextU32` draws). */
  next(): number {
    const high = this.nextU32() >>> 5; // 27 bits
    const low = this.nextU32() >>> 6; // 26 bits
    return (high * 0x400_0000 + low) / TWO_POW_53;
  }

  /** A uniform integer in [0, n) without modulo bias, for 1 ≤ n ≤ 2^32 (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.nextInt(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}.`);
    }
    // Accept only draws below the largest multiple of n that fits in 32 bits.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** A standard normal sample (mean 0, variance 1) by the Box–Muller transform; values come in pairs, the second is cached. */
  normal(): number {
    if (this.spare !== undefined) {
      const value = this.spare;
      this.spare = undefined;
      return value;
    }
    const u1 = 1 - this.next(); // (0, 1]: the logarithm stays finite
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Shuffles `array` in place (Fisher–Yates, every permutation equally likely) and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    const a = array as { length: number; [index: number]: unknown };
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = a[i];
      a[i] = a[j];
      a[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0 … n−1. */
  permutation(n: number): Uint32Array {
    const indices = new Uint32Array(n);
    for (let i = 0; i < n; i++) indices[i] = i;
    return this.shuffle(indices);
  }

  /**
   * An independent generator derived from this one's seed (its starting state) and
   * `label`; the same seed and label always give the same stream, whatever has been
   * drawn from this generator, and different labels give unrelated streams.
   */
  fork(label: string): Rng {
    const words: number[] = [...this.key, label.length];
    for (let i = 0; i < label.length; i++) words.push(label.charCodeAt(i));
    const state = Rng.nonZero([absorb(1, words), absorb(2, words), absorb(3, words), absorb(4, words)]);
    return Rng.fromState(state);
  }
}

/**
 * The tests' seeded pseudo-random generator, kept apart from the product's
 * (src/data/random.ts) like every twin here: mulberry32 style, a 32-bit
 * counter stepped by an odd constant, then scrambled by xor-shift-multiply.
 * Not cryptographic; just reproducible.
 */
export interface TestRng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1) (Box–Muller). */
  normal(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer uniform in [0, n). */
  int(n: number): number;
}

export function makeRng(seed: number): TestRng {
  let state = seed >>> 0;
  let spareNormal: number | undefined;

  // next = scramble(state += 0x6D2B79F5) / 2^32
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  // Box–Muller: two uniforms u1 in (0, 1], u2 in [0, 1) give two independent normals.
  const normal = (): number => {
    if (spareNormal !== undefined) {
      const s = spareNormal;
      spareNormal = undefined;
      return s;
    }
    const u1 = 1 - next();
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };

  return {
    next,
    normal,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
  };
}

/** A Float64Array of n standard normals times `scale`. */
export function randomNormalArray(rng: TestRng, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** A Float64Array of n uniforms in [lo, hi). */
export function randomUniformArray(rng: TestRng, n: number, lo: number, hi: number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

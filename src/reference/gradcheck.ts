/**
 * Finite-difference gradients: the judge of every analytic backward.
 */

/**
 * Central differences: g_i = (f(x + h·e_i) − f(x − h·e_i)) / (2h).
 * f is called on a private copy of x (x itself is never modified); f must not
 * keep a reference to its argument. Error is O(h²) truncation plus
 * O(ε·|f| / h) roundoff, about 1e-10 relative for h = 1e-6 in f64.
 */
export function numericalGradient(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  h = 1e-6,
): Float64Array {
  const probe = Float64Array.from(x);
  const grad = new Float64Array(probe.length);
  for (let i = 0; i < probe.length; i++) {
    const orig = probe[i]!;
    probe[i] = orig + h;
    const fPlus = f(probe);
    probe[i] = orig - h;
    const fMinus = f(probe);
    probe[i] = orig;
    grad[i] = (fPlus - fMinus) / (2 * h);
  }
  return grad;
}

/**
 * ‖a − n‖₂ / max(‖a‖₂ + ‖n‖₂, tiny): the relative error of an analytic gradient a
 * against a numerical one n. 0 when both are exactly zero; NaN if either has a NaN.
 */
export function gradientRelativeError(analytic: ArrayLike<number>, numeric: ArrayLike<number>): number {
  if (analytic.length !== numeric.length) {
    throw new Error(`gradientRelativeError: length ${analytic.length} vs ${numeric.length}`);
  }
  let diff2 = 0;
  let a2 = 0;
  let n2 = 0;
  for (let i = 0; i < analytic.length; i++) {
    const a = analytic[i]!;
    const n = numeric[i]!;
    diff2 += (a - n) * (a - n);
    a2 += a * a;
    n2 += n * n;
  }
  const denom = Math.sqrt(a2) + Math.sqrt(n2);
  if (denom === 0) return Number.isNaN(diff2) ? NaN : 0;
  return Math.sqrt(diff2) / Math.max(denom, 1e-300);
}

/** Σ_i a_i · b_i, the scalar objective L = Σ dy ⊙ y used to check a layer's backward. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`dot: length ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * Dense linear algebra in f64 on the CPU, for the small sequential steps of
 * the classic baselines: Cholesky factorisation, log-determinant, inverse of
 * a triangular factor, and triangular solves.
 *
 * Matrices are n × n, row-major, in a Float64Array (`m[i * n + j]`). The
 * loops run along rows (contiguous memory), so each one is a dot product or
 * an axpy over a row prefix: a 784 × 784 factorisation takes about 0.1 s.
 */

/** A matrix that is not (numerically) positive definite: which pivot failed and its value. */
export class NotPositiveDefiniteError extends Error {
  constructor(
    /** Row (and column) of the failing pivot, 0-based. */
    readonly pivot: number,
    /** The pivot's value before the square root: ≤ 0, or too small against the diagonal. */
    readonly value: number,
    message: string,
  ) {
    super(message);
    this.name = 'NotPositiveDefiniteError';
  }
}

/**
 * The lower-triangular Cholesky factor L of a symmetric positive definite
 * matrix m (only its lower triangle is read): m = L Lᵀ. Row by row:
 *
 *   L[i, j] = (m[i, j] − Σ_{k<j} L[i, k]·L[j, k]) / L[j, j]   for j < i
 *   L[i, i] = √(m[i, i] − Σ_{k<i} L[i, k]²)
 *
 * A pivot m[i, i] − Σ L[i, k]² that is not above n·ε times the largest
 * diagonal entry (ε = 2⁻⁵²) is rounding noise, not a variance: the matrix is
 * singular to working precision and NotPositiveDefiniteError is thrown.
 */
export function cholesky(m: Float64Array, n: number): Float64Array {
  checkSquare('cholesky', m, n);
  let largest = 0;
  for (let i = 0; i < n; i++) largest = Math.max(largest, Math.abs(m[i * n + i]!));
  const floor = n * Number.EPSILON * largest;
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j <= i; j++) {
      const other = j * n;
      let sum = m[row + j]!;
      for (let k = 0; k < j; k++) sum -= l[row + k]! * l[other + k]!;
      if (j < i) {
        l[row + j] = sum / l[other + j]!;
      } else {
        if (!(sum > floor)) {
          throw new NotPositiveDefiniteError(
            i,
            sum,
            `cholesky: the matrix is not positive definite: pivot ${i} of ${n} is ${sum} ` +
              `(it must be above ${floor.toExponential(2)}, n·ε times the largest diagonal entry).`,
          );
        }
        l[row + i] = Math.sqrt(sum);
      }
    }
  }
  return l;
}

/** log det(L Lᵀ) = 2 Σ log L[i, i] for a Cholesky factor L. */
export function choleskyLogDet(l: Float64Array, n: number): number {
  checkSquare('choleskyLogDet', l, n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.log(l[i * n + i]!);
  return 2 * sum;
}

/**
 * The inverse A = L⁻¹ of a lower-triangular L (A is lower triangular too).
 * From A L = I, row by row, each row of A a combination of the rows above it:
 *
 *   A[i, :] = (e_i − Σ_{k<i} L[i, k]·A[k, :]) / L[i, i]
 *
 * (row k of A is zero past column k, so each update touches k + 1 entries).
 */
export function invertLower(l: Float64Array, n: number): Float64Array {
  checkSquare('invertLower', l, n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < i; k++) {
      const factor = l[row + k]!;
      if (factor === 0) continue;
      const other = k * n;
      for (let j = 0; j <= k; j++) a[row + j]! -= factor * a[other + j]!;
    }
    a[row + i] = 1;
    const inverse = 1 / l[row + i]!;
    for (let j = 0; j <= i; j++) a[row + j]! *= inverse;
  }
  return a;
}

/** The solution z of L z = b for a lower-triangular L (forward substitution). */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  checkSquare('solveLower', l, n);
  if (b.length !== n) throw new RangeError(`solveLower: the right-hand side has ${b.length} entries, the matrix ${n} rows.`);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[row + k]! * z[k]!;
    z[i] = sum / l[row + i]!;
  }
  return z;
}

function checkSquare(what: string, m: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 1 || m.length !== n * n) {
    throw new RangeError(`${what}: expected an n × n matrix with n = ${n} (${n * n} entries), got ${m.length} entries.`);
  }
}

/**
 * Comparing arrays: the check every GPU-vs-reference test ends with.
 */

export interface CloseOptions {
  /** Absolute tolerance. */
  atol?: number;
  /** Relative tolerance, scaled by |expected|. */
  rtol?: number;
  /** Names the comparison in the error message. */
  label?: string;
}

/** max_i |a_i − e_i| (NaN if either side has a NaN at some i; throws on length mismatch). */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) {
    throw new Error(`maxAbsDiff: length ${actual.length} vs ${expected.length}`);
  }
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > worst) worst = d;
  }
  return worst;
}

/** True when |a − e| ≤ atol + rtol·|e|. NaN never passes; equal infinities do. */
function isClose(a: number, e: number, atol: number, rtol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return false;
  if (a === e) return true; // covers +∞ == +∞
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/**
 * Throws unless every element satisfies |a − e| ≤ atol + rtol·|e| (NaN never passes).
 * The message gives the label, the count of mismatches, the worst |diff| and the
 * first 8 mismatching indices with their actual and expected values.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: CloseOptions = {},
): void {
  const atol = options.atol ?? 1e-6;
  const rtol = options.rtol ?? 1e-6;
  const label = options.label ?? 'assertClose';
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length mismatch: actual ${actual.length}, expected ${expected.length}`);
  }
  let mismatches = 0;
  let worst = 0;
  let sawNaN = false;
  const first: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (isClose(a, e, atol, rtol)) continue;
    mismatches++;
    const d = Math.abs(a - e);
    if (Number.isNaN(d)) sawNaN = true;
    else if (d > worst) worst = d;
    if (first.length < 8) first.push(`  [${i}] actual ${a}, expected ${e}, |diff| ${d}`);
  }
  if (mismatches > 0) {
    throw new Error(
      `${label}: ${mismatches} of ${actual.length} elements differ ` +
        `(atol ${atol}, rtol ${rtol}); worst |diff| ${sawNaN ? `NaN (largest finite ${worst})` : worst}; first mismatches:\n${first.join('\n')}`,
    );
  }
}

/** Throws unless `array.length === expected`; `what` names the array in the message. */
export function expectLength(what: string, array: ArrayLike<number>, expected: number): void {
  if (array.length !== expected) {
    throw new Error(`${what}: length ${array.length}, expected ${expected}`);
  }
}

/**
 * The seed spread's statistics, and how it reads a notebook's number: as the
 * interval of accuracies that print as it with the decimals it was printed
 * with (0.92 → [0.915, 0.925]).
 */
import { describe, expect, it } from 'vitest';
import { describeReported, meanAndSd, printedDigits, printedInterval, seedSpread } from '../../src/experiments/seeds.js';
import { runResult } from '../report/fixtures.js';

/** One id's results with these test accuracies (seeds 1, 2, ...) and the notebook's `reported`. */
const base = runResult({ id: 's-test' });
function seeds(reported: number | null, accuracies: number[]) {
  return accuracies.map((accuracy, i) => ({ ...base, reported, seed: i + 1, test: { ...base.test, accuracy } }));
}

/**
 * Reference, by enumeration: does some accuracy a/10^6 in [min, max] round to
 * `reported` at its digits? On integers, away from binary fractions; a tie
 * may round either way (half up or half to even).
 */
function somePrintsAs(reported: number, digits: number, min: number, max: number): boolean {
  const scale = 10 ** (6 - digits);
  const target = Math.round(reported * 10 ** digits) * scale;
  for (let a = Math.round(min * 1e6); a <= Math.round(max * 1e6); a++) {
    if (2 * Math.abs(a - target) <= scale) return true;
  }
  return false;
}

describe('seed spread', () => {
  it('mean and sample standard deviation', () => {
    expect(meanAndSd([1, 2, 3, 4])).toEqual({ mean: 2.5, sd: Math.sqrt(5 / 3) });
    expect(meanAndSd([0.9])).toEqual({ mean: 0.9, sd: 0 });
    expect(() => meanAndSd([])).toThrow(/no values/);
  });

  it('counts the decimals a number is written with', () => {
    expect([0.92, 0.9723, 0.954, 0.9569, 1, 0, 0.5, 1e-7, 1.5e-7, 12.25].map(printedDigits)).toEqual([2, 4, 3, 4, 0, 0, 1, 7, 8, 2]);
    expect(() => printedDigits(NaN)).toThrow(/not a finite number/);
  });

  it('reads a number as ± half a unit in its last printed place', () => {
    const [lo2, hi2] = printedInterval(0.92);
    expect(lo2).toBeCloseTo(0.915, 12);
    expect(hi2).toBeCloseTo(0.925, 12);
    const [lo4, hi4] = printedInterval(0.9723);
    expect(lo4).toBeCloseTo(0.97225, 12);
    expect(hi4).toBeCloseTo(0.97235, 12);
    expect(describeReported(0.92)).toBe("notebook's 0.92 (0.915–0.925 as printed)");
    expect(describeReported(0.954)).toBe("notebook's 0.954 (0.9535–0.9545 as printed)");
    expect(describeReported(0.9723)).toBe("notebook's 0.9723");
  });

  it('finds the notebook inside the seeds when one of their accuracies prints as its number', () => {
    // 0.92 printed to two decimals: seeds 0.9146–0.9168 reach 0.915–0.925.
    const twoDigits = seedSpread(seeds(0.92, [0.9146, 0.9168, 0.9150]));
    expect(twoDigits.reportedInterval![0]).toBeCloseTo(0.915, 12);
    expect(twoDigits.notebookInRange).toBe(true);
    // Below 0.915 every seed prints as 0.91.
    expect(seedSpread(seeds(0.92, [0.9101, 0.9149])).notebookInRange).toBe(false);
    // Both ends of the interval count: a tie may have rounded either way.
    expect(seedSpread(seeds(0.92, [0.9, 0.915])).notebookInRange).toBe(true);
    expect(seedSpread(seeds(0.92, [0.925, 0.93])).notebookInRange).toBe(true);
    // Four decimals leave no slack: 0.9723 is not inside 0.9700–0.9722.
    expect(seedSpread(seeds(0.9723, [0.9700, 0.9722])).notebookInRange).toBe(false);
    expect(seedSpread(seeds(0.9723, [0.9700, 0.9723])).notebookInRange).toBe(true);
    // No notebook number: nothing to compare.
    expect(seedSpread(seeds(null, [0.9, 0.91]))).toMatchObject({ reportedInterval: null, notebookInRange: null, notebookWithinTwoSd: null });
  });

  it('agrees with rounding every accuracy in the range, on a grid of cases', () => {
    let inside = 0;
    let outside = 0;
    for (const reported of [0.92, 0.97, 0.954, 0.9723]) {
      const digits = printedDigits(reported);
      for (let lo = reported - 0.012; lo < reported + 0.012; lo += 0.00037) {
        for (const width of [0, 0.0003, 0.0041]) {
          // Accuracies on a 10,000-image test set: multiples of 1e-4.
          const min = Math.round(lo * 1e4) / 1e4;
          const max = Math.round((lo + width) * 1e4) / 1e4;
          const expected = somePrintsAs(reported, digits, min, max);
          expect(seedSpread(seeds(reported, [min, max])).notebookInRange, `${reported} in ${min}–${max}`).toBe(expected);
          if (expected) inside++;
          else outside++;
        }
      }
    }
    expect(inside).toBeGreaterThan(20);
    expect(outside).toBeGreaterThan(20);
  });

  it('mean ± 2 sd reads the notebook\'s number the same way', () => {
    // mean 0.91, sd 0.001: mean + 2 sd = 0.912 misses 0.915–0.925, and 0.914 below 0.915 too.
    expect(seedSpread(seeds(0.92, [0.909, 0.911])).notebookWithinTwoSd).toBe(false);
    // mean 0.913, sd ≈ 0.00141: mean + 2 sd ≈ 0.9158 reaches 0.915.
    expect(seedSpread(seeds(0.92, [0.912, 0.914])).notebookWithinTwoSd).toBe(true);
  });

  it('refuses results of different ids', () => {
    const mixed = [...seeds(0.92, [0.9]), { ...seeds(0.92, [0.9])[0]!, id: 's-other' }];
    expect(() => seedSpread(mixed)).toThrow(/s-test and s-other mixed/);
    expect(() => seedSpread([])).toThrow(/no results/);
  });
});

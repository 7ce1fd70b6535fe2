/**
 * One id trained with several seeds (`shaderprop run --seeds N`): the spread
 * of its test accuracy, and whether the notebook's number lies inside it.
 *
 * A notebook's number stands for every accuracy that prints as it: the
 * registry writes each as the notebook printed it, so 0.92 (two decimals)
 * is the interval [0.915, 0.925] and 0.9723 is [0.97225, 0.97235], both
 * ends included (a tie may have rounded either way). The spread contains the
 * notebook's number when that interval meets [min, max] of the seeds.
 */
import type { ExperimentResult, SeedSpread } from './result.js';

export type { SeedSpread } from './result.js';


/** Mean and sample standard deviation (n − 1; 0 for fewer than two values). */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number } {
  if (values.length === 0) throw new Error('meanAndSd: no values.');
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length < 2) return { mean, sd: 0 };
  const squares = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(squares / (values.length - 1)) };
}

/** Decimal places of `x` in its shortest form, as the registry writes it: 0.92 → 2, 0.9723 → 4, 1 → 0, 1e-7 → 7. */
export function printedDigits(x: number): number {
  if (!Number.isFinite(x)) throw new Error(`printedDigits: ${x} is not a finite number.`);
  const [mantissa, exponent] = String(Math.abs(x)).split('e');
  const decimals = mantissa!.split('.')[1]?.length ?? 0;
  return Math.max(0, decimals - Number(exponent ?? 0));
}

/**
 * The accuracies that print as the notebook's `reported` with its
 * `printedDigits`: ± half a unit in the last printed place (0.92 →
 * [0.915, 0.925]).
 */
export function printedInterval(reported: number): [number, number] {
  const digits = printedDigits(reported);
  const unit = 10 ** -digits;
  const at = Math.round(reported * 10 ** digits);
  return [(at - 0.5) * unit, (at + 0.5) * unit];
}

/** Whether [a0, a1] and [b0, b1] share a point (up to rounding in the last bits of a float). */
function meets([a0, a1]: readonly [number, number], b0: number, b1: number): boolean {
  const slack = 1e-12;
  return a0 <= b1 + slack && b0 <= a1 + slack;
}

/** The spread of one id's results, one per seed (all of the same id). */
export function seedSpread(results: readonly ExperimentResult[]): SeedSpread {
  const first = results[0];
  if (!first) throw new Error('seedSpread: no results.');
  for (const r of results) {
    if (r.id !== first.id) throw new Error(`seedSpread: results of ${first.id} and ${r.id} mixed.`);
  }
  const accuracies = results.map((r) => r.test.accuracy);
  const { mean, sd } = meanAndSd(accuracies);
  const min = Math.min(...accuracies);
  const max = Math.max(...accuracies);
  const reported = first.reported;
  const interval = reported === null ? null : printedInterval(reported);
  return {
    id: first.id, reported, reportedInterval: interval, seeds: results.map((r) => r.seed), accuracies, mean, sd, min, max,
    notebookInRange: interval === null ? null : meets(interval, min, max),
    notebookWithinTwoSd: interval === null ? null : meets(interval, mean - 2 * sd, mean + 2 * sd),
    results: [...results],
  };
}

/**
 * "notebook's 0.92 (0.915–0.925 as printed)": the notebook's number, and for
 * one printed to fewer than four decimals the interval it stands for.
 */
export function describeReported(reported: number): string {
  const digits = printedDigits(reported);
  if (digits >= 4) return `notebook's ${reported}`;
  const [lo, hi] = printedInterval(reported);
  return `notebook's ${reported} (${lo.toFixed(digits + 1)}–${hi.toFixed(digits + 1)} as printed)`;
}

/** "0.9123 ± 0.0031 (3 seeds, 0.9091–0.9150)" */
export function describeSpread(s: SeedSpread): string {
  return `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)} (${s.seeds.length} seed${s.seeds.length === 1 ? '' : 's'}, ${s.min.toFixed(4)}–${s.max.toFixed(4)})`;
}

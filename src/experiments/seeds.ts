/**
 * One id trained with several seeds (`shaderprop run --seeds N`): the spread
 * of its test accuracy, and whether the notebook's number lies inside it.
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
  return {
    id: first.id, reported, seeds: results.map((r) => r.seed), accuracies, mean, sd, min, max,
    notebookInRange: reported === null ? null : reported >= min && reported <= max,
    notebookWithinTwoSd: reported === null ? null : Math.abs(reported - mean) <= 2 * sd,
    results: [...results],
  };
}

/** "0.9123 ± 0.0031 (3 seeds, 0.9091–0.9150)" */
export function describeSpread(s: SeedSpread): string {
  return `${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)} (${s.seeds.length} seed${s.seeds.length === 1 ? '' : 's'}, ${s.min.toFixed(4)}–${s.max.toFixed(4)})`;
}

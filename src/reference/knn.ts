/**
 * Exact 1-nearest-neighbour, CPU twin of shaders/classic/knn.wgsl.
 *
 *   dist(x, y) = Σ_p (x_p − y_p)²      over the raw pixels 0–255
 *   nearest[t] = argmin over train rows n of (dist(test t, train n), n)
 *
 * Plain loops over the differences (not the GPU's ‖x‖² + ‖y‖² − 2·x·y), in
 * JS numbers, which are exact integers far beyond any distance here (< 2⁵³).
 * A train row replaces the best so far only when strictly nearer, and rows
 * are visited in index order, so ties go to the lowest index.
 */
import type { ImageSet } from '../data/images.js';

export interface NearestCpuResult {
  /** Train index of each test row's nearest neighbour. */
  index: Uint32Array;
  /** Its squared Euclidean distance. */
  distance: Float64Array;
}

export function nearestNeighbourCpu(train: ImageSet, test: ImageSet): NearestCpuResult {
  const F = train.rows * train.cols;
  if (F !== test.rows * test.cols) {
    throw new RangeError(`nearestNeighbourCpu: train rows have ${F} features, test rows ${test.rows * test.cols}.`);
  }
  if (train.count < 1) throw new RangeError('nearestNeighbourCpu: the train set is empty.');
  const index = new Uint32Array(test.count);
  const distance = new Float64Array(test.count);
  for (let t = 0; t < test.count; t++) {
    const x = test.images.subarray(t * F, (t + 1) * F);
    let bestDistance = Infinity;
    let bestIndex = 0;
    for (let n = 0; n < train.count; n++) {
      const y = train.images.subarray(n * F, (n + 1) * F);
      let d = 0;
      for (let p = 0; p < F; p++) {
        const diff = x[p]! - y[p]!;
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        bestIndex = n;
      }
    }
    index[t] = bestIndex;
    distance[t] = bestDistance;
  }
  return { index, distance };
}

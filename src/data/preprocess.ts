/**
 * The input preprocessings of the notebooks, as pure CPU functions. They are the
 * reference the GPU gather kernel must reproduce, and they compute the per-feature
 * constants that kernel needs:
 *
 *   'scale'        x' = x · scale                 (x_train / 255.0)
 *   'raw'          x' = x                         (the pixel values as floats)
 *   'standardize'  x' = (x − mean_f) / std_f      (per pixel f, statistics of the training set)
 *   'l2Normalize'  tf.keras.utils.normalize(x, axis) on (N, rows, cols): each column
 *                  (axis 1) or row (axis 2) of every image divided by its L2 norm
 *
 * The first three are the affine map x' = (x − shift_f) · scale_f of `affineFor`.
 */

export type Preprocessing =
  | { kind: 'scale'; scale: number /* e.g. 1/255 */ }
  | { kind: 'raw' }
  | { kind: 'standardize' }
  | { kind: 'l2Normalize'; axis: 1 | 2 };

/** Per-feature (per-pixel) statistics of a training set. */
export interface FeatureStats {
  mean: Float64Array;
  /** Population standard deviation (divided by N, as numpy's default); values < 1e-9 are replaced by 1. */
  std: Float64Array;
}

/** The per-feature affine map x' = (x − shift) · scale, in float32 as a kernel uses it. */
export interface Affine {
  shift: Float32Array;
  scale: Float32Array;
}

/** Standard deviations below this count as zero (a constant pixel) and become 1. */
const MIN_STD = 1e-9;

function checkSize(what: string, images: Uint8Array, count: number, features: number): void {
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(features) || features < 1) {
    throw new RangeError(`${what}: count (${count}) and features (${features}) must be integers, features ≥ 1.`);
  }
  if (images.length < count * features) {
    throw new RangeError(
      `${what}: images hold ${images.length} values, fewer than count × features = ${count} × ${features}.`,
    );
  }
}

/**
 * Mean and population standard deviation of each of `features` features over the
 * first `count` rows of `images` (count × features, row-major), in float64; two passes.
 */
export function featureStats(images: Uint8Array, count: number, features: number): FeatureStats {
  checkSize('featureStats', images, count, features);
  if (count === 0) throw new RangeError('featureStats: needs at least one example (count = 0).');
  const mean = new Float64Array(features);
  for (let n = 0; n < count; n++) {
    const row = n * features;
    for (let f = 0; f < features; f++) mean[f]! += images[row + f]!;
  }
  for (let f = 0; f < features; f++) mean[f]! /= count;
  const std = new Float64Array(features);
  for (let n = 0; n < count; n++) {
    const row = n * features;
    for (let f = 0; f < features; f++) {
      const d = images[row + f]! - mean[f]!;
      std[f]! += d * d;
    }
  }
  for (let f = 0; f < features; f++) {
    const s = Math.sqrt(std[f]! / count);
    std[f] = s < MIN_STD ? 1 : s;
  }
  return { mean, std };
}

/**
 * The per-feature float32 shift and scale with x' = (x − shift) · scale for 'scale',
 * 'raw' and 'standardize'. 'standardize' needs `stats` of the TRAINING set; the
 * feature count is `features`, else the length of `stats`. 'l2Normalize' is not affine.
 */
export function affineFor(pre: Preprocessing, stats?: FeatureStats, features?: number): Affine {
  const n = features ?? stats?.mean.length;
  if (pre.kind === 'l2Normalize') {
    throw new Error(
      `affineFor: 'l2Normalize' is not a per-feature affine map (it divides by a per-image norm); ` +
        `use preprocessCpu or a per-image kernel.`,
    );
  }
  if (pre.kind === 'standardize' && !stats) {
    throw new Error(
      `affineFor: 'standardize' needs the training set's statistics: pass featureStats(train.images, ` +
        `train.count, rows * cols) (never statistics of the test set).`,
    );
  }
  if (n === undefined || !Number.isInteger(n) || n < 1) {
    throw new RangeError(`affineFor: the number of features is unknown or invalid (${n}); pass features (e.g. 784).`);
  }
  if (stats && (stats.mean.length !== n || stats.std.length !== n)) {
    throw new RangeError(
      `affineFor: stats have ${stats.mean.length} means and ${stats.std.length} stds but features = ${n}.`,
    );
  }
  const shift = new Float32Array(n);
  const scale = new Float32Array(n);
  switch (pre.kind) {
    case 'scale':
      if (!Number.isFinite(pre.scale)) throw new RangeError(`affineFor: scale must be finite, got ${pre.scale}.`);
      scale.fill(pre.scale);
      break;
    case 'raw':
      scale.fill(1);
      break;
    case 'standardize':
      for (let f = 0; f < n; f++) {
        shift[f] = stats!.mean[f]!;
        scale[f] = 1 / stats!.std[f]!;
      }
      break;
  }
  return { shift, scale };
}

/** Divides every column (axis 1) or row (axis 2) of each rows×cols image by its L2 norm, like Keras (norm 0 → 1). */
function l2NormalizeCpu(axis: 1 | 2, images: Uint8Array, count: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(count * rows * cols);
  // Along axis 1 the norm runs over i (rows) for each column j; along axis 2 over j for each row i.
  const lines = axis === 1 ? cols : rows;
  const length = axis === 1 ? rows : cols;
  const lineStride = axis === 1 ? 1 : cols;
  const step = axis === 1 ? cols : 1;
  for (let n = 0; n < count; n++) {
    const base = n * rows * cols;
    for (let line = 0; line < lines; line++) {
      const start = base + line * lineStride;
      let sumSquares = 0;
      for (let k = 0; k < length; k++) {
        const v = images[start + k * step]!;
        sumSquares += v * v;
      }
      const norm = sumSquares === 0 ? 1 : Math.sqrt(sumSquares);
      for (let k = 0; k < length; k++) {
        const at = start + k * step;
        out[at] = images[at]! / norm;
      }
    }
  }
  return out;
}

/**
 * The reference preprocessing of `count` rows×cols images into a (count, rows·cols)
 * Float32Array. Affine kinds compute fround(fround(x − shift) · scale) with the float32
 * constants of `affineFor`, exactly what a float32 kernel computes; 'l2Normalize' works
 * in float64 and rounds once, as Keras does on uint8 input.
 */
export function preprocessCpu(
  pre: Preprocessing,
  images: Uint8Array,
  count: number,
  rows: number,
  cols: number,
  stats?: FeatureStats,
): Float32Array {
  const features = rows * cols;
  checkSize('preprocessCpu', images, count, features);
  if (pre.kind === 'l2Normalize') {
    if (pre.axis !== 1 && pre.axis !== 2) {
      throw new RangeError(`preprocessCpu: l2Normalize axis must be 1 (columns) or 2 (rows), got ${String(pre.axis)}.`);
    }
    return l2NormalizeCpu(pre.axis, images, count, rows, cols);
  }
  const { shift, scale } = affineFor(pre, stats, features);
  const out = new Float32Array(count * features);
  for (let n = 0; n < count; n++) {
    const row = n * features;
    for (let f = 0; f < features; f++) {
      out[row + f] = Math.fround(images[row + f]! - shift[f]!) * scale[f]!;
    }
  }
  return out;
}

/**
 * Losses, CPU twins of the loss WGSL kernels. Each returns the MEAN over the
 * valid rows of the batch and the gradient of that mean.
 *
 * validRows (default B): rows ≥ validRows are padding (a last, partial batch padded
 * to the kernel's fixed B). They add nothing to the loss, the mean divides by
 * validRows, and their gradient rows are exactly 0. With validRows = 0 the loss
 * is 0 and all gradients are 0.
 */
import { expectLength } from './compare.js';
import { sigmoid } from './activations.js';

function checkValidRows(validRows: number, B: number): number {
  if (!Number.isInteger(validRows) || validRows < 0 || validRows > B) {
    throw new Error(`validRows ${validRows} must be an integer in [0, ${B}]`);
  }
  return validRows;
}

/** Index of the largest of a[base .. base + n), ties to the lowest index. */
function argmaxRow(a: ArrayLike<number>, base: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[base + c]! > a[base + best]!) best = c;
  return best;
}

export interface SoftmaxCrossEntropyResult {
  /** mean over valid rows of −Σ_c t[r, c] · log softmax(z)[r, c] */
  loss: number;
  /** (B, C): ∂loss/∂logits, zero on padding rows */
  dlogits: Float64Array;
  /** valid rows where argmax(logits) equals the label (dense targets: argmax of targets) */
  correct: number;
}

/**
 * With N = validRows, p = softmax(z) row-wise, lse_r = m_r + log Σ_c e^{z[r, c] − m_r}, m_r = max_c z[r, c]:
 *   loss = (1/N) Σ_{r<N} Σ_c t[r, c] · (lse_r − z[r, c])
 *   dlogits[r, c] = (p[r, c] · Σ_k t[r, k] − t[r, c]) / N   (= (p − t)/N when the row of t sums to 1)
 * Sparse targets (Uint32Array of class indices) are one-hot rows t[r, :] = e_{label_r}.
 * logits is (B, C); targets is (B) class indices or (B, C) dense; dlogits is (B, C)
 */
export function softmaxCrossEntropy(
  logits: ArrayLike<number>,
  targets: Uint32Array | Float64Array | Float32Array,
  B: number,
  C: number,
  validRows: number = B,
): SoftmaxCrossEntropyResult {
  const N = checkValidRows(validRows, B);
  expectLength('softmaxCrossEntropy logits', logits, B * C);
  const sparse = targets instanceof Uint32Array;
  expectLength('softmaxCrossEntropy targets', targets, sparse ? B : B * C);

  const dlogits = new Float64Array(B * C);
  let total = 0;
  let correct = 0;
  for (let r = 0; r < N; r++) {
    const base = r * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[base + c]!);
    let sumExp = 0;
    for (let c = 0; c < C; c++) sumExp += Math.exp(logits[base + c]! - m);
    const lse = m + Math.log(sumExp);

    let label: number;
    if (sparse) {
      label = targets[r]!;
      if (label >= C) throw new Error(`softmaxCrossEntropy: label ${label} in row ${r} is not < C = ${C}`);
      total += lse - logits[base + label]!;
      for (let c = 0; c < C; c++) {
        const p = Math.exp(logits[base + c]! - lse);
        dlogits[base + c] = (p - (c === label ? 1 : 0)) / N;
      }
    } else {
      label = argmaxRow(targets, base, C);
      let tSum = 0;
      for (let c = 0; c < C; c++) {
        const t = targets[base + c]!;
        tSum += t;
        if (t !== 0) total += t * (lse - logits[base + c]!); // skip t = 0 so −∞ logits stay finite
      }
      for (let c = 0; c < C; c++) {
        const p = Math.exp(logits[base + c]! - lse);
        dlogits[base + c] = (p * tSum - targets[base + c]!) / N;
      }
    }
    if (argmaxRow(logits, base, C) === label) correct++;
  }
  return { loss: N > 0 ? total / N : 0, dlogits, correct };
}

export interface BinaryCrossEntropyResult {
  /** mean over valid rows of max(z, 0) − z·t + log(1 + e^{−|z|}) */
  loss: number;
  /** (B): ∂loss/∂z, zero on padding rows */
  dz: Float64Array;
  /** valid rows where (z > 0) == (t > 0.5) */
  correct: number;
}

/**
 * With N = validRows:
 *   loss = (1/N) Σ_{r<N} max(z_r, 0) − z_r·t_r + log(1 + e^{−|z_r|})   (= −t log σ(z) − (1−t) log(1−σ(z)), stably)
 *   dz_r = (σ(z_r) − t_r) / N
 * z is (B) logits, t is (B) targets in [0, 1]; dz is (B)
 */
export function binaryCrossEntropyWithLogits(
  z: ArrayLike<number>,
  t: ArrayLike<number>,
  B: number,
  validRows: number = B,
): BinaryCrossEntropyResult {
  const N = checkValidRows(validRows, B);
  expectLength('binaryCrossEntropyWithLogits z', z, B);
  expectLength('binaryCrossEntropyWithLogits t', t, B);

  const dz = new Float64Array(B);
  let total = 0;
  let correct = 0;
  for (let r = 0; r < N; r++) {
    const zr = z[r]!;
    const tr = t[r]!;
    total += Math.max(zr, 0) - zr * tr + Math.log1p(Math.exp(-Math.abs(zr)));
    dz[r] = (sigmoid(zr) - tr) / N;
    if (zr > 0 === tr > 0.5) correct++;
  }
  return { loss: N > 0 ? total / N : 0, dz, correct };
}

export interface MeanSquaredErrorResult {
  /** mean over valid rows of (mean over C of (y − t)²) */
  loss: number;
  /** (B, C): ∂loss/∂y, zero on padding rows */
  dy: Float64Array;
}

/**
 * Keras MSE: mean over the last axis, then over the batch. With N = validRows:
 *   loss = (1/(N·C)) Σ_{r<N} Σ_c (y[r, c] − t[r, c])²
 *   dy[r, c] = 2 (y[r, c] − t[r, c]) / (N·C)
 * y and t are (B, C); dy is (B, C)
 */
export function meanSquaredError(
  y: ArrayLike<number>,
  t: ArrayLike<number>,
  B: number,
  C: number,
  validRows: number = B,
): MeanSquaredErrorResult {
  const N = checkValidRows(validRows, B);
  expectLength('meanSquaredError y', y, B * C);
  expectLength('meanSquaredError t', t, B * C);

  const dy = new Float64Array(B * C);
  let total = 0;
  for (let i = 0; i < N * C; i++) {
    const d = y[i]! - t[i]!;
    total += d * d;
    dy[i] = (2 * d) / (N * C);
  }
  return { loss: N > 0 ? total / (N * C) : 0, dy };
}

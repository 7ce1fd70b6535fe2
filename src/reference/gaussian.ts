/**
 * Gaussian generative classifier, CPU twin of shaders/classic/gaussian.wgsl
 * and src/classic/gaussian.ts, straight from the definitions in f64:
 *
 *   μ_c = (1/N_c) Σ_{n in c} x_n                      (first pass)
 *   Σ_c = (1/N_c) Σ_{n in c} (x_n − μ_c)(x_n − μ_c)ᵀ    (second pass; numpy's cov with bias=1)
 *   π_c = N_c / N
 *   Σ_c + λ·I = L_c L_cᵀ                              (Cholesky)
 *   log det(Σ_c + λ·I) = 2 Σ_i log L_c[i, i]
 *   L_c z = x − μ_c                                   (forward substitution, per test image)
 *   score[n, c] = log π_c − ½·log det − (D/2)·log 2π − ½·‖z‖²
 *   prediction = argmax_c score (the lowest class on ties, as numpy's argmax)
 *
 * No Gram matrices and no inverse: the GPU path takes those shortcuts, the
 * twin does not.
 */
import type { ImageSet } from '../data/images.js';

export interface GaussianCpuModel {
  classes: number;
  features: number;
  counts: Float64Array;
  logPrior: Float64Array;
  /** (K, D) */
  mean: Float64Array;
  /** (K, D, D), divided by N_c, without the regularisation. */
  covariance: Float64Array;
  regularization: number;
  /** (K, D, D): the lower Cholesky factor of Σ_c + λ·I. */
  cholesky: Float64Array;
  logDet: Float64Array;
}

export interface GaussianCpuScores {
  /** (N, K) */
  scores: Float64Array;
  /** (N, K): ‖L_c⁻¹ (x − μ_c)‖², the squared Mahalanobis distance. */
  q: Float64Array;
  predictions: Uint8Array;
}

export function fitGaussianCpu(train: ImageSet, options: { regularization?: number; classes?: number } = {}): GaussianCpuModel {
  const regularization = options.regularization ?? 4000;
  const D = train.rows * train.cols;
  let K = options.classes ?? 0;
  if (options.classes === undefined) for (let n = 0; n < train.count; n++) K = Math.max(K, train.labels[n]! + 1);
  const counts = new Float64Array(K);
  for (let n = 0; n < train.count; n++) counts[train.labels[n]!]!++;
  const mean = new Float64Array(K * D);
  for (let n = 0; n < train.count; n++) {
    const c = train.labels[n]!;
    for (let i = 0; i < D; i++) mean[c * D + i]! += train.images[n * D + i]!;
  }
  for (let c = 0; c < K; c++) {
    if (counts[c] === 0) throw new Error(`fitGaussianCpu: class ${c} has no examples.`);
    for (let i = 0; i < D; i++) mean[c * D + i]! /= counts[c]!;
  }
  const covariance = new Float64Array(K * D * D);
  const centred = new Float64Array(D);
  for (let n = 0; n < train.count; n++) {
    const c = train.labels[n]!;
    for (let i = 0; i < D; i++) centred[i] = train.images[n * D + i]! - mean[c * D + i]!;
    const block = c * D * D;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) covariance[block + i * D + j]! += centred[i]! * centred[j]!;
    }
  }
  for (let c = 0; c < K; c++) {
    for (let e = 0; e < D * D; e++) covariance[c * D * D + e]! /= counts[c]!;
  }
  const cholesky = new Float64Array(K * D * D);
  const logDet = new Float64Array(K);
  const logPrior = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    const m = covariance.slice(c * D * D, (c + 1) * D * D);
    for (let i = 0; i < D; i++) m[i * D + i]! += regularization;
    const l = choleskyCpu(m, D, c);
    cholesky.set(l, c * D * D);
    for (let i = 0; i < D; i++) logDet[c]! += 2 * Math.log(l[i * D + i]!);
    logPrior[c] = Math.log(counts[c]! / train.count);
  }
  return { classes: K, features: D, counts, logPrior, mean, covariance, regularization, cholesky, logDet };
}

export function scoreGaussianCpu(model: GaussianCpuModel, test: ImageSet): GaussianCpuScores {
  const { classes: K, features: D } = model;
  const N = test.count;
  const scores = new Float64Array(N * K);
  const q = new Float64Array(N * K);
  const predictions = new Uint8Array(N);
  const z = new Float64Array(D);
  const constant = -0.5 * D * Math.log(2 * Math.PI);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < K; c++) {
      // Forward substitution: L z = x − μ.
      const l = model.cholesky.subarray(c * D * D, (c + 1) * D * D);
      let squared = 0;
      for (let i = 0; i < D; i++) {
        let sum = test.images[n * D + i]! - model.mean[c * D + i]!;
        for (let k = 0; k < i; k++) sum -= l[i * D + k]! * z[k]!;
        z[i] = sum / l[i * D + i]!;
        squared += z[i]! * z[i]!;
      }
      q[n * K + c] = squared;
      scores[n * K + c] = model.logPrior[c]! - 0.5 * model.logDet[c]! + constant - 0.5 * squared;
    }
    let best = 0;
    for (let c = 1; c < K; c++) if (scores[n * K + c]! > scores[n * K + best]!) best = c;
    predictions[n] = best;
  }
  return { scores, q, predictions };
}

/** Column by column: L[j, j] = √(m[j, j] − Σ_k L[j, k]²), then L[i, j] for i > j. */
function choleskyCpu(m: Float64Array, D: number, c: number): Float64Array {
  const l = new Float64Array(D * D);
  for (let j = 0; j < D; j++) {
    let pivot = m[j * D + j]!;
    for (let k = 0; k < j; k++) pivot -= l[j * D + k]! ** 2;
    if (!(pivot > 0)) throw new Error(`fitGaussianCpu: class ${c}: Σ + λI is not positive definite (pivot ${j} is ${pivot}).`);
    l[j * D + j] = Math.sqrt(pivot);
    for (let i = j + 1; i < D; i++) {
      let sum = m[i * D + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * D + k]! * l[j * D + k]!;
      l[i * D + j] = sum / l[j * D + j]!;
    }
  }
  return l;
}

/**
 * CPU twin of shaders/classic/logistic.wgsl and the descent in
 * src/classic/logistic.ts, in f64, straight from the formulas. For output k:
 *
 *   z_ik  = Σ_d x_id·w_dk + b_k
 *   L_k   = (1/N) Σ_i [ y_ik·softplus(−z_ik) + (1 − y_ik)·softplus(z_ik) ] + (λ/(2N))·Σ_d w_dk²
 *   ∂L_k/∂w_dk = (1/N) Σ_i x_id·(σ(z_ik) − y_ik) + (λ/N)·w_dk
 *   ∂L_k/∂b_k  = (1/N) Σ_i (σ(z_ik) − y_ik)
 *
 * and gradient descent with the notebook's backtracking line search, each
 * output on its own: t = 1; while L(w) − L(w − t·g) < α·t·‖g‖²: t ← β·t;
 * w ← w − t·g. After `maxTrials` loss evaluations without success the output
 * keeps its weights for that step (t = 0).
 *
 * `x` are the features as the model sees them (already standardised).
 * Weights are (D, K) row-major, as the public API returns them.
 */

export interface LogisticProblem {
  /** (count, features) row-major. */
  x: ArrayLike<number>;
  /** (count, outputs) row-major, in [0, 1]. */
  targets: ArrayLike<number>;
  count: number;
  features: number;
  outputs: number;
  /** Whether the bias takes part (it is never regularised). */
  bias: boolean;
  /** λ of the penalty (λ/(2N))·‖w_k‖². */
  lambda: number;
}

export interface LogisticParameters {
  /** (features, outputs) row-major. */
  weights: ArrayLike<number>;
  /** (outputs); ignored without a bias. */
  bias?: ArrayLike<number>;
}

/** log(1 + e^t), without overflow for large |t|. */
export function softplus(t: number): number {
  return Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
}

/** 1 / (1 + e^−z), without overflow for large |z|. */
function sigmoid(z: number): number {
  const e = Math.exp(-Math.abs(z));
  return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** y·softplus(−z) + (1 − y)·softplus(z), a zero-weight term skipped (so z = ±∞ with the matching y costs 0). */
function logisticTerm(z: number, y: number): number {
  let loss = 0;
  if (y !== 0) loss += y * softplus(-z);
  if (y !== 1) loss += (1 - y) * softplus(z);
  return loss;
}

function biasOf(p: LogisticProblem, params: LogisticParameters, k: number): number {
  return p.bias && params.bias ? params.bias[k]! : 0;
}

/** z (count, outputs). */
export function logisticScores(p: LogisticProblem, params: LogisticParameters): Float64Array {
  const { count: N, features: D, outputs: K } = p;
  const z = new Float64Array(N * K);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < K; k++) {
      let sum = biasOf(p, params, k);
      for (let d = 0; d < D; d++) sum += p.x[i * D + d]! * params.weights[d * K + k]!;
      z[i * K + k] = sum;
    }
  }
  return z;
}

/** L_k for every output: mean cross-entropy plus the penalty. */
export function logisticLoss(p: LogisticProblem, params: LogisticParameters): Float64Array {
  const { count: N, features: D, outputs: K } = p;
  const z = logisticScores(p, params);
  const loss = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let sum = 0;
    for (let i = 0; i < N; i++) sum += logisticTerm(z[i * K + k]!, p.targets[i * K + k]!);
    let squares = 0;
    for (let d = 0; d < D; d++) squares += params.weights[d * K + k]! ** 2;
    loss[k] = sum / N + (p.lambda / (2 * N)) * squares;
  }
  return loss;
}

/** The mean cross-entropy only (no penalty), per output: what the test loss reports. */
export function logisticCrossEntropy(p: LogisticProblem, params: LogisticParameters): Float64Array {
  return logisticLoss({ ...p, lambda: 0 }, params);
}

/** ∂L/∂w (features, outputs) and ∂L/∂b (outputs; zeros without a bias). */
export function logisticGradient(
  p: LogisticProblem,
  params: LogisticParameters,
): { weights: Float64Array; bias: Float64Array } {
  const { count: N, features: D, outputs: K } = p;
  const z = logisticScores(p, params);
  const weights = new Float64Array(D * K);
  const bias = new Float64Array(K);
  for (let i = 0; i < N; i++) {
    for (let k = 0; k < K; k++) {
      const r = sigmoid(z[i * K + k]!) - p.targets[i * K + k]!;
      for (let d = 0; d < D; d++) weights[d * K + k]! += (p.x[i * D + d]! * r) / N;
      if (p.bias) bias[k]! += r / N;
    }
  }
  for (let j = 0; j < D * K; j++) weights[j]! += (p.lambda / N) * params.weights[j]!;
  return { weights, bias };
}

/**
 * Fraction of rows misclassified: with one output (σ(z) > 0.5) ≠ (y > 0.5);
 * with several, argmax z ≠ argmax y (first maximum on ties).
 */
export function logisticError(p: LogisticProblem, params: LogisticParameters): number {
  const { count: N, outputs: K } = p;
  const z = logisticScores(p, params);
  let wrong = 0;
  for (let i = 0; i < N; i++) {
    if (K === 1) {
      if (z[i]! > 0 !== p.targets[i]! > 0.5) wrong++;
      continue;
    }
    let bestZ = 0;
    let bestY = 0;
    for (let k = 1; k < K; k++) {
      if (z[i * K + k]! > z[i * K + bestZ]!) bestZ = k;
      if (p.targets[i * K + k]! > p.targets[i * K + bestY]!) bestY = k;
    }
    if (bestZ !== bestY) wrong++;
  }
  return wrong / N;
}

export interface DescentStepRecord {
  /** Step size per output (0 where the line search gave up). */
  t: Float64Array;
  /** Loss evaluations per output. */
  trials: Uint32Array;
  /** L_k at the new weights. */
  loss: Float64Array;
}

/** Gradient descent with a backtracking line search per output, from `initial` or zeros. */
export function logisticDescent(
  p: LogisticProblem,
  options: { steps: number; alpha?: number; beta?: number; maxTrials?: number; initial?: LogisticParameters },
): { weights: Float64Array; bias: Float64Array; history: DescentStepRecord[] } {
  const { features: D, outputs: K } = p;
  const alpha = options.alpha ?? 0.01;
  const beta = options.beta ?? 0.5;
  const maxTrials = options.maxTrials ?? 60;
  const weights = Float64Array.from(options.initial?.weights ?? new Float64Array(D * K));
  const bias = p.bias && options.initial?.bias ? Float64Array.from(options.initial.bias) : new Float64Array(K);
  const history: DescentStepRecord[] = [];

  // One output as a problem of its own: its column of the targets and weights.
  const single = (k: number): LogisticProblem => {
    const targets = new Float64Array(p.count);
    for (let i = 0; i < p.count; i++) targets[i] = p.targets[i * K + k]!;
    return { ...p, targets, outputs: 1 };
  };
  const problems = Array.from({ length: K }, (_, k) => single(k));

  for (let step = 0; step < options.steps; step++) {
    const record: DescentStepRecord = { t: new Float64Array(K), trials: new Uint32Array(K), loss: new Float64Array(K) };
    for (let k = 0; k < K; k++) {
      const q = problems[k]!;
      const w = new Float64Array(D);
      for (let d = 0; d < D; d++) w[d] = weights[d * K + k]!;
      const b = [bias[k]!];
      const lossAt = (wt: ArrayLike<number>, bt: number[]) => logisticLoss(q, { weights: wt, bias: bt })[0]!;
      const L = lossAt(w, b);
      const g = logisticGradient(q, { weights: w, bias: b });
      let normSquared = 0;
      for (let d = 0; d < D; d++) normSquared += g.weights[d]! ** 2;
      if (p.bias) normSquared += g.bias[0]! ** 2;

      const trialAt = (t: number) => ({
        w: w.map((v, d) => v - t * g.weights[d]!),
        b: [b[0]! - t * g.bias[0]!],
      });
      let t = 1;
      let trials = 0;
      let accepted: { w: Float64Array; b: number[]; loss: number } | undefined;
      for (;;) {
        const trial = trialAt(t);
        const trialLoss = lossAt(trial.w, trial.b);
        trials++;
        if (!(L - trialLoss < alpha * t * normSquared)) {
          accepted = { ...trial, loss: trialLoss };
          break;
        }
        if (trials >= maxTrials) break;
        t *= beta;
      }
      if (!accepted) {
        t = 0;
        accepted = { w, b, loss: L };
      }
      for (let d = 0; d < D; d++) weights[d * K + k] = accepted.w[d]!;
      bias[k] = accepted.b[0]!;
      record.t[k] = t;
      record.trials[k] = trials;
      record.loss[k] = accepted.loss;
    }
    history.push(record);
  }
  return { weights, bias, history };
}

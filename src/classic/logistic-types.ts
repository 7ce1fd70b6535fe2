/**
 * What logistic regression takes and gives: targets, options, the trained
 * model, one step of the descent, and its divergence error.
 */
import type { ImageSet } from '../data/images.js';
import type { FeatureStats } from '../data/preprocess.js';

/** What one gradient-descent step did, per output where it differs. */
export interface LogisticStep {
  /** 1 for the first step. */
  step: number;
  /** The step size each output took; 0 where its line search hit maxTrials and the output did not move. */
  t: Float64Array;
  /** Loss evaluations of each output's line search (1 when t = 1 was accepted at once). */
  trials: Uint32Array;
  /** Each output's objective (mean cross-entropy plus the L2 penalty) at the new weights. */
  trainLoss: Float64Array;
  /** Fraction of training samples misclassified at the new weights (see `testError`). */
  trainError: number;
  /** Each output's mean cross-entropy on the test set (no penalty), when a test set was given. */
  testLoss?: Float64Array;
  /**
   * Fraction of test samples misclassified: with one output, (σ(z) > 0.5) ≠ (y > 0.5);
   * with several, argmax_k z ≠ argmax_k y (the label, for one-vs-all).
   */
  testError?: number;
}

export type LogisticTargets =
  /** One output: y = 1 for label `positive`, else 0 ("is it a 5?"). */
  | { kind: 'binary'; positive: number }
  /** `classes` outputs: y_k = 1 for label k, else 0. */
  | { kind: 'one-vs-all'; classes: number };

export interface DescentOptions {
  /** Gradient-descent steps; default 200. */
  steps?: number;
  /** Armijo constant: a step must lower the loss by at least α·t·‖g‖²; default 0.01. */
  alpha?: number;
  /** Factor that shrinks t after a failed trial; default 0.5. */
  beta?: number;
  /** Loss evaluations per line search before an output gives up on the step (t = 0); default 60. */
  maxTrials?: number;
  /** Called after every step. */
  onStep?: (step: LogisticStep) => void;
}

export interface LogisticOptions extends DescentOptions {
  targets: LogisticTargets;
  /** Per-feature mean and std to standardise with; default: those of the training set; `false`: raw pixels. */
  standardize?: FeatureStats | false;
  /** Learn a bias per output (not regularised); default false for binary, true for one-vs-all. */
  bias?: boolean;
  /** L2 strength λ of the penalty (λ/(2N))·‖w_k‖²; default 0. */
  lambda?: number;
  /** Evaluated after every step: test loss and test error in the history. */
  test?: ImageSet;
}

export interface LogisticModel {
  /** (D, K) row-major: the weight of feature d for output k at d·K + k. */
  weights: Float32Array;
  /** (K); zeros when trained without a bias. */
  bias: Float32Array;
  /** The statistics the features were standardised with; undefined for raw features. */
  stats: FeatureStats | undefined;
  /** K. */
  outputs: number;
  targets: LogisticTargets;
  history: LogisticStep[];
}

/** Samples with float targets: what the engine itself takes. */
export interface LogisticRows {
  /** (count, features) row-major: bytes (e.g. pixels 0–255) or f32 values. */
  x: Uint8Array | Float32Array;
  /** (count, outputs) row-major targets in [0, 1]. */
  targets: Float32Array;
  count: number;
  features: number;
  outputs: number;
}

export interface LogisticSetup {
  /** Learn a bias per output; default false. */
  bias?: boolean;
  /** L2 strength λ; default 0. */
  lambda?: number;
  /** Standardise features with these statistics; default (and `false`): use them as given. */
  standardize?: FeatureStats | false;
  /** Rows evaluated after every descent step (same features and outputs). */
  test?: LogisticRows;
}

/** Loss and gradient at the current parameters. */
export interface LogisticEvaluation {
  /** Each output's objective: mean cross-entropy plus (λ/(2N))·‖w_k‖². */
  loss: Float64Array;
  /** (D, K) row-major. */
  weightGradient: Float32Array;
  /** (K); zeros without a bias. */
  biasGradient: Float32Array;
  /** ‖g_k‖² over weights and (when learnt) bias. */
  gradientNormSquared: Float64Array;
  /** Fraction of the rows misclassified. */
  error: number;
}

/** A trial loss became NaN, or the loss or gradient at the parameters stopped being finite. */
export class LogisticDivergedError extends Error {
  constructor(
    /** The step that failed (0: the starting parameters). */
    readonly step: number,
    /** The output whose loss or gradient failed. */
    readonly output: number,
    /** What failed, e.g. 'training loss'. */
    readonly quantity: string,
    readonly value: number,
    /** The line-search trial, when it failed inside a line search. */
    readonly trial?: number,
  ) {
    const where = step === 0 ? 'at the starting parameters (step 0)' : `at step ${step}`;
    super(
      `Logistic regression: ${where}, the ${quantity} of output ${output} is ${value}` +
        `${trial !== undefined ? ` (line-search trial ${trial})` : ''}. ` +
        'The scores z overflowed or the data hold values the GPU cannot sum: check the data, standardise the ' +
        'features (the default for images), or start from smaller weights.' +
        (step > 0 && trial !== undefined ? ` The parameters keep their values from step ${step - 1}.` : ''),
    );
    this.name = 'LogisticDivergedError';
  }
}

/**
 * Logistic regression by full-batch gradient descent with a backtracking
 * (Armijo) line search, on the GPU (shaders/classic/logistic.wgsl; the CPU
 * twin is src/reference/logistic.ts).
 *
 * One engine trains K outputs together: K = 1 for a binary question ("is it a
 * 5?"), K = classes for one-vs-all. Output k minimises
 *
 *   L_k(w_k, b_k) = (1/N) Σ_i [ y_ik·softplus(−z_ik) + (1 − y_ik)·softplus(z_ik) ] + (λ/(2N))·‖w_k‖²
 *
 * with z = x̃W + b and x̃ the standardised features. Every step, for every
 * output separately: t = 1; while L(w) − L(w − t·g) < α·t·‖g‖², t ← β·t; then
 * w ← w − t·g. An output's loss depends on its own column only, so training K
 * outputs together gives the same steps as K separate runs.
 *
 * The samples are uploaded once (as bytes, four to a u32, or as f32 rows) and
 * standardised inside the kernels. Every dispatch is recorded once. A step
 * makes two passes over the data: the gradient at the current parameters, and
 * the direction u = X̃·g_w + g_b; since z(w − t·g) = z(w) − t·u, each
 * line-search trial then costs O(N·K) on the GPU, one submit and one read of a
 * small summary (the K trial losses; the first trial of a step also brings the
 * gradient norms and the test metrics of the step before).
 */
import source from '../../shaders/classic/logistic.wgsl?raw';
import { formatBytes } from '../gpu/buffers.js';
import type { ProgramSpec } from '../gpu/program.js';
import type { Dispatch, Kernel, Runtime } from '../gpu/runtime.js';
import { affineFor, featureStats, type FeatureStats } from '../data/preprocess.js';
import type { ImageSet } from '../data/images.js';
import { checkImageSet } from './types.js';

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

const DEFAULTS = { steps: 200, alpha: 0.01, beta: 0.5, maxTrials: 60 } as const;

/** Threads per workgroup of the per-sample and per-feature kernels. */
const THREADS = 64;
/** Outputs one thread of logistic_scores and logistic_gradient takes (OUTPUTS_PER_THREAD in the WGSL). */
const OUTPUTS_PER_THREAD = 16;
/** Threads per workgroup of column_sums over many rows (a power of two). */
const SUM_THREADS = 256;
/** The gradient's samples are cut into at most this many chunks (rows of its partial sums). */
const MAX_CHUNKS = 256;
/** Samples per chunk at least (fewer chunks for small sets). */
const MIN_CHUNK = 256;

/**
 * Offsets in the summary buffer (f32), for K outputs:
 * the trial's K mean cross-entropies and its error fraction, the trial's K
 * ‖w_k‖², the K ‖g_k‖² at the current parameters, the test set's K mean
 * cross-entropies and its error fraction.
 */
function summaryLayout(K: number) {
  return {
    trialLoss: 0,
    trialError: K,
    trialNorm: K + 1,
    gradientNorm: 2 * K + 1,
    testLoss: 3 * K + 1,
    testError: 4 * K + 1,
    length: 4 * K + 2,
  };
}

type Layout = ReturnType<typeof summaryLayout>;

/** The buffers of one set of rows (layouts in shaders/classic/logistic.wgsl). */
interface RowBuffers {
  count: number;
  /** (count, D4) words of 4 bytes, or (count, DP) f32. */
  images: GPUBuffer;
  /** (count, K). */
  targets: GPUBuffer;
  /** (count, K) z at the parameters. */
  scores: GPUBuffer;
  /** (count, K) z at the trial parameters. */
  trialScores: GPUBuffer;
  /** (count, K) σ(z) − y at the trial parameters. */
  residual: GPUBuffer;
  /** (count, K + 1) per-sample cross-entropies and error flags. */
  lossTerms: GPUBuffer;
}

/** The buffers shared by every row set (layouts in shaders/classic/logistic.wgsl). */
interface EngineBuffers {
  /** (2, DP): shift, then scale. */
  standardize: GPUBuffer;
  /** (K·DP + K): weights, one row per output, then biases. */
  params: GPUBuffer;
  /** The parameters of the current line-search trial, same layout. */
  trial: GPUBuffer;
  /** The gradient at `params`, same layout. */
  dparams: GPUBuffer;
  /** (K) t_k of the trial. */
  stepSizes: GPUBuffer;
  /** (K) zeros: the step sizes with which logistic_loss evaluates the scores as they are. */
  zeroSteps: GPUBuffer;
  /** (count, K) the direction u = X̃·g_w + g_b on the training rows. */
  direction: GPUBuffer;
  /** What the CPU reads: see summaryLayout. */
  summary: GPUBuffer;
  /** (chunks, K·DP) per-chunk sums of x̃ᵀ r. */
  gradientPartials: GPUBuffer;
}

/**
 * The engine: one set of training rows (and optionally test rows) on the GPU,
 * the parameters, and the recorded dispatches of a trial and of a step.
 */
export class LogisticRegression {
  private destroyed = false;
  /** Objective and ‖g‖² at the current parameters, once evaluated. */
  private state: { loss: Float64Array; gradientNormSquared: Float64Array } | undefined;
  private readonly layout: Layout;

  private constructor(
    private readonly rt: Runtime,
    /** D: features per sample. */
    readonly features: number,
    /** K. */
    readonly outputs: number,
    readonly bias: boolean,
    readonly lambda: number,
    /** Features padded to a multiple of 4. */
    private readonly paddedFeatures: number,
    private readonly train: RowBuffers,
    private readonly test: RowBuffers | undefined,
    private readonly buffers: EngineBuffers,
    private readonly plans: Plans,
  ) {
    this.layout = summaryLayout(outputs);
  }

  /** Checks the rows, uploads them once, builds the pipelines and records every dispatch. */
  static async create(rt: Runtime, train: LogisticRows, setup: LogisticSetup = {}): Promise<LogisticRegression> {
    checkRows('LogisticRegression train rows', train);
    const { features, outputs: K } = train;
    const bias = setup.bias ?? false;
    const lambda = setup.lambda ?? 0;
    if (!Number.isFinite(lambda) || lambda < 0) {
      throw new RangeError(`LogisticRegression: lambda must be a finite number ≥ 0, got ${lambda}.`);
    }
    const test = setup.test;
    if (test) {
      checkRows('LogisticRegression test rows', test);
      if (test.features !== features || test.outputs !== K) {
        throw new RangeError(
          `LogisticRegression: test rows have ${test.features} features and ${test.outputs} outputs, the training rows ` +
            `${features} and ${K}. Both must match.`,
        );
      }
      if ((test.x instanceof Float32Array) !== (train.x instanceof Float32Array)) {
        throw new TypeError('LogisticRegression: train and test samples must both be bytes (Uint8Array) or both f32.');
      }
    }
    const standardize = setup.standardize ?? false;
    if (standardize && (standardize.mean.length !== features || standardize.std.length !== features)) {
      throw new RangeError(
        `LogisticRegression: standardize holds ${standardize.mean.length} means and ${standardize.std.length} stds ` +
          `for ${features} features. Compute them with featureStats(images, count, ${features}).`,
      );
    }
    if (standardize && [...standardize.mean, ...standardize.std].some((v, i) => !Number.isFinite(v) || (i >= features && v <= 0))) {
      throw new RangeError('LogisticRegression: standardize must hold finite means and finite, positive stds.');
    }

    const words = Math.ceil(features / 4);
    const paddedFeatures = words * 4;
    const f32Input = train.x instanceof Float32Array;
    const chunk = Math.max(MIN_CHUNK, Math.ceil(train.count / MAX_CHUNKS));
    const chunks = Math.ceil(train.count / chunk);
    const paramCount = K * paddedFeatures + K;
    const layout = summaryLayout(K);
    const testCount = test?.count;

    // Check every binding against the adapter before allocating anything.
    const rowBytes = paddedFeatures * (f32Input ? 4 : 1);
    for (const [what, rows] of [['training', train], ['test', test]] as const) {
      if (!rows) continue;
      fits(rt, `the ${what} samples (${rows.count} × ${paddedFeatures} ${f32Input ? 'f32' : 'bytes'})`, rows.count * rowBytes,
        f32Input ? 'Pass the samples as bytes (Uint8Array: 4× smaller), or use fewer samples.' : 'Use fewer samples.');
      fits(rt, `the ${what} per-sample loss terms (${rows.count} × ${K + 1} f32)`, rows.count * (K + 1) * 4,
        'Use fewer samples or outputs.');
    }
    fits(rt, `the gradient's partial sums (${chunks} chunks × ${K} × ${paddedFeatures} f32)`, chunks * K * paddedFeatures * 4,
      'Use fewer features or outputs.');

    const kernels = await buildKernels(rt, { words, K, f32Input, bias, lambda, N: train.count, chunk, testN: testCount, layout });

    const shiftScale = new Float32Array(2 * paddedFeatures);
    if (standardize) {
      const { shift, scale } = affineFor({ kind: 'standardize' }, standardize, features);
      shiftScale.set(shift, 0);
      shiftScale.set(scale, paddedFeatures);
    } else {
      shiftScale.fill(1, paddedFeatures, paddedFeatures + features);
    }
    const owned: GPUBuffer[] = [];
    const storage = (data: number | ArrayBufferView, label: string): GPUBuffer => {
      const buffer = rt.storage(data, label);
      owned.push(buffer);
      return buffer;
    };
    try {
      const upload = (rows: LogisticRows, name: string): RowBuffers => ({
        count: rows.count,
        images: storage(packRows(rows, paddedFeatures), `logistic ${name} samples`),
        targets: storage(rows.targets.subarray(0, rows.count * K), `logistic ${name} targets`),
        scores: storage(rows.count * K * 4, `logistic ${name} scores`),
        trialScores: storage(rows.count * K * 4, `logistic ${name} trial scores`),
        residual: storage(rows.count * K * 4, `logistic ${name} residual`),
        lossTerms: storage(rows.count * (K + 1) * 4, `logistic ${name} loss terms`),
      });
      const trainRows = upload(train, 'train');
      const testRows = test ? upload(test, 'test') : undefined;
      const buffers = {
        standardize: storage(shiftScale, 'logistic standardize'),
        params: storage(new Float32Array(paramCount), 'logistic params'),
        trial: storage(new Float32Array(paramCount), 'logistic trial params'),
        dparams: storage(new Float32Array(paramCount), 'logistic gradient'),
        stepSizes: storage(new Float32Array(K), 'logistic step sizes'),
        zeroSteps: storage(new Float32Array(K), 'logistic zero steps'),
        direction: storage(new Float32Array(train.count * K), 'logistic direction'),
        summary: storage(new Float32Array(layout.length), 'logistic summary'),
        gradientPartials: storage(chunks * K * paddedFeatures * 4, 'logistic gradient partials'),
      };
      const plans = recordPlans(rt, kernels, { trainRows, testRows, buffers, K, words, chunks, bias });
      return new LogisticRegression(rt, features, K, bias, lambda, paddedFeatures, trainRows, testRows, buffers, plans);
    } catch (error) {
      for (const buffer of owned) rt.pool.destroy(buffer);
      throw error;
    }
  }

  /** Sets the parameters: `weights` (D, K) row-major, `bias` (K) (ignored, and kept at 0, without a bias). */
  setParameters(weights: ArrayLike<number>, bias?: ArrayLike<number>): void {
    this.checkAlive('setParameters');
    const { features: D, outputs: K, paddedFeatures: DP } = this;
    if (weights.length !== D * K) {
      throw new RangeError(`LogisticRegression.setParameters: ${weights.length} weights; expected features × outputs = ${D} × ${K}.`);
    }
    if (bias && bias.length !== K) {
      throw new RangeError(`LogisticRegression.setParameters: ${bias.length} biases; expected one per output (${K}).`);
    }
    const params = new Float32Array(K * DP + K);
    for (let d = 0; d < D; d++) for (let k = 0; k < K; k++) params[k * DP + d] = weights[d * K + k]!;
    if (bias && this.bias) for (let k = 0; k < K; k++) params[K * DP + k] = bias[k]!;
    const bad = params.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new RangeError(`LogisticRegression.setParameters: the parameters hold ${params[bad]}; every weight and bias must be finite.`);
    }
    this.rt.write(this.buffers.params, params);
    this.state = undefined;
  }

  /** The current parameters: weights (D, K) row-major and bias (K). */
  async parameters(): Promise<{ weights: Float32Array; bias: Float32Array }> {
    this.checkAlive('parameters');
    const { features: D, outputs: K, paddedFeatures: DP } = this;
    return unpackParams(await this.rt.readF32(this.buffers.params, K * DP + K), D, K, DP);
  }

  /** Loss, gradient and error on the training rows at the current parameters. */
  async evaluate(): Promise<LogisticEvaluation> {
    this.checkAlive('evaluate');
    const { loss, gradientNormSquared, summary } = await this.evaluateState();
    const { features: D, outputs: K, paddedFeatures: DP } = this;
    const gradient = unpackParams(await this.rt.readF32(this.buffers.dparams, K * DP + K), D, K, DP);
    return {
      loss,
      weightGradient: gradient.weights,
      biasGradient: gradient.bias,
      gradientNormSquared,
      error: summary[this.layout.trialError]!,
    };
  }

  /** z = x̃W + b of every training row at the current parameters, (count, K) row-major. */
  async scores(): Promise<Float32Array> {
    this.checkAlive('scores');
    this.rt.submit(this.plans.scores);
    return this.rt.readF32(this.train.scores, this.train.count * this.outputs);
  }

  /**
   * Runs `steps` steps of gradient descent with a backtracking line search per
   * output, from the current parameters, and returns what each step did.
   */
  async descend(options: DescentOptions = {}): Promise<LogisticStep[]> {
    this.checkAlive('descend');
    const { steps, alpha, beta, maxTrials } = checkDescent(options);
    const K = this.outputs;
    const layout = this.layout;
    const history: LogisticStep[] = [];
    let current = this.state ?? (await this.evaluateState());
    // The summary of a trial with t = 1 submitted together with the previous step's gradient.
    let pending: Float32Array | undefined;

    for (let step = 1; step <= steps; step++) {
      const t = new Float64Array(K).fill(1);
      const trials = new Uint32Array(K);
      const accepted = new Uint8Array(K);
      const newLoss = new Float64Array(K);
      const capped: number[] = [];
      let summary = pending ?? (await this.runTrial(t));
      pending = undefined;
      for (;;) {
        const losses = this.objective(summary, layout.trialLoss, layout.trialNorm);
        let searching = false;
        for (let k = 0; k < K; k++) {
          if (accepted[k]) continue;
          trials[k]!++;
          if (Number.isNaN(losses[k]!)) {
            throw new LogisticDivergedError(step, k, `training loss at t = ${t[k]}`, losses[k]!, trials[k]);
          }
          // Notebook form: while L(w) − L(w − t·g) < α·t·‖g‖²: t ← β·t.
          if (!(current.loss[k]! - losses[k]! < alpha * t[k]! * current.gradientNormSquared[k]!)) {
            accepted[k] = 1;
            newLoss[k] = losses[k]!;
          } else if (trials[k]! >= maxTrials) {
            accepted[k] = 1;
            t[k] = 0;
            capped.push(k);
          } else {
            t[k]! *= beta;
            searching = true;
          }
        }
        if (searching) {
          summary = await this.runTrial(t);
          continue;
        }
        if (capped.length) {
          // Evaluate once more with t = 0 for the outputs that gave up, so the
          // residuals the gradient reads belong to the parameters kept.
          summary = await this.runTrial(t);
          const losses = this.objective(summary, layout.trialLoss, layout.trialNorm);
          for (const k of capped) newLoss[k] = losses[k]!;
        }
        break;
      }
      const trainError = summary[layout.trialError]!;

      // Accept, then the gradient at the new parameters, the test metrics, and
      // (unless this was the last step) the next step's first trial, in one submit.
      const last = step === steps;
      const dispatches = [...this.plans.accept, ...(this.test ? this.plans.test : [])];
      if (!last) {
        this.rt.write(this.buffers.stepSizes, new Float32Array(K).fill(1));
        dispatches.push(...this.plans.trial);
      }
      this.rt.submit(dispatches);
      const after = await this.readSummary();
      const gradientNormSquared = Float64Array.from(after.subarray(layout.gradientNorm, layout.gradientNorm + K));
      for (let k = 0; k < K; k++) {
        if (!Number.isFinite(gradientNormSquared[k]!)) {
          this.state = undefined;
          throw new LogisticDivergedError(step, k, 'squared gradient norm', gradientNormSquared[k]!);
        }
      }
      current = { loss: newLoss, gradientNormSquared };
      this.state = current;
      if (!last) pending = after;

      const record: LogisticStep = { step, t, trials, trainLoss: newLoss, trainError };
      if (this.test) {
        record.testLoss = Float64Array.from(after.subarray(layout.testLoss, layout.testLoss + K));
        record.testError = after[layout.testError]!;
      }
      history.push(record);
      options.onStep?.(record);
    }
    return history;
  }

  /** Frees every GPU buffer of this engine. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const rows = [this.train, ...(this.test ? [this.test] : [])];
    const all = [
      ...Object.values(this.buffers),
      ...rows.flatMap((r) => [r.images, r.targets, r.scores, r.trialScores, r.residual, r.lossTerms]),
    ];
    for (const buffer of all) this.rt.pool.destroy(buffer);
  }

  /** Evaluates z, the loss and the gradient at the current parameters (z, then a trial with t = 0, accepted). */
  private async evaluateState(): Promise<{ loss: Float64Array; gradientNormSquared: Float64Array; summary: Float32Array }> {
    const K = this.outputs;
    const layout = this.layout;
    this.rt.write(this.buffers.stepSizes, new Float32Array(K));
    this.rt.submit([...this.plans.scores, ...this.plans.trial, ...this.plans.accept]);
    const summary = await this.readSummary();
    const loss = this.objective(summary, layout.trialLoss, layout.trialNorm);
    const gradientNormSquared = Float64Array.from(summary.subarray(layout.gradientNorm, layout.gradientNorm + K));
    for (let k = 0; k < K; k++) {
      if (!Number.isFinite(loss[k]!)) throw new LogisticDivergedError(0, k, 'training loss', loss[k]!);
      if (!Number.isFinite(gradientNormSquared[k]!)) {
        throw new LogisticDivergedError(0, k, 'squared gradient norm', gradientNormSquared[k]!);
      }
    }
    this.state = { loss, gradientNormSquared };
    return { loss, gradientNormSquared, summary };
  }

  /** Evaluates the trial parameters w − t_k·g (t per output) on the training rows. */
  private async runTrial(t: Float64Array): Promise<Float32Array> {
    this.rt.write(this.buffers.stepSizes, Float32Array.from(t));
    this.rt.submit(this.plans.trial);
    return this.readSummary();
  }

  private readSummary(): Promise<Float32Array> {
    return this.rt.readF32(this.buffers.summary, this.layout.length);
  }

  /** Mean cross-entropy plus (λ/(2N))·‖w_k‖², in f64, from the summary's f32 sums. */
  private objective(summary: Float32Array, lossAt: number, normAt: number): Float64Array {
    const K = this.outputs;
    const penalty = this.lambda / (2 * this.train.count);
    const out = new Float64Array(K);
    for (let k = 0; k < K; k++) out[k] = summary[lossAt + k]! + penalty * summary[normAt + k]!;
    return out;
  }

  private checkAlive(what: string): void {
    if (this.destroyed) throw new Error(`LogisticRegression.${what}: this engine was destroyed; create a new one.`);
  }
}

/** Trains logistic regression on an image set (bytes), from zero weights. */
export async function trainLogistic(rt: Runtime, train: ImageSet, options: LogisticOptions): Promise<LogisticModel> {
  checkImageSet('trainLogistic train set', train);
  const outputs = checkTargets(options.targets);
  const stats =
    options.standardize === false ? undefined : (options.standardize ?? featureStats(train.images, train.count, train.features));
  const bias = options.bias ?? options.targets.kind === 'one-vs-all';
  let testRows: LogisticRows | undefined;
  if (options.test) {
    checkImageSet('trainLogistic test set', options.test);
    if (options.test.features !== train.features) {
      throw new RangeError(
        `trainLogistic: the test set has ${options.test.features} features per example, the training set ${train.features}.`,
      );
    }
    testRows = imageRows(options.test, options.targets, outputs);
  }
  const engine = await LogisticRegression.create(rt, imageRows(train, options.targets, outputs), {
    bias,
    lambda: options.lambda ?? 0,
    standardize: stats ?? false,
    ...(testRows ? { test: testRows } : {}),
  });
  try {
    const history = await engine.descend(options);
    const { weights, bias: biases } = await engine.parameters();
    return { weights, bias: biases, stats, outputs, targets: options.targets, history };
  } finally {
    engine.destroy();
  }
}

/** z for every test example and the predicted class: 0/1 for binary (z > 0), argmax_k z for one-vs-all. */
export async function predictLogistic(
  rt: Runtime,
  model: LogisticModel,
  test: ImageSet,
): Promise<{ scores: Float32Array; predictions: Uint8Array }> {
  checkImageSet('predictLogistic test set', test);
  const K = model.outputs;
  if (!Number.isInteger(K) || K < 1 || model.weights.length % K !== 0 || model.bias.length !== K) {
    throw new RangeError(
      `predictLogistic: the model has ${model.weights.length} weights and ${model.bias.length} biases for ${K} outputs; ` +
        'expected features × outputs weights and one bias per output.',
    );
  }
  const features = model.weights.length / K;
  if (test.features !== features) {
    throw new RangeError(`predictLogistic: the test set has ${test.features} features per example, the model ${features}.`);
  }
  const rows: LogisticRows = {
    x: test.images.subarray(0, test.count * features),
    targets: new Float32Array(test.count * K),
    count: test.count,
    features,
    outputs: K,
  };
  const engine = await LogisticRegression.create(rt, rows, { bias: true, standardize: model.stats ?? false });
  try {
    engine.setParameters(model.weights, model.bias);
    const scores = await engine.scores();
    const predictions = new Uint8Array(test.count);
    for (let n = 0; n < test.count; n++) {
      if (K === 1) {
        predictions[n] = scores[n]! > 0 ? 1 : 0;
      } else {
        let best = 0;
        for (let k = 1; k < K; k++) if (scores[n * K + k]! > scores[n * K + best]!) best = k;
        predictions[n] = best;
      }
    }
    return { scores, predictions };
  } finally {
    engine.destroy();
  }
}

/** Trains on float rows and float targets (the engine without the image plumbing), from `initial` or zeros. */
export async function trainLogisticRows(
  rt: Runtime,
  train: LogisticRows,
  options: LogisticSetup & DescentOptions & { initial?: { weights: ArrayLike<number>; bias?: ArrayLike<number> } } = {},
): Promise<{ weights: Float32Array; bias: Float32Array; history: LogisticStep[] }> {
  const engine = await LogisticRegression.create(rt, train, options);
  try {
    if (options.initial) engine.setParameters(options.initial.weights, options.initial.bias);
    const history = await engine.descend(options);
    return { ...(await engine.parameters()), history };
  } finally {
    engine.destroy();
  }
}

/** Loss and gradient of float rows at given parameters. */
export async function evaluateLogisticRows(
  rt: Runtime,
  rows: LogisticRows,
  parameters: { weights: ArrayLike<number>; bias?: ArrayLike<number> },
  setup: Omit<LogisticSetup, 'test'> = {},
): Promise<LogisticEvaluation> {
  const engine = await LogisticRegression.create(rt, rows, setup);
  try {
    engine.setParameters(parameters.weights, parameters.bias);
    return await engine.evaluate();
  } finally {
    engine.destroy();
  }
}

/** Targets from labels: (count, K) f32 rows of 0 and 1. */
function labelTargets(labels: Uint8Array, count: number, targets: LogisticTargets): Float32Array {
  const K = checkTargets(targets);
  const out = new Float32Array(count * K);
  for (let n = 0; n < count; n++) {
    const label = labels[n]!;
    if (targets.kind === 'binary') {
      out[n] = label === targets.positive ? 1 : 0;
    } else {
      if (label >= K) {
        throw new RangeError(
          `Logistic regression: label ${n} is ${label}, not below classes = ${K}. Pass one-vs-all classes > the largest label.`,
        );
      }
      out[n * K + label] = 1;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------

function imageRows(set: ImageSet, targets: LogisticTargets, outputs: number): LogisticRows {
  return {
    x: set.images.subarray(0, set.count * set.features),
    targets: labelTargets(set.labels, set.count, targets),
    count: set.count,
    features: set.features,
    outputs,
  };
}

function checkTargets(targets: LogisticTargets): number {
  if (targets.kind === 'binary') {
    if (!Number.isInteger(targets.positive) || targets.positive < 0 || targets.positive > 255) {
      throw new RangeError(`Logistic regression: the positive label must be an integer 0–255, got ${targets.positive}.`);
    }
    return 1;
  }
  if (targets.kind === 'one-vs-all') {
    if (!Number.isInteger(targets.classes) || targets.classes < 2 || targets.classes > 256) {
      throw new RangeError(`Logistic regression: one-vs-all needs an integer number of classes 2–256, got ${targets.classes}.`);
    }
    return targets.classes;
  }
  throw new TypeError(`Logistic regression: targets.kind must be 'binary' or 'one-vs-all', got '${(targets as { kind: string }).kind}'.`);
}

function checkRows(what: string, rows: LogisticRows): void {
  const { count, features, outputs } = rows;
  for (const [name, value] of [['count', count], ['features', features], ['outputs', outputs]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what}: ${name} must be an integer ≥ 1, got ${value}.`);
  }
  if (!(rows.x instanceof Uint8Array) && !(rows.x instanceof Float32Array)) {
    throw new TypeError(`${what}: x must be a Uint8Array (bytes) or a Float32Array.`);
  }
  if (rows.x.length < count * features) {
    throw new RangeError(`${what}: x holds ${rows.x.length} values, fewer than count × features = ${count} × ${features}.`);
  }
  if (rows.x instanceof Float32Array) {
    for (let i = 0; i < count * features; i++) {
      if (!Number.isFinite(rows.x[i]!)) {
        throw new RangeError(
          `${what}: x[${i}] (sample ${Math.floor(i / features)}, feature ${i % features}) is ${rows.x[i]}. ` +
            'Every sample value must be finite: remove or impute the sample before training.',
        );
      }
    }
  }
  if (rows.targets.length !== count * outputs) {
    throw new RangeError(
      `${what}: targets hold ${rows.targets.length} values; expected count × outputs = ${count} × ${outputs}.`,
    );
  }
  for (let i = 0; i < rows.targets.length; i++) {
    const y = rows.targets[i]!;
    if (!(y >= 0 && y <= 1)) {
      throw new RangeError(
        `${what}: target ${i} (sample ${Math.floor(i / outputs)}, output ${i % outputs}) is ${y}; targets must lie in [0, 1].`,
      );
    }
  }
}

function checkDescent(options: DescentOptions): { steps: number; alpha: number; beta: number; maxTrials: number } {
  const steps = options.steps ?? DEFAULTS.steps;
  const alpha = options.alpha ?? DEFAULTS.alpha;
  const beta = options.beta ?? DEFAULTS.beta;
  const maxTrials = options.maxTrials ?? DEFAULTS.maxTrials;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`Logistic regression: steps must be an integer ≥ 0, got ${steps}.`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`Logistic regression: alpha must lie in (0, 1), got ${alpha}.`);
  if (!(beta > 0 && beta < 1)) throw new RangeError(`Logistic regression: beta must lie in (0, 1), got ${beta}.`);
  if (!Number.isInteger(maxTrials) || maxTrials < 1) {
    throw new RangeError(`Logistic regression: maxTrials must be an integer ≥ 1, got ${maxTrials}.`);
  }
  return { steps, alpha, beta, maxTrials };
}

function fits(rt: Runtime, what: string, bytes: number, advice: string): void {
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
  if (bytes > limit) {
    throw new RangeError(
      `Logistic regression: ${what} need ${formatBytes(bytes)}, more than this adapter's storage-buffer limit of ` +
        `${formatBytes(limit)}. ${advice}`,
    );
  }
}

/**
 * The samples as the kernels read them: rows of `padded` features (a multiple
 * of 4), zero after the last feature; bytes stay bytes (four to a word), f32 stays f32.
 */
function packRows(rows: LogisticRows, padded: number): Uint8Array | Float32Array {
  const { x, count, features } = rows;
  if (padded === features) return x.subarray(0, count * features);
  const out = x instanceof Float32Array ? new Float32Array(count * padded) : new Uint8Array(count * padded);
  for (let n = 0; n < count; n++) out.set(x.subarray(n * features, (n + 1) * features), n * padded);
  return out;
}

/** (K·DP + K) kernel layout → weights (D, K) row-major and bias (K). */
function unpackParams(params: Float32Array, D: number, K: number, DP: number): { weights: Float32Array; bias: Float32Array } {
  const weights = new Float32Array(D * K);
  for (let d = 0; d < D; d++) for (let k = 0; k < K; k++) weights[d * K + k] = params[k * DP + d]!;
  return { weights, bias: params.slice(K * DP, K * DP + K) };
}

// ---------------------------------------------------------------------------
// Pipelines and recorded dispatches.

interface Kernels {
  scoresTrain: Kernel;
  scoresTest: Kernel | undefined;
  lossTrain: Kernel;
  lossTest: Kernel | undefined;
  lossSumsTrain: Kernel;
  lossSumsTest: Kernel | undefined;
  gradient: Kernel;
  gradientSums: Kernel;
  biasSums: Kernel;
  makeTrial: Kernel;
  copyParams: Kernel;
  copyScores: Kernel;
  finish: Kernel;
}

/** The recorded dispatch lists, replayed as they are. */
interface Plans {
  /** make_trial, logistic_loss on the training rows at z − t·u, the loss sums. */
  trial: Dispatch[];
  /** Accept the trial (parameters and scores), the gradient there, finish_gradient, the next direction. */
  accept: Dispatch[];
  /** z on the test rows at the parameters, their loss and error sums. */
  test: Dispatch[];
  /** z on the training rows at the parameters. */
  scores: Dispatch[];
}

const storageBinding = (name: string) => ({ name, kind: 'storage' as const });
const readBinding = (name: string) => ({ name, kind: 'read-only-storage' as const });

async function buildKernels(
  rt: Runtime,
  s: {
    words: number;
    K: number;
    f32Input: boolean;
    bias: boolean;
    lambda: number;
    N: number;
    chunk: number;
    testN: number | undefined;
    layout: Layout;
  },
): Promise<Kernels> {
  const { words, K, N, layout } = s;
  const paddedFeatures = words * 4;
  const paramCount = K * paddedFeatures + K;
  const chunks = Math.ceil(N / s.chunk);
  const threadOutputs = Math.min(K, OUTPUTS_PER_THREAD);
  const spec = (
    entryPoint: string,
    bindings: ProgramSpec['bindings'],
    overrides: Record<string, number>,
    threads = THREADS,
  ): ProgramSpec => ({
    name: `logistic ${entryPoint}`,
    sources: [source],
    entryPoint,
    bindings,
    overrides: { D4: words, K, ...overrides },
    defines: { F32_INPUT: s.f32Input },
    workgroupSize: [threads],
  });
  const scores = (count: number) =>
    rt.kernel(
      spec('logistic_scores', [readBinding('images'), readBinding('standardize'), readBinding('p'), storageBinding('out')],
        { N: count, THREAD_OUTPUTS: threadOutputs }),
    );
  const loss = (count: number) =>
    rt.kernel(
      spec(
        'logistic_loss',
        [readBinding('scores'), readBinding('direction'), readBinding('trial_steps'), readBinding('targets'),
          storageBinding('trial_scores'), storageBinding('residual'), storageBinding('loss_terms')],
        { N: count },
      ),
    );
  const columnSums = (entryPoint: 'column_sums' | 'column_sums_in_order', rows: number, columns: number, offset: number,
    scale: number, threads: number) =>
    rt.kernel(
      spec(entryPoint, [readBinding('values'), storageBinding('sums')],
        { ROWS: rows, COLUMNS: columns, OUT_OFFSET: offset, SCALE: scale }, threads),
    );
  const copy = (count: number) =>
    rt.kernel(spec('copy_values', [readBinding('copy_source'), storageBinding('copy_target')], { COUNT: count }));
  const [scoresTrain, scoresTest, lossTrain, lossTest, lossSumsTrain, lossSumsTest, gradient, gradientSums, biasSums,
    makeTrial, copyParams, copyScores, finish] = await Promise.all([
    scores(N),
    s.testN ? scores(s.testN) : undefined,
    loss(N),
    s.testN ? loss(s.testN) : undefined,
    columnSums('column_sums', N, K + 1, layout.trialLoss, 1 / N, SUM_THREADS),
    s.testN ? columnSums('column_sums', s.testN, K + 1, layout.testLoss, 1 / s.testN, SUM_THREADS) : undefined,
    rt.kernel(
      spec('logistic_gradient', [readBinding('images'), readBinding('standardize'), readBinding('residual_in'),
        storageBinding('gradient_partials')], { N, CHUNK: s.chunk, THREAD_OUTPUTS: threadOutputs }),
    ),
    columnSums('column_sums_in_order', chunks, K * paddedFeatures, 0, 1 / N, THREADS),
    columnSums('column_sums', N, K, K * paddedFeatures, 1 / N, SUM_THREADS),
    rt.kernel(
      spec('make_trial', [readBinding('current'), readBinding('gradient'), readBinding('step_sizes'), storageBinding('trial'),
        storageBinding('summary')], { NORM_OFFSET: layout.trialNorm }),
    ),
    copy(paramCount),
    copy(N * K),
    rt.kernel(
      spec('finish_gradient', [readBinding('weights_now'), storageBinding('dparams'), storageBinding('norms')],
        { NORM_OFFSET: layout.gradientNorm, L2_OVER_N: s.lambda / N, HAS_BIAS: s.bias ? 1 : 0 }),
    ),
  ]);
  return { scoresTrain, scoresTest, lossTrain, lossTest, lossSumsTrain, lossSumsTest, gradient, gradientSums, biasSums,
    makeTrial, copyParams, copyScores, finish };
}

/** Workgroups for one workgroup per column, folded into 2-D past the per-dimension limit. */
function perColumn(rt: Runtime, columns: number): [number, number, number] {
  const x = Math.min(columns, rt.limits.maxComputeWorkgroupsPerDimension);
  return [x, Math.ceil(columns / x), 1];
}

function recordPlans(
  rt: Runtime,
  kernels: Kernels,
  s: { trainRows: RowBuffers; testRows: RowBuffers | undefined; buffers: EngineBuffers; K: number; words: number; chunks: number; bias: boolean },
): Plans {
  const { trainRows: train, testRows: test, buffers: b, K, words, chunks } = s;
  const DP = words * 4;
  const paramCount = K * DP + K;
  const scores = (kernel: Kernel, rows: RowBuffers, params: GPUBuffer, out: GPUBuffer, label: string): Dispatch =>
    rt.dispatch(
      kernel,
      [
        { buffer: rows.images, shape: [rows.count, words] },
        { buffer: b.standardize, shape: [2, words] },
        { buffer: params, shape: [paramCount] },
        { buffer: out, shape: [rows.count, K] },
      ],
      [Math.ceil(rows.count / 4 / THREADS), Math.ceil(K / OUTPUTS_PER_THREAD), 1],
      label,
    );
  const loss = (kernel: Kernel, rows: RowBuffers, direction: GPUBuffer, steps: GPUBuffer, label: string): Dispatch =>
    rt.dispatch(
      kernel,
      [
        { buffer: rows.scores, shape: [rows.count, K] },
        { buffer: direction, shape: [rows.count, K] },
        { buffer: steps, shape: [K] },
        { buffer: rows.targets, shape: [rows.count, K] },
        { buffer: rows.trialScores, shape: [rows.count, K] },
        { buffer: rows.residual, shape: [rows.count, K] },
        { buffer: rows.lossTerms, shape: [rows.count, K + 1] },
      ],
      [Math.ceil(rows.count / THREADS), 1, 1],
      label,
    );
  const sums = (kernel: Kernel, values: GPUBuffer, rows: number, columns: number, out: GPUBuffer, label: string,
    grid: [number, number, number]): Dispatch =>
    rt.dispatch(kernel, [{ buffer: values, shape: [rows, columns] }, { buffer: out }], grid, label);
  const copy = (kernel: Kernel, from: GPUBuffer, to: GPUBuffer, count: number, label: string): Dispatch =>
    rt.dispatch(kernel, [from, to], [Math.ceil(count / THREADS), 1, 1], label);

  const trial = [
    rt.dispatch(kernels.makeTrial, [b.params, b.dparams, b.stepSizes, b.trial, b.summary], [K, 1, 1], 'logistic trial parameters'),
    loss(kernels.lossTrain, train, b.direction, b.stepSizes, 'logistic trial loss terms (train)'),
    sums(kernels.lossSumsTrain, train.lossTerms, train.count, K + 1, b.summary, 'logistic trial loss', perColumn(rt, K + 1)),
  ];
  const accept = [
    copy(kernels.copyParams, b.trial, b.params, paramCount, 'logistic accept parameters'),
    copy(kernels.copyScores, train.trialScores, train.scores, train.count * K, 'logistic accept scores'),
    rt.dispatch(
      kernels.gradient,
      [
        { buffer: train.images, shape: [train.count, words] },
        { buffer: b.standardize, shape: [2, words] },
        { buffer: train.residual, shape: [train.count, K] },
        { buffer: b.gradientPartials, shape: [chunks, K, DP] },
      ],
      [Math.ceil((words * Math.ceil(K / OUTPUTS_PER_THREAD)) / THREADS), chunks, 1],
      'logistic gradient partials',
    ),
    sums(kernels.gradientSums, b.gradientPartials, chunks, K * DP, b.dparams, 'logistic weight gradient',
      [Math.ceil((K * DP) / THREADS), 1, 1]),
    ...(s.bias
      ? [sums(kernels.biasSums, train.residual, train.count, K, b.dparams, 'logistic bias gradient', perColumn(rt, K))]
      : []),
    rt.dispatch(kernels.finish, [b.params, b.dparams, b.summary], [K, 1, 1], 'logistic finish gradient'),
    scores(kernels.scoresTrain, train, b.dparams, b.direction, 'logistic direction (train)'),
  ];
  const testPlan =
    test && kernels.scoresTest && kernels.lossTest && kernels.lossSumsTest
      ? [
          scores(kernels.scoresTest, test, b.params, test.scores, 'logistic scores (test)'),
          // t = 0: the direction is never read; the scores stand in for it.
          loss(kernels.lossTest, test, test.scores, b.zeroSteps, 'logistic loss terms (test)'),
          sums(kernels.lossSumsTest, test.lossTerms, test.count, K + 1, b.summary, 'logistic test loss', perColumn(rt, K + 1)),
        ]
      : [];
  return {
    trial,
    accept,
    test: testPlan,
    scores: [scores(kernels.scoresTrain, train, b.params, train.scores, 'logistic scores (train)')],
  };
}

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
import { affineFor, featureStats } from '../data/preprocess.js';
import type { ImageSet } from '../data/images.js';
import type { Runtime } from '../gpu/runtime.js';
import {
  recordPlans, summaryLayout, type EngineBuffers, type Layout, type Plans, type RowBuffers,
} from './logistic-kernels.js';
import { checkDescent, checkRows, checkTargets, fits, imageRows, packRows, unpackParams } from './logistic-rows.js';
import {
  LogisticDivergedError, type DescentOptions, type LogisticEvaluation, type LogisticModel, type LogisticOptions,
  type LogisticRows, type LogisticSetup, type LogisticStep,
} from './logistic-types.js';
import { checkImageSet } from './types.js';

export * from './logistic-types.js';

/** The gradient's samples are cut into at most this many chunks (rows of its partial sums). */
const MAX_CHUNKS = 256;
/** Samples per chunk at least (fewer chunks for small sets). */
const MIN_CHUNK = 256;

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
      const plans = await recordPlans(rt, { trainRows, testRows, buffers, K, words, f32Input, chunk, bias, lambda, layout });
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
export async function trainLogistic(rt: Runtime, trainSet: ImageSet, options: LogisticOptions): Promise<LogisticModel> {
  const train = checkImageSet('trainLogistic train set', trainSet);
  const outputs = checkTargets(options.targets);
  const stats =
    options.standardize === false ? undefined : (options.standardize ?? featureStats(train.images, train.count, train.features));
  const bias = options.bias ?? options.targets.kind === 'one-vs-all';
  let testRows: LogisticRows | undefined;
  if (options.test) {
    const test = checkImageSet('trainLogistic test set', options.test);
    if (test.features !== train.features) {
      throw new RangeError(
        `trainLogistic: the test set has ${test.features} features per example, the training set ${train.features}.`,
      );
    }
    testRows = imageRows(test, options.targets, outputs);
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
  testSet: ImageSet,
): Promise<{ scores: Float32Array; predictions: Uint8Array }> {
  const test = checkImageSet('predictLogistic test set', testSet);
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


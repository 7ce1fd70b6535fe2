/**
 * The Sequential model: Keras's compile / fit / evaluate / predict / summary
 * on WebGPU. It keeps the layers, the input shape and the compiled loss and
 * optimizer, checks what it is given, and delegates to the rooms beside it:
 * parameters.ts (layout, initialisation, weights), optimizer-state.ts,
 * gpu-model.ts (all of it on the GPU, with the plans of plan.ts), trainer.ts
 * (the step loop), checkpoint.ts and inspection.ts (inspectStep, timeStep).
 */
import type { Dataset } from '../data/dataset.js';
import { defaultRuntime } from '../gpu/device.js';
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { sizeOf, type Layer, type Shape } from '../layers/layer.js';
import { resolveLoss, type Loss } from '../losses/losses.js';
import { resolveOptimizer, type Optimizer, type OptimizerName } from '../optimizers/optimizers.js';
import { getPlatform } from '../platform/platform.js';
import { checkpointBytes, checkSameModel, decodeCheckpoint, restoreCheckpoint, type CheckpointHeader } from './checkpoint.js';
import { checkSampleShape, checkTargets } from './data-checks.js';
import { exportModel, type ExportFormat } from './export.js';
import { GpuModel } from './gpu-model.js';
import type { History } from './history.js';
import { chooseSamples, inspectStep, timeStep, type SingleStep, type StepInspection, type StepOptions } from './inspection.js';
import { lossPlan, type Workspace } from './plan.js';
import { layerShapes, nameLayers } from './shapes.js';
import { formatSummary, summaryRows } from './summary.js';
import { checkFitOptions, classesOf, evaluate, fit, predict, type EvaluateResult, type FitOptions, type FitStats } from './trainer.js';

export type { EvaluateResult, FitOptions, FitStats } from './trainer.js';
export type { LayerStep, StepInspection, StepOptions, TensorReadback } from './inspection.js';

export interface SequentialOptions {
  /** Shape of one sample, e.g. [28, 28]; else taken from the first dataset fit sees. */
  inputShape?: Shape;
  name?: string;
  /** Seeds the initial weights (default 0), unless fit's `seed` comes first. */
  seed?: number;
  /** The runtime to train on (default: the shared one from defaultRuntime()). */
  runtime?: Runtime;
}

export interface CompileOptions {
  optimizer: Optimizer | OptimizerName;
  loss: Loss | string;
  /** 'accuracy' is always computed; the list is accepted for Keras familiarity. */
  metrics?: string[];
}

export class Sequential {
  /** Start-up and step size of the last `fit` (see FitStats). */
  lastFitStats: FitStats | undefined;
  readonly layers: Layer[];
  readonly name: string;
  private inputShapeValue: Shape | undefined;
  private readonly seed: number;
  private readonly runtimeOption: Runtime | undefined;
  private compiled: { optimizer: Optimizer; loss: Loss } | undefined;
  private gpu: GpuModel | undefined;
  /** Set by a callback to end fit after the current epoch. */
  stopTraining = false;
  /** dispose() was called: the weights are gone, and the model refuses to train or run. */
  private disposed = false;
  /** interrupt() was called: fit stops at the next step boundary it reaches. */
  private interruptRequested = false;

  /**
   * Asks a running fit to stop at the next step boundary: it throws TrainingInterruptedError with what
   * finishes the epoch later. Safe to call from a signal handler.
   */
  interrupt(): void {
    this.interruptRequested = true;
  }

  constructor(layers: Layer[], options: SequentialOptions = {}) {
    if (!layers.length) throw new Error('A Sequential model needs at least one layer.');
    this.layers = layers;
    this.name = options.name ?? 'sequential';
    this.seed = options.seed ?? 0;
    this.runtimeOption = options.runtime;
    nameLayers(layers);
    if (options.inputShape) this.build(options.inputShape);
  }

  get inputShape(): Shape | undefined {
    return this.inputShapeValue;
  }

  /** Checks every layer's shapes for this input and returns the shapes between layers. */
  build(inputShape: Shape): Shape[] {
    const shapes = layerShapes(this.layers, inputShape, this.inputShapeValue);
    this.inputShapeValue = inputShape;
    return shapes;
  }

  private requireShapes(): Shape[] {
    if (!this.inputShapeValue) throw new Error('The model has no input shape yet: pass inputShape to sequential(), or call fit first.');
    return this.build(this.inputShapeValue);
  }

  compile(options: CompileOptions): void {
    const optimizer = resolveOptimizer(options.optimizer);
    const loss = resolveLoss(options.loss);
    for (const metric of options.metrics ?? []) {
      if (!['accuracy', 'acc'].includes(metric)) throw new Error(`Unknown metric '${metric}'; shaderprop computes 'accuracy'.`);
    }
    this.compiled = { optimizer, loss };
    this.gpu?.disposeOptimizer();
    this.gpu?.disposePlans();
  }

  /** The Keras summary table (needs the input shape). */
  summary(): string {
    return formatSummary(this.name, summaryRows(this.layers, this.requireShapes()[0]!));
  }

  countParams(): number {
    return summaryRows(this.layers, this.requireShapes()[0]!).reduce((t, r) => t + r.params, 0);
  }

  /** Throws when the model was disposed: its trained weights are gone, and new random ones would be a silent restart. */
  private checkNotDisposed(what: string): void {
    if (!this.disposed) return;
    throw new Error(
      `Model '${this.name}' was disposed, so its weights are gone; ${what} would start from new random weights. ` +
        'Create a new model (and load a checkpoint into it, if you saved one).',
    );
  }

  /** The model on the GPU, its parameters initialised with `seed` on first use. */
  private async ensureGpu(seed = this.seed): Promise<GpuModel> {
    this.checkNotDisposed('using it');
    if (this.gpu) {
      this.gpu.rt.checkAlive();
      return this.gpu;
    }
    const rt = this.runtimeOption ?? (await defaultRuntime());
    this.gpu = GpuModel.create(rt, this.name, this.layers, this.requireShapes(), seed, () => lossPlan(this.layers, this.requireShapes(), this.compiled?.loss));
    return this.gpu;
  }

  private requireCompiled(what: string): { optimizer: Optimizer; loss: Loss } {
    if (!this.compiled) throw new Error(`Call model.compile({ optimizer, loss }) before ${what}.`);
    return this.compiled;
  }

  /** Shapes, and targets that fit the loss and the output layer. */
  private checkData(dataset: Dataset, what: string): void {
    checkSampleShape(dataset, this.inputShapeValue, what);
    if (this.compiled) checkTargets(dataset, this.compiled.loss.name, sizeOf(this.requireShapes().at(-1)!), what);
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<History> {
    this.checkNotDisposed('fit');
    const clock = { started: performance.now(), tuning: (this.runtime ?? this.runtimeOption)?.tuner.tuningSeconds ?? 0 };
    checkFitOptions(options);
    const compiled = this.requireCompiled('fit');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.checkData(data, 'Training data');
    const gpu = await this.ensureGpu(options.seed ?? this.seed);
    const optimizer = await gpu.optimizerFor(compiled.optimizer);
    this.stopTraining = false;
    this.interruptRequested = false;
    return fit(gpu, optimizer, data, options, {
      seed: this.seed,
      checkData: (dataset, what) => this.checkData(dataset, what),
      stopRequested: () => this.stopTraining,
      interruptRequested: () => this.interruptRequested,
      clock,
      onStarted: (stats) => (this.lastFitStats = stats),
    });
  }

  /** Mean loss and accuracy over a dataset (forward passes only). */
  async evaluate(data: Dataset, options: { batchSize?: number } = {}): Promise<EvaluateResult> {
    this.checkNotDisposed('evaluate');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.requireCompiled('evaluate');
    this.checkData(data, 'Evaluation data');
    return evaluate(await this.ensureGpu(), data, options.batchSize ?? 128);
  }

  /** Model outputs for every sample of `data`, (N, outputs) row-major: probabilities for softmax models. */
  async predict(data: Dataset, options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.checkNotDisposed('predict');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    checkSampleShape(data, this.inputShapeValue, 'Prediction data');
    return predict(await this.ensureGpu(), data, options.batchSize ?? 128);
  }

  /** Predicted class of every sample (argmax of the outputs; threshold 0.5 for one output). */
  async predictClasses(data: Dataset, options: { batchSize?: number } = {}): Promise<Uint32Array> {
    return classesOf(await this.predict(data, options), data.count);
  }

  /** Every parameter tensor, read back: [{ layer, name, shape, values }]. */
  async getWeights(): Promise<{ layer: string; name: string; shape: number[]; values: Float32Array }[]> {
    return (await this.ensureGpu()).params.getWeights();
  }

  /** Replaces every parameter tensor (same order and sizes as getWeights). */
  async setWeights(weights: readonly { values: Float32Array }[]): Promise<void> {
    (await this.ensureGpu()).params.setWeights(weights);
  }

  /** The model (weights, optimizer state, iteration) as checkpoint bytes; see checkpoint.ts. */
  async checkpointBytes(meta: Record<string, unknown> = {}): Promise<Uint8Array> {
    const gpu = await this.ensureGpu();
    return checkpointBytes({ name: this.name, inputShape: this.inputShapeValue!, layers: this.layers }, gpu, meta);
  }

  /** Writes a checkpoint file atomically (temporary file, then rename). */
  async save(path: string, meta: Record<string, unknown> = {}): Promise<void> {
    await (await getPlatform()).writeFileAtomic(path, await this.checkpointBytes(meta));
  }

  /** Restores weights (and, compiled with the same optimizer, its state and iteration) from checkpoint bytes. */
  async restore(bytes: Uint8Array, name = 'checkpoint'): Promise<CheckpointHeader> {
    const saved = decodeCheckpoint(bytes, name);
    if (!this.inputShapeValue) this.build(saved.header.inputShape);
    checkSameModel(saved.header, { name: this.name, inputShape: this.inputShapeValue!, layers: this.layers }, name);
    await restoreCheckpoint(await this.ensureGpu(), saved, this.compiled?.optimizer, name);
    return saved.header;
  }

  /**
   * Writes the model for other frameworks: 'safetensors' (the file `path`; `loadSafetensors` reads it back) or
   * 'tfjs' (TensorFlow.js's Layers format, model.json and weights.bin in the folder `path`). Returns the paths written.
   */
  async export(format: ExportFormat, path: string): Promise<string[]> {
    return exportModel(this, format, path);
  }

  /** Reads a checkpoint file written by `save`. */
  async load(path: string): Promise<CheckpointHeader> {
    return this.restore(await (await getPlatform()).readFile(path), path);
  }

  /** The optimizer's iteration count (updates applied so far). */
  async iterations(): Promise<number> {
    return this.gpu ? this.gpu.iterations() : 0;
  }

  /** The runtime this model trains on (after the first fit/evaluate/predict). */
  get runtime(): Runtime | undefined {
    return this.gpu?.rt;
  }

  /** Workspaces built so far: their recorded dispatches, for the shader view. */
  get plans(): readonly Workspace[] {
    return this.gpu ? [...this.gpu.workspaces.values()] : [];
  }

  /** The dispatches of one training step at `batch`, in order (for inspection). */
  async trainingStep(data: Dataset, batch = 32): Promise<Dispatch[]> {
    if (!this.inputShapeValue) this.build(data.sampleShape);
    const gpu = await this.ensureGpu();
    const optimizer = await gpu.optimizerFor(this.requireCompiled('fit').optimizer);
    const stream = await gpu.stream('train', data, batch, data.count);
    return stream.step(optimizer.dispatches);
  }

  /**
   * Runs one real training step (forward, loss, backward, optimizer update) on
   * the samples at `positions` of `data` (default: its first batch) and reads
   * back, per layer, the activations and gradients it produced. The model
   * trains by that one step; see inspection.ts.
   */
  async inspectStep(data: Dataset, options: StepOptions = {}): Promise<StepInspection> {
    return inspectStep(await this.singleStep(data, options, 'inspectStep'));
  }

  /**
   * Runs one real training step as inspectStep does, every dispatch in its own timed pass: the dispatches and
   * the GPU time of each in nanoseconds (null without 'timestamp-query'). The model trains by that one step.
   */
  async timeStep(data: Dataset, options: StepOptions = {}): Promise<{ dispatches: Dispatch[]; times: Float64Array | null }> {
    return timeStep(await this.singleStep(data, options, 'timeStep'));
  }

  /** The training stream and the chosen samples of a one-step call (inspectStep, timeStep). */
  private async singleStep(data: Dataset, options: StepOptions, what: string): Promise<SingleStep> {
    const compiled = this.requireCompiled(what);
    const { batch, chosen } = chooseSamples(data, options, what);
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.checkData(data, 'Step data');
    const gpu = await this.ensureGpu();
    const optimizer = await gpu.optimizerFor(compiled.optimizer);
    const stream = await gpu.stream('train', data, batch, data.count);
    return { gpu, optimizer, stream, chosen, batch };
  }

  /** Frees every GPU buffer of this model. */
  dispose(): void {
    this.disposed = true;
    this.gpu?.dispose();
    this.gpu = undefined;
  }
}

export function sequential(layers: Layer[], options: SequentialOptions = {}): Sequential {
  return new Sequential(layers, options);
}

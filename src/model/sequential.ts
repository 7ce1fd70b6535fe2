/**
 * The Sequential model: Keras's compile / fit / evaluate / predict / summary
 * on WebGPU.
 *
 * All parameters live in one flat GPU buffer (each tensor aligned to 256
 * bytes, the storage-binding offset alignment), gradients in another of the
 * same layout, and the optimizer's state in one or two more. Training replays
 * recorded dispatches (src/model/plan.ts) many steps per submit; the CPU reads
 * the StepState back once per epoch, or every `progressEvery` steps when a
 * callback wants progress.
 */
import { Rng } from '../data/random.js';
import type { Dataset } from '../data/dataset.js';
import { defaultRuntime } from '../gpu/device.js';
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { initialize } from '../init/initializers.js';
import type { Layer, Shape } from '../layers/layer.js';
import { LayerShapeError, sizeOf } from '../layers/layer.js';
import { planLoss, resolveLoss, type Loss } from '../losses/losses.js';
import { hyperUniform, optimizerStep, slotCount } from '../ops/optimizer.js';
import { createStepState, readStepState, resetStepState, type StepStateValues } from '../ops/step.js';
import { learningRateAt, resolveOptimizer, scheduleHyper, type Optimizer, type OptimizerName } from '../optimizers/optimizers.js';
import { History, TrainingDivergedError, TrainingInterruptedError, type BatchLogs, type Callback, type EpochLogs, type EpochProgress } from './history.js';
import { Stream, Workspace, type LossPlan, type ModelLayout, type ParamView, type StreamRole } from './plan.js';
import { formatSummary, summaryRows } from './summary.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointHeader } from './checkpoint.js';
import { exportModel, type ExportFormat } from './export.js';
import { getPlatform } from '../platform/platform.js';
import { timeDispatches } from '../gpu/timing.js';
import { formatBytes } from '../gpu/buffers.js';

/** f32 elements per 256 bytes: every parameter tensor starts on this boundary. */
const ALIGN = 64;

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

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** Hold out this fraction, taken from the END of the data as Keras does. */
  validationSplit?: number;
  validationData?: Dataset;
  /** Seeds shuffling (and the initial weights, if the model has none yet). Default: the model's seed. */
  seed?: number;
  callbacks?: Callback[];
  /** Steps between onBatchEnd calls (default 50, when a callback has onBatchEnd). */
  progressEvery?: number;
  /** Steps recorded into one command buffer (default 64). */
  stepsPerSubmit?: number;
  /** First epoch number (for resuming). */
  initialEpoch?: number;
  /**
   * Steps of `initialEpoch` already done, and its sums so far (from a
   * TrainingInterruptedError): fit finishes that epoch as an unbroken run would.
   */
  initialProgress?: EpochProgress;
}

export interface EvaluateResult {
  loss: number;
  accuracy: number;
  samples: number;
}

/** A tensor read back from the GPU: (samples, ...shape) row-major for activations. */
export interface TensorReadback {
  shape: number[];
  values: Float32Array;
}

/** One layer in one training step, as `inspectStep` reads it back. */
export interface LayerStep {
  name: string;
  /** 'Dense', 'Conv2D', ... */
  typeName: string;
  /** e.g. 'Dense(10, softmax)'. */
  description: string;
  /** Its output over the batch, (samples, ...output shape). */
  output: TensorReadback;
  /** The output holds pre-activation sums: the loss applies this (last) layer's activation itself. */
  outputIsPreActivation: boolean;
  /**
   * The gradient its parameter kernels consumed: dL/d(pre-activation sum) when
   * the layer applies a non-linear activation, else dL/d(output); null for a
   * layer without parameters.
   */
  delta: (TensorReadback & { of: 'pre-activation' | 'output' }) | null;
  /** Gradients of its parameters in this step (kernel, bias), before the update. */
  grads: { name: string; shape: number[]; values: Float32Array }[];
}

/** One training step made visible: the batch, every layer's activations and gradients, the step's loss. */
export interface StepInspection {
  /** The batch size the step ran at, and the samples in it. */
  batch: number;
  samples: number;
  /** Mean loss and accuracy of the batch, before the update. */
  loss: number;
  accuracy: number;
  /** Updates applied so far, this step's included. */
  iteration: number;
  /** The batch as the first layer sees it (after preprocessing), (samples, ...input shape). */
  input: TensorReadback;
  /** Class of each sample. */
  labels: Uint32Array;
  layers: LayerStep[];
}

interface GpuState {
  rt: Runtime;
  layout: ModelLayout;
  totalParams: number;
  trainState: GPUBuffer;
  workspaces: Map<string, Workspace>;
  streams: Map<string, Stream>;
  optimizer?: {
    config: Optimizer;
    slots: GPUBuffer[];
    hypers: GPUBuffer[];
    dispatches: Dispatch[];
  };
}

/** What the last `fit` cost before training began, and the size of its step. */
export interface FitStats {
  /** Seconds from the call to `fit` to the first submitted step (pipelines, kernel tuning, buffers). */
  startupSeconds: number;
  /** Of those, seconds spent timing kernel variants (0 when choices came from the cache). */
  tuningSeconds: number;
  /** Dispatches recorded for one training step. */
  dispatchesPerStep: number;
}

export class Sequential {
  /** Start-up and step size of the last `fit` (see FitStats). */
  lastFitStats: FitStats | undefined;
  private fitClock: { started: number; tuning: number } | undefined;
  readonly layers: Layer[];
  readonly name: string;
  private inputShapeValue: Shape | undefined;
  private readonly seed: number;
  private readonly runtimeOption: Runtime | undefined;
  private compiled: { optimizer: Optimizer; loss: Loss } | undefined;
  private gpu: GpuState | undefined;
  /** Set by a callback to end fit after the current epoch. */
  stopTraining = false;
  /** dispose() was called: the weights are gone, and the model refuses to train or run. */
  private disposed = false;
  /** interrupt() was called: fit stops at the next step boundary it reaches. */
  private interruptRequested = false;

  /**
   * Asks a running fit to stop between two steps (at the end of the steps
   * already submitted): it then throws TrainingInterruptedError with what is
   * needed to finish the epoch later. Safe to call from a signal handler.
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
    const counts = new Map<string, number>();
    const names = new Set<string>();
    for (const layer of layers) {
      if (!layer.name) {
        const base = layer.typeName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace('max_pooling2_d', 'max_pooling2d').replace('conv2_d', 'conv2d');
        const n = counts.get(base) ?? 0;
        counts.set(base, n + 1);
        layer.name = n ? `${base}_${n}` : base;
      }
      if (names.has(layer.name)) throw new Error(`Two layers are named '${layer.name}'; layer names must be unique.`);
      names.add(layer.name);
    }
    if (options.inputShape) this.build(options.inputShape);
  }

  get inputShape(): Shape | undefined {
    return this.inputShapeValue;
  }

  /** Checks every layer's shapes for this input and returns the shapes between layers. */
  build(inputShape: Shape): Shape[] {
    if (!inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`Input shape [${inputShape.join(', ')}] must be positive integers (without the batch axis).`);
    }
    if (this.inputShapeValue && this.inputShapeValue.join(',') !== inputShape.join(',')) {
      throw new Error(
        `The model was built for inputs of shape (None, ${this.inputShapeValue.join(', ')}) but got (None, ${inputShape.join(', ')}).`,
      );
    }
    const shapes: Shape[] = [inputShape];
    let shape = inputShape;
    for (const layer of this.layers) {
      shape = layer.outputShape(shape);
      if (shape.some((d) => !(d > 0))) {
        throw new LayerShapeError(layer.name, `its output shape (None, ${shape.join(', ')}) has an empty dimension.`);
      }
      shapes.push(shape);
    }
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
    if (this.gpu) {
      this.disposeOptimizer(this.gpu);
      this.disposePlans(this.gpu);
    }
  }

  /** The Keras summary table (needs the input shape). */
  summary(): string {
    this.requireShapes();
    return formatSummary(this.name, summaryRows(this.layers, this.inputShapeValue!));
  }

  countParams(): number {
    this.requireShapes();
    return summaryRows(this.layers, this.inputShapeValue!).reduce((t, r) => t + r.params, 0);
  }

  private lossPlan(shapes: Shape[]): LossPlan {
    const last = this.layers[this.layers.length - 1]!;
    // Uncompiled, a model can still predict (one just loaded, say): with a loss that absorbs
    // no activation, every layer applies its own. fit and evaluate require compile.
    const loss = this.compiled?.loss ?? resolveLoss('meanSquaredError');
    const plan = planLoss(loss, last.activation.name, sizeOf(shapes[shapes.length - 1]!));
    return { ...plan, outputActivation: last.activation };
  }

  /** Throws when the model was disposed: its trained weights are gone, and new random ones would be a silent restart. */
  private checkNotDisposed(what: string): void {
    if (this.disposed) {
      throw new Error(
        `Model '${this.name}' was disposed, so its weights are gone; ${what} would start from new random weights. ` +
          'Create a new model (and load a checkpoint into it, if you saved one).',
      );
    }
  }

  /** Creates the GPU parameters (initialised with `seed`) on first use. */
  private async ensureGpu(seed: number): Promise<GpuState> {
    this.checkNotDisposed('using it');
    if (this.gpu) {
      this.gpu.rt.checkAlive();
      return this.gpu;
    }
    const rt = this.runtimeOption ?? (await defaultRuntime());
    const shapes = this.requireShapes();
    const params: ParamView[][] = [];
    let offset = 0;
    for (let i = 0; i < this.layers.length; i++) {
      params.push(
        this.layers[i]!.params(shapes[i]!).map((p) => {
          const count = sizeOf(p.shape);
          const v = { offset, count, shape: p.shape };
          offset += Math.ceil(count / ALIGN) * ALIGN;
          return v;
        }),
      );
    }
    const totalParams = Math.max(offset, ALIGN);
    // Checked before the host array of initial weights is made: a model too large for
    // one buffer fails at once, not after filling gigabytes of host memory.
    this.checkParamLimit(rt, params, totalParams);
    const initial = new Float32Array(totalParams);
    const rng = new Rng(seed).fork('init');
    for (let i = 0; i < this.layers.length; i++) {
      const specs = this.layers[i]!.params(shapes[i]!);
      specs.forEach((p, j) => initial.set(initialize(p.initializer, sizeOf(p.shape), p.fans, rng), params[i]![j]!.offset));
    }
    const layout: ModelLayout = {
      layers: this.layers,
      shapes,
      params,
      paramBuffer: rt.storage(initial, `${this.name} parameters`),
      gradBuffer: rt.storage(totalParams * 4, `${this.name} gradients`),
    };
    const trainState = createStepState(rt, `${this.name} training state`);
    this.gpu = { rt, layout, totalParams, trainState, workspaces: new Map(), streams: new Map() };
    return this.gpu;
  }

  /**
   * The flat parameter buffer (bound whole by the optimizer) must fit
   * maxBufferSize and maxStorageBufferBindingSize. When it does not, the error
   * names the largest layer and the width of it that would fit.
   */
  private checkParamLimit(rt: Runtime, params: ParamView[][], totalParams: number): void {
    const limitBytes = Math.min(rt.limits.maxBufferSize, rt.limits.maxStorageBufferBindingSize);
    if (totalParams * 4 <= limitBytes) return;
    const limit = Math.floor(limitBytes / 4);
    const counts = params.map((views) => views.reduce((n, v) => n + Math.ceil(v.count / ALIGN) * ALIGN, 0));
    const big = counts.indexOf(Math.max(...counts));
    const layer = this.layers[big]! as Layer & { units?: number; filters?: number };
    const width = layer.units ?? layer.filters;
    let advice = 'Make the model smaller.';
    if (width !== undefined) {
      // The layer's parameters, and the next layer's, grow in proportion to its width.
      const next = counts[big + 1] ?? 0;
      const perUnit = (counts[big]! + next) / width;
      const fixed = totalParams - counts[big]! - next;
      const fits = Math.floor((limit - fixed - ALIGN * 4) / perUnit);
      const what = layer.units !== undefined ? 'units' : 'filters';
      advice = fits >= 1
        ? `Layer '${layer.name}' (${layer.describe()}) holds ${counts[big]!.toLocaleString('en-US')} of them: give it at most ${fits.toLocaleString('en-US')} ${what}, or make the model smaller elsewhere.`
        : `Layer '${layer.name}' (${layer.describe()}) does not fit even with 1 of its ${what}: make the model smaller before it.`;
    }
    throw new Error(
      `Model '${this.name}' has ${totalParams.toLocaleString('en-US')} parameters (${formatBytes(totalParams * 4)}), more than the ` +
        `${limit.toLocaleString('en-US')} that fit this adapter's buffer limit of ${formatBytes(limitBytes)} (maxBufferSize, maxStorageBufferBindingSize). ${advice}`,
    );
  }

  private async ensureOptimizer(gpu: GpuState): Promise<NonNullable<GpuState['optimizer']>> {
    if (gpu.optimizer) return gpu.optimizer;
    if (!this.compiled) throw new Error('Call model.compile({ optimizer, loss }) before fit.');
    const { rt, layout, totalParams } = gpu;
    const config = this.compiled.optimizer;
    const slotTotal = slotCount(config.kind);
    const slots: GPUBuffer[] = [];
    for (let s = 0; s < slotTotal; s++) {
      const initial = new Float32Array(totalParams);
      if (config.kind === 'adagrad') initial.fill(config.initialAccumulator);
      slots.push(rt.storage(initial, `${config.name} slot ${s}`));
    }
    // One dispatch per run of consecutive tensors with the same L2 coefficient
    // (usually one for the whole model). Alignment gaps between tensors hold
    // zero weights and zero gradients, which every rule leaves at zero.
    const shapes = layout.shapes;
    const tensors = layout.params.flatMap((views, i) =>
      views.map((v, j) => ({ ...v, l2: this.layers[i]!.params(shapes[i]!)[j]!.l2 })));
    const runs: { start: number; end: number; l2: number }[] = [];
    for (const t of tensors) {
      const end = t.offset + Math.ceil(t.count / ALIGN) * ALIGN;
      const last = runs[runs.length - 1];
      if (last && last.l2 === t.l2 && last.end === t.offset) last.end = end;
      else runs.push({ start: t.offset, end, l2: t.l2 });
    }
    const hypers: GPUBuffer[] = [];
    const dispatches: Dispatch[] = [];
    for (const run of runs) {
      const hyper = rt.uniform(hyperUniform({ ...config.hyper, ...scheduleHyper(config.schedule), l2: run.l2 }), `${config.name} hyperparameters`);
      hypers.push(hyper);
      const count = run.end - run.start;
      const range = (buffer: GPUBuffer) => ({ buffer, offset: run.start * 4, size: count * 4 });
      dispatches.push(
        await optimizerStep(rt, config.kind, { count, slots: slotTotal }, {
          param: range(layout.paramBuffer), grad: range(layout.gradBuffer), hyper, state: gpu.trainState,
          ...(slots[0] ? { slot0: range(slots[0]) } : {}), ...(slots[1] ? { slot1: range(slots[1]) } : {}),
        }, `${config.name} update [${run.start}, ${run.end})`),
      );
    }
    resetStepState(rt, gpu.trainState, 0, 0);
    gpu.optimizer = { config, slots, hypers, dispatches };
    return gpu.optimizer;
  }

  private async workspace(gpu: GpuState, batch: number, targetWidth: number): Promise<Workspace> {
    const key = `${batch}:${targetWidth}`;
    let ws = gpu.workspaces.get(key);
    if (!ws) {
      ws = await Workspace.create(gpu.rt, batch, targetWidth, gpu.layout, this.lossPlan(gpu.layout.shapes as Shape[]));
      gpu.workspaces.set(key, ws);
    }
    return ws;
  }

  private async stream(gpu: GpuState, role: StreamRole, dataset: Dataset, batch: number, capacity: number): Promise<Stream> {
    const ws = await this.workspace(gpu, batch, dataset.targetWidth);
    const key = `${role}:${dataset.storageId}:${batch}:${dataset.targetWidth}:${dataset.sampleShape.join('x')}`;
    let stream = gpu.streams.get(key);
    if (stream && stream.capacity < capacity) {
      stream.dispose(role !== 'train');
      gpu.streams.delete(key);
      stream = undefined;
    }
    if (!stream) {
      const state = role === 'train' ? gpu.trainState : createStepState(gpu.rt, `${role} state`);
      stream = await Stream.create(gpu.rt, role, ws, dataset, state, capacity);
      gpu.streams.set(key, stream);
    }
    return stream;
  }

  /**
   * The samples' shape must be the model's input shape; axes of length 1 may
   * differ ([28, 28] data fits a [28, 28, 1] model), others may not: 56×14
   * images have the elements of 28×28 ones but not their rows.
   */
  private checkShape(dataset: Dataset, what: string): void {
    const expected = this.inputShapeValue;
    if (!expected) return;
    const squeeze = (shape: readonly number[]) => shape.filter((d) => d !== 1).join(',');
    if (squeeze(dataset.sampleShape) !== squeeze(expected)) {
      const same = sizeOf(dataset.sampleShape) === sizeOf(expected);
      throw new Error(
        `${what} '${dataset.name}' has samples of shape (${dataset.sampleShape.join(', ')}) but the model expects ` +
          `(${expected.join(', ')}).` +
          (same ? ` If the values are laid out as the model expects, view them so with dataset.reshape([${expected.join(', ')}]).` : ''),
      );
    }
  }

  /** Shapes, and targets that fit the loss and the output layer. */
  private checkData(dataset: Dataset, what: string): void {
    this.checkShape(dataset, what);
    if (!this.compiled) return;
    const lossName = this.compiled.loss.name;
    if (lossName === 'sparseCategoricalCrossentropy' && dataset.targetWidth !== 1) {
      throw new Error(`${what} '${dataset.name}' has one-hot targets; sparseCategoricalCrossentropy wants class indices. Use categoricalCrossentropy.`);
    }
    if (lossName === 'categoricalCrossentropy' && dataset.targetWidth === 1) {
      throw new Error(`${what} '${dataset.name}' has class indices; categoricalCrossentropy wants one-hot rows. Create it with { oneHot: true } or use sparseCategoricalCrossentropy.`);
    }
    const shapes = this.requireShapes();
    const outputs = sizeOf(shapes[shapes.length - 1]!);
    if (dataset.targetWidth > 1 && dataset.targetWidth !== outputs) {
      throw new Error(`${what} '${dataset.name}' has ${dataset.targetWidth} targets per sample but the model outputs ${outputs}.`);
    }
    if (dataset.targetWidth === 1 && lossName === 'binaryCrossentropy') {
      // The sigmoid cross-entropy takes the label itself as the target: anything but 0 and 1 gives a meaningless (even negative) loss.
      const labels = dataset.labels();
      let max = 0;
      for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
      if (max > 1) {
        throw new Error(
          `${what} '${dataset.name}' has class labels up to ${max}; binaryCrossentropy needs labels 0 and 1. ` +
            'Map them to two classes (e.g. Dataset option mapLabel: (d) => (d === 5 ? 1 : 0)), or use ' +
            `sparseCategoricalCrossentropy with a softmax last layer of ${max + 1} units.`,
        );
      }
    }
    if (dataset.targetWidth === 1 && lossName !== 'binaryCrossentropy' && lossName !== 'meanSquaredError' && dataset.classes > outputs) {
      throw new Error(`${what} '${dataset.name}' has ${dataset.classes} classes but the model outputs ${outputs}.`);
    }
  }

  /**
   * Runs `steps` steps of a stream, `chunk` per submit, calling `progress` after each chunk.
   * `from` resumes a pass: its first step and sums. `interruptible` passes stop early on interrupt().
   */
  private async runPass(
    stream: Stream,
    positions: Uint32Array,
    optimizer: readonly Dispatch[],
    chunk: number,
    progress?: (state: StepStateValues, steps: number) => Promise<void>,
    from?: EpochProgress,
    interruptible = false,
  ): Promise<StepStateValues & { interrupted: boolean }> {
    const { rt } = stream;
    rt.write(stream.indices, positions);
    resetStepState(rt, stream.state, positions.length);
    if (from) {
      // step, then (after the iteration, left as it is) sample count, halt flags and the sums so far.
      const words = new Uint32Array(6);
      new Float32Array(words.buffer)[3] = from.lossSum;
      words.set([positions.length, 0, 0], 0);
      words[4] = from.correct;
      words[5] = from.seen;
      rt.write(stream.state, new Uint32Array([from.step]), 0);
      rt.write(stream.state, words, 8);
    }
    const steps = Math.ceil(positions.length / stream.workspace.batch);
    const step = stream.step(optimizer);
    if (this.fitClock && stream.role === 'train') {
      this.lastFitStats = {
        startupSeconds: (performance.now() - this.fitClock.started) / 1000,
        tuningSeconds: rt.tuner.tuningSeconds - this.fitClock.tuning,
        dispatchesPerStep: step.length,
      };
      this.fitClock = undefined;
    }
    // With a progress callback, the state is read after each chunk; the read of
    // chunk k is awaited only after chunk k + 1 is submitted, so the GPU never idles.
    let reading: { state: Promise<StepStateValues>; step: number } | undefined;
    let interrupted = false;
    for (let done = from?.step ?? 0; done < steps; ) {
      if (interruptible && this.interruptRequested) {
        interrupted = true;
        break;
      }
      const n = Math.min(chunk, steps - done);
      rt.submit(step, n);
      done += n;
      const next = progress && done < steps ? { state: readStepState(rt, stream.state), step: done } : undefined;
      if (reading) await progress!(await reading.state, reading.step);
      reading = next;
    }
    if (reading) await progress!(await reading.state, reading.step);
    const final = await readStepState(rt, stream.state);
    if (interrupted) return { ...final, interrupted };
    if (progress) await progress(final, steps);
    return { ...final, interrupted };
  }

  async fit(data: Dataset, options: FitOptions = {}): Promise<History> {
    this.checkNotDisposed('fit');
    this.fitClock = { started: performance.now(), tuning: (this.runtime ?? this.runtimeOption)?.tuner.tuningSeconds ?? 0 };
    const epochs = options.epochs ?? 1;
    if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}.`);
    const initialEpoch = options.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new Error(`initialEpoch must be an integer ≥ 0, got ${initialEpoch}.`);
    const batchOption = options.batchSize ?? 32;
    if (!Number.isInteger(batchOption) || batchOption < 1) throw new Error(`batchSize must be a positive integer, got ${batchOption}.`);
    if (!this.compiled) throw new Error('Call model.compile({ optimizer, loss }) before fit.');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.checkData(data, 'Training data');
    const seed = options.seed ?? this.seed;
    const gpu = await this.ensureGpu(seed);
    const optimizer = await this.ensureOptimizer(gpu);

    // Which samples train and which validate.
    let trainPositions = Uint32Array.from({ length: data.count }, (_, i) => i);
    let validation = options.validationData;
    if (options.validationSplit) {
      if (validation) throw new Error('Give validationSplit or validationData, not both.');
      const f = options.validationSplit;
      if (!(f > 0 && f < 1)) throw new Error(`validationSplit must be in (0, 1), got ${f}.`);
      const splitAt = Math.floor(data.count * (1 - f));
      validation = data.subset(Array.from({ length: data.count - splitAt }, (_, i) => splitAt + i), `${data.name} validation`);
      trainPositions = trainPositions.slice(0, splitAt);
    }
    if (validation) this.checkData(validation, 'Validation data');
    if (trainPositions.length === 0) throw new Error(`Training data '${data.name}' is empty.`);
    // A batch larger than the data runs as one batch of the data's size: the same steps, without buffers for rows that never come.
    const batch = Math.min(batchOption, trainPositions.length);

    const train = await this.stream(gpu, 'train', data, batch, data.count);
    const stepsPerEpoch = Math.ceil(trainPositions.length / batch);
    const callbacks = options.callbacks ?? [];
    const wantsProgress = callbacks.some((c) => c.onBatchEnd);
    const chunk = wantsProgress ? Math.max(1, options.progressEvery ?? 50) : Math.max(1, options.stepsPerSubmit ?? 64);
    const seeded = new Rng(seed);
    const history = new History();
    this.stopTraining = false;
    this.interruptRequested = false;
    const resumed = options.initialProgress;
    if (resumed && (resumed.epoch !== initialEpoch || !Number.isInteger(resumed.step) || resumed.step < 0 || resumed.step > stepsPerEpoch)) {
      throw new Error(
        `initialProgress is for step ${resumed.step} of epoch ${resumed.epoch + 1}, but this fit starts at epoch ${initialEpoch + 1} ` +
          `with ${stepsPerEpoch} steps an epoch; resume with the batch size and data of the interrupted run.`,
      );
    }
    for (const c of callbacks) {
      await c.onTrainBegin?.({ epochs, stepsPerEpoch, trainSamples: trainPositions.length, validationSamples: validation?.count ?? 0 });
    }
    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      const started = performance.now();
      for (const c of callbacks) await c.onEpochBegin?.(epoch);
      const order = trainPositions.slice();
      // Each epoch's order depends only on (seed, epoch), so a run resumed at epoch e shuffles as an unbroken one.
      if (options.shuffle ?? true) seeded.fork(`shuffle/${epoch}`).shuffle(order);
      // The index list holds sample indices of the stored data, in this epoch's order.
      const indices = order.map((p) => data.indices[p]!);
      const progress = wantsProgress
        ? async (s: StepStateValues, step: number) => {
            const logs: BatchLogs = { step, steps: stepsPerEpoch, loss: s.seen ? s.lossSum / s.seen : NaN, accuracy: s.seen ? s.correct / s.seen : NaN, samples: s.seen };
            for (const c of callbacks) await c.onBatchEnd?.(epoch, logs);
          }
        : undefined;
      const from = resumed && epoch === initialEpoch ? resumed : undefined;
      const result = await this.runPass(train, indices, optimizer.dispatches, chunk, progress, from, true);
      if (result.halted) throw new TrainingDivergedError(epoch, result.haltedStep, result.iteration);
      const spent = (from?.seconds ?? 0) + (performance.now() - started) / 1000;
      if (result.interrupted) {
        throw new TrainingInterruptedError({ epoch, step: result.step, lossSum: result.lossSum, correct: result.correct, seen: result.seen, seconds: spent });
      }
      const logs: EpochLogs = {
        loss: result.lossSum / result.seen + (await this.l2Penalty(gpu)),
        accuracy: result.correct / result.seen,
        seconds: 0,
        lr: learningRateAt(optimizer.config.schedule, result.iteration),
      };
      if (validation) {
        const v = await this.evaluate(validation, { batchSize: batch });
        logs.val_loss = v.loss;
        logs.val_accuracy = v.accuracy;
      }
      logs.seconds = (from?.seconds ?? 0) + (performance.now() - started) / 1000;
      history.record(epoch, logs);
      for (const c of callbacks) await c.onEpochEnd?.(epoch, logs);
    }
    for (const c of callbacks) await c.onTrainEnd?.(history);
    return history;
  }

  /** l2·Σw² over regularised kernels (0 when none is), as Keras adds to the loss. */
  private async l2Penalty(gpu: GpuState): Promise<number> {
    const shapes = gpu.layout.shapes;
    const regularised = gpu.layout.params.flatMap((views, i) =>
      views.map((v, j) => ({ v, l2: this.layers[i]!.params(shapes[i]!)[j]!.l2 }))).filter((t) => t.l2 > 0);
    if (!regularised.length) return 0;
    const all = await gpu.rt.readF32(gpu.layout.paramBuffer, gpu.totalParams);
    let penalty = 0;
    for (const { v, l2 } of regularised) {
      let sum = 0;
      for (let k = 0; k < v.count; k++) sum += all[v.offset + k]! ** 2;
      penalty += l2 * sum;
    }
    return penalty;
  }

  /** Mean loss and accuracy over a dataset (forward passes only). */
  async evaluate(data: Dataset, options: { batchSize?: number } = {}): Promise<EvaluateResult> {
    this.checkNotDisposed('evaluate');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    if (!this.compiled) throw new Error('Call model.compile({ optimizer, loss }) before evaluate.');
    this.checkData(data, 'Evaluation data');
    if (data.count === 0) throw new Error(`Evaluation data '${data.name}' is empty.`);
    const gpu = await this.ensureGpu(this.seed);
    // A set smaller than the batch runs as one batch of its own size: the same sums, less padding.
    const batch = Math.min(options.batchSize ?? 128, data.count);
    const stream = await this.stream(gpu, 'evaluate', data, batch, data.count);
    const s = await this.runPass(stream, data.indices, [], 1 << 30);
    if (s.halted) throw new Error(`Evaluation on '${data.name}' produced a non-finite loss at step ${s.haltedStep + 1}.`);
    return { loss: s.lossSum / s.seen, accuracy: s.correct / s.seen, samples: s.seen };
  }

  /** Model outputs for every sample of `data`, (N, outputs) row-major: probabilities for softmax models. */
  async predict(data: Dataset, options: { batchSize?: number } = {}): Promise<Float32Array> {
    this.checkNotDisposed('predict');
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.checkShape(data, 'Prediction data');
    const gpu = await this.ensureGpu(this.seed);
    // A set smaller than the batch runs as one batch of its own size: the same sums, less padding.
    const batch = Math.min(options.batchSize ?? 128, data.count);
    const stream = await this.stream(gpu, 'predict', data, batch, data.count);
    await this.runPass(stream, data.indices, [], 1 << 30);
    return gpu.rt.readF32(stream.results!, data.count * stream.workspace.outputSize);
  }

  /** Predicted class of every sample (argmax of the outputs; threshold 0.5 for one output). */
  async predictClasses(data: Dataset, options: { batchSize?: number } = {}): Promise<Uint32Array> {
    const outputs = await this.predict(data, options);
    const width = outputs.length / data.count;
    const classes = new Uint32Array(data.count);
    for (let n = 0; n < data.count; n++) {
      if (width === 1) {
        classes[n] = outputs[n]! > 0.5 ? 1 : 0;
        continue;
      }
      let best = 0;
      for (let c = 1; c < width; c++) if (outputs[n * width + c]! > outputs[n * width + best]!) best = c;
      classes[n] = best;
    }
    return classes;
  }

  /** Every parameter tensor, read back: [{ layer, name, shape, values }]. */
  async getWeights(): Promise<{ layer: string; name: string; shape: number[]; values: Float32Array }[]> {
    const gpu = await this.ensureGpu(this.seed);
    const all = await gpu.rt.readF32(gpu.layout.paramBuffer, gpu.totalParams);
    const shapes = gpu.layout.shapes;
    return gpu.layout.params.flatMap((views, i) =>
      views.map((v, j) => ({
        layer: this.layers[i]!.name,
        name: this.layers[i]!.params(shapes[i]!)[j]!.name,
        shape: v.shape,
        values: all.slice(v.offset, v.offset + v.count),
      })),
    );
  }

  /** Replaces every parameter tensor (same order and sizes as getWeights). */
  async setWeights(weights: readonly { values: Float32Array }[]): Promise<void> {
    const gpu = await this.ensureGpu(this.seed);
    const views = gpu.layout.params.flat();
    if (weights.length !== views.length) throw new Error(`setWeights: the model has ${views.length} tensors, got ${weights.length}.`);
    const all = new Float32Array(gpu.totalParams);
    views.forEach((v, k) => {
      const values = weights[k]!.values;
      if (values.length !== v.count) {
        throw new Error(`setWeights: tensor ${k} has shape (${v.shape.join(', ')}) = ${v.count} values, got ${values.length}.`);
      }
      all.set(values, v.offset);
    });
    gpu.rt.write(gpu.layout.paramBuffer, all);
  }

  /** The model (weights, optimizer state, iteration) as checkpoint bytes; see checkpoint.ts. */
  async checkpointBytes(meta: Record<string, unknown> = {}): Promise<Uint8Array> {
    const gpu = await this.ensureGpu(this.seed);
    const { rt, layout, totalParams } = gpu;
    const params = await rt.readF32(layout.paramBuffer, totalParams);
    const slots = gpu.optimizer ? await Promise.all(gpu.optimizer.slots.map((b) => rt.readF32(b, totalParams))) : [];
    const header: CheckpointHeader = {
      format: 1,
      model: this.name,
      inputShape: [...this.inputShapeValue!],
      layers: this.layers.map((l) => `${l.name}: ${l.describe()}`),
      tensors: this.tensorViews(gpu),
      totalParams,
      optimizer: gpu.optimizer
        ? { description: gpu.optimizer.config.describe(), kind: gpu.optimizer.config.kind, slots: slots.length, iteration: await this.iterations() }
        : null,
      meta,
    };
    return encodeCheckpoint(header, params, slots);
  }

  /** Writes a checkpoint file atomically (temporary file, then rename). */
  async save(path: string, meta: Record<string, unknown> = {}): Promise<void> {
    const platform = await getPlatform();
    await platform.writeFileAtomic(path, await this.checkpointBytes(meta));
  }

  /**
   * Restores weights (and, when the model is compiled with the same optimizer,
   * its state and iteration count) from checkpoint bytes. The layers must match.
   */
  async restore(bytes: Uint8Array, name = 'checkpoint'): Promise<CheckpointHeader> {
    const { header, params, slots } = decodeCheckpoint(bytes, name);
    if (!this.inputShapeValue) this.build(header.inputShape);
    const mine = this.layers.map((l) => `${l.name}: ${l.describe()}`);
    if (mine.join('\n') !== header.layers.join('\n') || header.inputShape.join(',') !== this.inputShapeValue!.join(',')) {
      throw new Error(
        `${name} holds a different model:\n  saved: ${header.inputShape.join('×')} → ${header.layers.join(' → ')}\n` +
          `  this:  ${this.inputShapeValue!.join('×')} → ${mine.join(' → ')}`,
      );
    }
    const gpu = await this.ensureGpu(this.seed);
    if (header.totalParams !== gpu.totalParams) throw new Error(`${name}: ${header.totalParams} parameters saved, the model has ${gpu.totalParams}.`);
    gpu.rt.write(gpu.layout.paramBuffer, params);
    if (header.optimizer && this.compiled && this.compiled.optimizer.kind === header.optimizer.kind) {
      const optimizer = await this.ensureOptimizer(gpu);
      optimizer.slots.forEach((buffer, k) => slots[k] && gpu.rt.write(buffer, slots[k]!));
      resetStepState(gpu.rt, gpu.trainState, 0, header.optimizer.iteration);
    }
    return header;
  }

  /**
   * Writes the model for other frameworks: 'safetensors' (the file `path`;
   * `loadSafetensors` reads it back) or 'tfjs' (TensorFlow.js's Layers format,
   * model.json and weights.bin in the folder `path`). Returns the paths written.
   */
  async export(format: ExportFormat, path: string): Promise<string[]> {
    return exportModel(this, format, path);
  }

  /** Reads a checkpoint file written by `save`. */
  async load(path: string): Promise<CheckpointHeader> {
    const platform = await getPlatform();
    return this.restore(await platform.readFile(path), path);
  }

  private tensorViews(gpu: GpuState): CheckpointHeader['tensors'] {
    const shapes = gpu.layout.shapes;
    return gpu.layout.params.flatMap((views, i) =>
      views.map((v, j) => ({ layer: this.layers[i]!.name, name: this.layers[i]!.params(shapes[i]!)[j]!.name, shape: v.shape, offset: v.offset, count: v.count })));
  }

  /** The optimizer's iteration count (updates applied so far). */
  async iterations(): Promise<number> {
    if (!this.gpu) return 0;
    return (await readStepState(this.gpu.rt, this.gpu.trainState)).iteration;
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
    const gpu = await this.ensureGpu(this.seed);
    const optimizer = await this.ensureOptimizer(gpu);
    const stream = await this.stream(gpu, 'train', data, batch, data.count);
    return stream.step(optimizer.dispatches);
  }

  /**
   * Runs one real training step (forward, loss, backward, optimizer update) on
   * the samples at `positions` of `data` (default: its first batch) and reads
   * back, per layer, the activations and the gradients it produced: backprop
   * made visible. The model trains by that one step. A read-back of every
   * activation: for inspection, not for a training loop.
   */
  async inspectStep(data: Dataset, options: { batchSize?: number; positions?: ArrayLike<number> } = {}): Promise<StepInspection> {
    const { gpu, optimizer, stream, chosen, batch } = await this.singleStep(data, options, 'inspectStep');
    const state = await this.runPass(stream, chosen.indices, optimizer.dispatches, 1);
    if (state.halted) throw new TrainingDivergedError(0, state.haltedStep, state.iteration);

    const { rt, layout } = gpu;
    const ws = stream.workspace;
    const samples = chosen.count;
    const shapes = layout.shapes;
    const read = async (buffer: GPUBuffer, shape: Shape): Promise<TensorReadback> =>
      ({ shape: [samples, ...shape], values: await rt.readF32(buffer, samples * sizeOf(shape)) });
    const last = this.layers.length - 1;
    const layers: LayerStep[] = [];
    for (let i = 0; i <= last; i++) {
      const layer = this.layers[i]!;
      const views = layout.params[i]!;
      const absorbed = i === last && ws.loss.absorbsActivation;
      let delta: LayerStep['delta'] = null;
      if (views.length) {
        // What the layer's backward read as dL/d(output) and turned, in place, into dL/d(pre-activation).
        const doutput = i === last ? ws.dz : ws.dinputs[i + 1]!;
        const linear = absorbed || layer.activation.name === 'linear';
        delta = { ...(await read(doutput, shapes[i + 1]!)), of: linear ? 'output' : 'pre-activation' };
      }
      const specs = layer.params(shapes[i]!);
      const grads = [];
      for (let j = 0; j < views.length; j++) {
        grads.push({ name: specs[j]!.name, shape: views[j]!.shape, values: await rt.readF32(layout.gradBuffer, views[j]!.count, views[j]!.offset) });
      }
      layers.push({
        name: layer.name, typeName: layer.typeName, description: layer.describe(),
        output: await read(ws.outputs[i]!, shapes[i + 1]!), outputIsPreActivation: absorbed, delta, grads,
      });
    }
    return {
      batch, samples, loss: state.lossSum / state.seen, accuracy: state.correct / state.seen, iteration: state.iteration,
      input: await read(ws.x, shapes[0]!), labels: chosen.labels(), layers,
    };
  }

  /**
   * Runs one real training step on the samples at `positions` of `data`
   * (default: its first batch) with every dispatch in its own timed pass, and
   * returns the dispatches with the GPU time of each in nanoseconds (times null
   * where the device has no 'timestamp-query'; the step still runs). The model
   * trains by that one step.
   */
  async timeStep(data: Dataset, options: { batchSize?: number; positions?: ArrayLike<number> } = {}): Promise<{ dispatches: Dispatch[]; times: Float64Array | null }> {
    const { gpu, optimizer, stream, chosen } = await this.singleStep(data, options, 'timeStep');
    gpu.rt.write(stream.indices, chosen.indices);
    resetStepState(gpu.rt, stream.state, chosen.count);
    const dispatches = stream.step(optimizer.dispatches);
    const times = await timeDispatches(gpu.rt, dispatches);
    if (!times) gpu.rt.submit(dispatches);
    return { dispatches, times };
  }

  /** The training stream and the chosen samples of a one-step call (inspectStep, timeStep). */
  private async singleStep(data: Dataset, options: { batchSize?: number; positions?: ArrayLike<number> }, what: string) {
    if (!this.compiled) throw new Error(`Call model.compile({ optimizer, loss }) before ${what}.`);
    const batch = options.batchSize ?? 32;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`batchSize must be a positive integer, got ${batch}.`);
    if (!this.inputShapeValue) this.build(data.sampleShape);
    this.checkData(data, 'Step data');
    const positions = options.positions ?? Array.from({ length: Math.min(batch, data.count) }, (_, i) => i);
    if (positions.length < 1 || positions.length > batch) {
      throw new Error(`${what}: give 1 to ${batch} (the batch size) sample positions, got ${positions.length}.`);
    }
    const chosen = data.subset(positions);
    const gpu = await this.ensureGpu(this.seed);
    const optimizer = await this.ensureOptimizer(gpu);
    const stream = await this.stream(gpu, 'train', data, batch, data.count);
    return { gpu, optimizer, stream, chosen, batch };
  }

  private disposeOptimizer(gpu: GpuState): void {
    if (!gpu.optimizer) return;
    for (const b of [...gpu.optimizer.slots, ...gpu.optimizer.hypers]) gpu.rt.pool.release(b);
    gpu.optimizer = undefined;
  }

  private disposePlans(gpu: GpuState): void {
    for (const s of gpu.streams.values()) s.dispose(s.state !== gpu.trainState);
    for (const w of gpu.workspaces.values()) w.dispose();
    gpu.streams.clear();
    gpu.workspaces.clear();
  }

  /** Frees every GPU buffer of this model. */
  dispose(): void {
    this.disposed = true;
    const gpu = this.gpu;
    if (!gpu) return;
    this.disposeOptimizer(gpu);
    this.disposePlans(gpu);
    for (const b of [gpu.layout.paramBuffer, gpu.layout.gradBuffer, gpu.trainState]) gpu.rt.pool.release(b);
    gpu.rt.pool.trim();
    this.gpu = undefined;
  }
}

export function sequential(layers: Layer[], options: SequentialOptions = {}): Sequential {
  return new Sequential(layers, options);
}

/**
 * The step loop. A pass replays a Stream's recorded step many times per
 * submit and reads the StepState back only between chunks; `fit` runs one
 * training pass per epoch (shuffled from the seed and the epoch alone), with
 * the callbacks, validation, divergence and interruption around it.
 */
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../data/random.js';
import type { Dispatch } from '../gpu/runtime.js';
import { readStepState, resetStepState, type StepStateValues } from '../ops/step.js';
import { learningRateAt } from '../optimizers/optimizers.js';
import type { GpuModel } from './gpu-model.js';
import { History, TrainingDivergedError, TrainingInterruptedError, type BatchLogs, type Callback, type EpochLogs, type EpochProgress } from './history.js';
import type { OptimizerState } from './optimizer-state.js';
import type { Stream } from './plan.js';

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

/** What the last `fit` cost before training began, and the size of its step. */
export interface FitStats {
  /** Seconds from the call to `fit` to the first submitted step (pipelines, kernel tuning, buffers). */
  startupSeconds: number;
  /** Of those, seconds spent timing kernel variants (0 when choices came from the cache). */
  tuningSeconds: number;
  /** Dispatches recorded for one training step. */
  dispatchesPerStep: number;
}

/** How `fit` talks to the model that called it. */
export interface FitHooks {
  /** The model's seed, unless the options give one. */
  seed: number;
  /** Checks a dataset against the model and its loss; throws a message naming `what`. */
  checkData(dataset: Dataset, what: string): void;
  /** True once a callback asked training to end after the current epoch. */
  stopRequested(): boolean;
  /** True once an interrupt asked training to stop at the next step boundary. */
  interruptRequested(): boolean;
  /** When fit was called, and the runtime's tuning seconds then: the start of FitStats. */
  clock: { started: number; tuning: number };
  /** Told once the first step is submitted. */
  onStarted(stats: FitStats): void;
}

/** Throws on epoch counts and batch sizes that are no integers of the right sign. */
export function checkFitOptions(options: FitOptions): void {
  const epochs = options.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}.`);
  const initialEpoch = options.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0) throw new Error(`initialEpoch must be an integer ≥ 0, got ${initialEpoch}.`);
  const batch = options.batchSize ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batchSize must be a positive integer, got ${batch}.`);
}

interface PassOptions {
  /** Called after each chunk (and at the end) with the running sums. */
  progress?: (state: StepStateValues, steps: number) => Promise<void>;
  /** Resumes a pass: its first step and sums. */
  from?: EpochProgress;
  /** Asked before each chunk: true stops the pass early. */
  interrupted?: () => boolean;
  /** Told the step's dispatch count before the first submit. */
  started?: (dispatchesPerStep: number) => void;
}

/**
 * Runs a stream over `positions` (sample indices of its dataset, in order),
 * `chunk` steps per submit, with the optimizer's update closing each step.
 */
export async function runPass(
  stream: Stream,
  positions: Uint32Array,
  optimizer: readonly Dispatch[],
  chunk: number,
  options: PassOptions = {},
): Promise<StepStateValues & { interrupted: boolean }> {
  const { progress, from } = options;
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
  options.started?.(step.length);
  // With a progress callback, the state is read after each chunk; the read of
  // chunk k is awaited only after chunk k + 1 is submitted, so the GPU never idles.
  let reading: { state: Promise<StepStateValues>; step: number } | undefined;
  let interrupted = false;
  for (let done = from?.step ?? 0; done < steps; ) {
    if (options.interrupted?.()) {
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

/** Mean loss and accuracy over a dataset (forward passes only). */
export async function evaluate(gpu: GpuModel, data: Dataset, batchSize: number): Promise<EvaluateResult> {
  if (data.count === 0) throw new Error(`Evaluation data '${data.name}' is empty.`);
  // A set smaller than the batch runs as one batch of its own size: the same sums, less padding.
  const batch = Math.min(batchSize, data.count);
  const stream = await gpu.stream('evaluate', data, batch, data.count);
  const s = await runPass(stream, data.indices, [], 1 << 30);
  if (s.halted) throw new Error(`Evaluation on '${data.name}' produced a non-finite loss at step ${s.haltedStep + 1}.`);
  return { loss: s.lossSum / s.seen, accuracy: s.correct / s.seen, samples: s.seen };
}

/** Model outputs for every sample of `data`, (N, outputs) row-major. */
export async function predict(gpu: GpuModel, data: Dataset, batchSize: number): Promise<Float32Array> {
  // A set smaller than the batch runs as one batch of its own size: the same sums, less padding.
  const batch = Math.min(batchSize, data.count);
  const stream = await gpu.stream('predict', data, batch, data.count);
  await runPass(stream, data.indices, [], 1 << 30);
  return gpu.rt.readF32(stream.results!, data.count * stream.workspace.outputSize);
}

/** The class of each of `count` rows of outputs: argmax, or a threshold of 0.5 for one output. */
export function classesOf(outputs: Float32Array, count: number): Uint32Array {
  const width = outputs.length / count;
  const classes = new Uint32Array(count);
  for (let n = 0; n < count; n++) {
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

/** Trains for the epochs of `options` (already checked by checkFitOptions); the data is checked against the model. */
export async function fit(gpu: GpuModel, optimizer: OptimizerState, data: Dataset, options: FitOptions, hooks: FitHooks): Promise<History> {
  const epochs = options.epochs ?? 1;
  const initialEpoch = options.initialEpoch ?? 0;
  const seed = options.seed ?? hooks.seed;

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
  if (validation) hooks.checkData(validation, 'Validation data');
  if (trainPositions.length === 0) throw new Error(`Training data '${data.name}' is empty.`);
  // A batch larger than the data runs as one batch of the data's size: the same steps, without buffers for rows that never come.
  const batch = Math.min(options.batchSize ?? 32, trainPositions.length);

  const train = await gpu.stream('train', data, batch, data.count);
  const stepsPerEpoch = Math.ceil(trainPositions.length / batch);
  const callbacks = options.callbacks ?? [];
  const wantsProgress = callbacks.some((c) => c.onBatchEnd);
  const chunk = wantsProgress ? Math.max(1, options.progressEvery ?? 50) : Math.max(1, options.stepsPerSubmit ?? 64);
  const seeded = new Rng(seed);
  const history = new History();
  const resumed = options.initialProgress;
  if (resumed && (resumed.epoch !== initialEpoch || !Number.isInteger(resumed.step) || resumed.step < 0 || resumed.step > stepsPerEpoch)) {
    throw new Error(
      `initialProgress is for step ${resumed.step} of epoch ${resumed.epoch + 1}, but this fit starts at epoch ${initialEpoch + 1} ` +
        `with ${stepsPerEpoch} steps an epoch; resume with the batch size and data of the interrupted run.`,
    );
  }
  let started: PassOptions['started'] = (dispatchesPerStep) => {
    hooks.onStarted({
      startupSeconds: (performance.now() - hooks.clock.started) / 1000,
      tuningSeconds: gpu.rt.tuner.tuningSeconds - hooks.clock.tuning,
      dispatchesPerStep,
    });
    started = undefined;
  };
  for (const c of callbacks) {
    await c.onTrainBegin?.({ epochs, stepsPerEpoch, trainSamples: trainPositions.length, validationSamples: validation?.count ?? 0 });
  }
  for (let epoch = initialEpoch; epoch < epochs && !hooks.stopRequested(); epoch++) {
    const epochStarted = performance.now();
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
    const result = await runPass(train, indices, optimizer.dispatches, chunk, { progress, from, interrupted: hooks.interruptRequested, started });
    if (result.halted) throw new TrainingDivergedError(epoch, result.haltedStep, result.iteration);
    const spent = (from?.seconds ?? 0) + (performance.now() - epochStarted) / 1000;
    if (result.interrupted) {
      throw new TrainingInterruptedError({ epoch, step: result.step, lossSum: result.lossSum, correct: result.correct, seen: result.seen, seconds: spent });
    }
    const logs: EpochLogs = {
      loss: result.lossSum / result.seen + (await gpu.params.l2Penalty()),
      accuracy: result.correct / result.seen,
      seconds: 0,
      lr: learningRateAt(optimizer.config.schedule, result.iteration),
    };
    if (validation) {
      const v = await evaluate(gpu, validation, batch);
      logs.val_loss = v.loss;
      logs.val_accuracy = v.accuracy;
    }
    logs.seconds = (from?.seconds ?? 0) + (performance.now() - epochStarted) / 1000;
    history.record(epoch, logs);
    for (const c of callbacks) await c.onEpochEnd?.(epoch, logs);
  }
  for (const c of callbacks) await c.onTrainEnd?.(history);
  return history;
}

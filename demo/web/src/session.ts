/**
 * One model of the demo: a registry entry (a sweep's cell, for sweeps) with the
 * page's overrides, its datasets on the GPU, and the library's Sequential that
 * trains it. No DOM here: the page drives it, and the browser tests run the
 * very same code in Node to compare Chromium's weights with Dawn's.
 */
import { Dataset } from '../../../src/data/dataset.js';
import type { ImageSet } from '../../../src/data/mnist.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { History, type Callback, type EpochLogs } from '../../../src/model/history.js';
import { sequential, type Sequential } from '../../../src/model/sequential.js';
import type { CheckpointHeader } from '../../../src/model/checkpoint.js';
import { classificationReport, confusionMatrix } from '../../../src/metrics/classification.js';
import { initialLearningRate, withLearningRate } from '../../../src/experiments/overrides.js';
import { runClassic } from '../../../src/experiments/classic.js';
import { EXPERIMENTS, type ClassicExperiment, type Experiment, type NeuralExperiment, type SweepExperiment, type TrainSpec } from '../../../src/experiments/registry.js';
import type { ClassicResult, RunResult, SampleImage } from '../../../src/experiments/result.js';

export { initialLearningRate, withLearningRate };

export type Trainable = NeuralExperiment | SweepExperiment;

/** Everything that fixes a run: the same settings give the same weights, in a browser or in Node. */
export interface Settings {
  id: string;
  /** The sweep cell's name; null for a plain entry. */
  cell: string | null;
  epochs: number;
  batchSize: number;
  /** Replaces the entry's learning rate (the initial one, for a decaying schedule). */
  learningRate: number;
  /** The first N training images (before the validation split) and test images. */
  trainImages: number;
  testImages: number;
  seed: number;
}

/** Limits of the number fields, and what each must be. */
const LIMITS: Record<Exclude<keyof Settings, 'id' | 'cell'>, { min: number; max: number; integer: boolean }> = {
  epochs: { min: 1, max: 1000, integer: true },
  batchSize: { min: 1, max: 4096, integer: true },
  learningRate: { min: Number.MIN_VALUE, max: 1000, integer: false },
  trainImages: { min: 2, max: 60000, integer: true },
  testImages: { min: 1, max: 10000, integer: true },
  seed: { min: 0, max: 2 ** 31 - 1, integer: true },
};

export function isTrainable(e: Experiment): e is Trainable {
  return e.kind === 'neural' || e.kind === 'sweep';
}

export function isClassic(e: Experiment): e is ClassicExperiment {
  return e.kind === 'classic';
}

export function experimentById(id: string): Experiment {
  const found = EXPERIMENTS.find((e) => e.id === id);
  if (!found) throw new Error(`Unknown experiment '${id}'. Known ids: ${EXPERIMENTS.map((e) => e.id).join(', ')}.`);
  return found;
}

/** The TrainSpec of an entry, or of one cell of a sweep. */
export function trainSpec(e: Trainable, cell: string | null): TrainSpec {
  if (e.kind === 'neural') return e.train;
  const found = e.cells.find((c) => c.name === cell);
  if (!found) throw new Error(`${e.id} is a sweep: choose one of its cells (${e.cells.map((c) => c.name).join('; ')}).`);
  return found.train;
}

/** Sizes that keep a first run short: full MNIST on a GPU, a subset on a software adapter. */
export function defaultSettings(e: Trainable, cell: string | null, slowAdapter: boolean): Settings {
  const spec = trainSpec(e, cell);
  const conv = spec.inputShape.length === 3;
  const small = slowAdapter
    ? conv ? { trainImages: 256, testImages: 128, epochs: 1 } : { trainImages: 6000, testImages: 1000, epochs: Math.min(spec.epochs, 5) }
    : { trainImages: 60000, testImages: 10000, epochs: spec.epochs };
  return {
    id: e.id, cell: e.kind === 'sweep' ? cell ?? e.cells[0]!.name : null, batchSize: spec.batchSize,
    learningRate: initialLearningRate(spec.optimizer()), seed: 1, ...small,
  };
}

/** Throws an error naming the first setting that is out of range. */
export function checkSettings(settings: Settings): void {
  for (const [key, limit] of Object.entries(LIMITS) as [keyof typeof LIMITS, (typeof LIMITS)[keyof typeof LIMITS]][]) {
    const value = settings[key];
    if (!Number.isFinite(value) || value < limit.min || value > limit.max || (limit.integer && !Number.isInteger(value))) {
      const what = limit.integer ? `a whole number from ${limit.min} to ${limit.max}` : `a number above 0 and at most ${limit.max}`;
      throw new Error(`${key} must be ${what}; got ${Number.isNaN(value) ? 'nothing' : value}.`);
    }
  }
}

function firstImages(images: ImageSet, n: number): ImageSet {
  const count = Math.min(n, images.count);
  const size = images.rows * images.cols;
  return { ...images, count, images: images.images.subarray(0, count * size), labels: images.labels.subarray(0, count) };
}

export interface Progress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Running mean over the epoch so far (it starts again at each epoch). */
  loss: number;
  accuracy: number;
  /**
   * Mean over the steps since the previous progress point alone (the running
   * means' difference): a curve of these does not jump where an epoch begins.
   */
  recentLoss: number;
  recentAccuracy: number;
  stepsPerSecond: number;
  samplesPerSecond: number;
}

export interface TrainingEvents {
  /** Every few steps: running metrics and throughput. */
  progress?(p: Progress): void;
  /** After each epoch: its logs and the predicted classes of the test images (for a live confusion matrix). */
  epoch?(epoch: number, logs: EpochLogs, predicted: Uint32Array): void | Promise<void>;
  /** True to stop at the next progress point. */
  shouldStop?(): boolean;
}

/** Thrown through fit by the progress callback to stop mid-epoch; the model keeps the weights of the steps done. */
class StopRequested extends Error {}

export interface TrainOutcome {
  history: History;
  stopped: boolean;
  /** Set when a step's loss was not finite: the model kept the weights from before it. */
  diverged?: string;
  seconds: number;
}

export class Session {
  readonly experiment: Trainable;
  readonly spec: TrainSpec;
  readonly model: Sequential;
  readonly train: Dataset;
  readonly test: Dataset;
  /** The test images as stored (for the picture grids). */
  readonly testImages: ImageSet;
  readonly history = new History();
  /** Epochs trained so far (across Train presses). */
  epochsDone = 0;
  private disposed = false;

  private constructor(readonly rt: Runtime, readonly settings: Settings, mnist: { train: ImageSet; test: ImageSet }) {
    checkSettings(settings);
    const e = experimentById(settings.id);
    if (!isTrainable(e)) throw new Error(`${e.id} is a classic baseline: it has no model to train step by step; run it with runClassic (classicRun).`);
    this.experiment = e;
    this.spec = trainSpec(e, settings.cell);
    const spec = this.spec;
    const binary = spec.binaryDigit;
    const common = {
      preprocessing: spec.preprocessing,
      shape: spec.inputShape,
      ...(binary !== undefined ? { mapLabel: (d: number) => (d === binary ? 1 : 0), classes: 2 } : {}),
    };
    this.testImages = firstImages(mnist.test, settings.testImages);
    this.train = Dataset.fromImages(rt, firstImages(mnist.train, settings.trainImages), common);
    try {
      // Standardisation uses the training statistics on the test set too.
      this.test = Dataset.fromImages(rt, this.testImages, { ...common, ...(this.train.stats ? { stats: this.train.stats } : {}) });
    } catch (error) {
      this.train.dispose();
      throw error;
    }
    if (spec.validation.kind === 'split' && Math.floor(this.train.count * (1 - spec.validation.fraction)) < 1) {
      this.dispose();
      throw new Error(`trainImages = ${settings.trainImages} leaves no image to train on after the validation split; use more.`);
    }
    this.model = sequential(spec.layers(), { inputShape: spec.inputShape, runtime: rt, name: e.id, seed: settings.seed });
    this.model.compile({ optimizer: withLearningRate(spec.optimizer(), settings.learningRate), loss: spec.loss, metrics: ['accuracy'] });
  }

  static create(rt: Runtime, settings: Settings, mnist: { train: ImageSet; test: ImageSet }): Session {
    return new Session(rt, settings, mnist);
  }

  get title(): string {
    return this.settings.cell ? `${this.experiment.title} — ${this.settings.cell}` : this.experiment.title;
  }

  /** Training images after the validation split. */
  get trainCount(): number {
    const v = this.spec.validation;
    return v.kind === 'test' ? this.train.count : Math.floor(this.train.count * (1 - v.fraction));
  }

  get validationCount(): number {
    const v = this.spec.validation;
    return v.kind === 'test' ? this.test.count : this.train.count - this.trainCount;
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.trainCount / this.settings.batchSize);
  }

  /** Trains `settings.epochs` more epochs (continuing after earlier ones), reporting as it goes. */
  async fit(events: TrainingEvents = {}): Promise<TrainOutcome> {
    const { epochs, batchSize, seed } = this.settings;
    const first = this.epochsDone;
    const last = first + epochs;
    const steps = this.stepsPerEpoch;
    // About ten progress points per epoch, at most every 50 steps.
    const progressEvery = Math.max(1, Math.min(50, Math.ceil(steps / 10)));
    let mark = { time: performance.now(), step: 0, epoch: first, samples: 0, loss: 0, accuracy: 0 };
    const callback: Callback = {
      onEpochBegin: (epoch) => {
        mark = { time: performance.now(), step: 0, epoch, samples: 0, loss: 0, accuracy: 0 };
      },
      onBatchEnd: (epoch, logs) => {
        const now = performance.now();
        const seconds = Math.max(1e-6, (now - mark.time) / 1000);
        const done = logs.step - mark.step;
        // The running means are over the epoch's samples: their sums, less those at the last point, over the samples since.
        const fresh = logs.samples - mark.samples;
        const recent = (mean: number, before: number) => (fresh > 0 ? (mean * logs.samples - before * mark.samples) / fresh : mean);
        const recentLoss = recent(logs.loss, mark.loss);
        const recentAccuracy = Math.min(1, Math.max(0, recent(logs.accuracy, mark.accuracy)));
        mark = { time: now, step: logs.step, epoch, samples: logs.samples, loss: logs.loss, accuracy: logs.accuracy };
        events.progress?.({
          epoch, epochs: last, step: logs.step, steps: logs.steps, loss: logs.loss, accuracy: logs.accuracy, recentLoss, recentAccuracy,
          stepsPerSecond: done / seconds, samplesPerSecond: (done * batchSize) / seconds,
        });
        if (events.shouldStop?.()) throw new StopRequested('stopped');
      },
      onEpochEnd: async (epoch, logs) => {
        this.history.record(epoch, logs);
        this.epochsDone = epoch + 1;
        const predicted = events.epoch ? await this.model.predictClasses(this.test) : new Uint32Array(0);
        await events.epoch?.(epoch, logs, predicted);
        if (events.shouldStop?.()) this.model.stopTraining = true;
      },
    };
    const started = performance.now();
    const outcome: TrainOutcome = { history: this.history, stopped: false, seconds: 0 };
    try {
      await this.model.fit(this.train, {
        epochs: last, initialEpoch: first, batchSize, seed, progressEvery,
        ...(this.spec.validation.kind === 'test' ? { validationData: this.test } : { validationSplit: this.spec.validation.fraction }),
        callbacks: [callback],
      });
      outcome.stopped = this.model.stopTraining;
    } catch (error) {
      if (error instanceof StopRequested) outcome.stopped = true;
      else if (error instanceof Error && error.name === 'TrainingDivergedError') outcome.diverged = error.message;
      else throw error;
    }
    outcome.seconds = (performance.now() - started) / 1000;
    return outcome;
  }

  /**
   * The model on the test images, as the Node report shows it: loss, accuracy,
   * confusion matrix, classification report, the first 25 images and the
   * first 25 mislabelled ones. Shaped as the runner's RunResult, so the
   * report's chart specs draw it.
   */
  async result(seconds: number): Promise<RunResult> {
    const e = this.experiment;
    const labels = this.test.labels();
    const predicted = await this.model.predictClasses(this.test);
    const evaluation = await this.model.evaluate(this.test).catch(() => ({
      loss: Number.NaN, accuracy: labels.reduce((n, label, i) => n + (label === predicted[i] ? 1 : 0), 0) / labels.length,
    }));
    const classes = this.test.classes;
    const images = this.testImages;
    const size = images.rows * images.cols;
    const sample = (index: number): SampleImage => ({
      index, label: labels[index]!, predicted: predicted[index]!, pixels: Array.from(images.images.subarray(index * size, (index + 1) * size)),
    });
    const mislabelled: SampleImage[] = [];
    for (let i = 0; i < labels.length && mislabelled.length < 25; i++) if (labels[i] !== predicted[i]) mislabelled.push(sample(i));
    const count = (values: ArrayLike<number>) => {
      const counts = new Array<number>(classes).fill(0);
      for (let i = 0; i < values.length; i++) counts[values[i]!]!++;
      return counts;
    };
    return {
      kind: 'run', id: e.id, title: this.title, notebook: e.notebook, reported: e.reported, reportedText: e.reportedText,
      ...(e.note ? { note: e.note } : {}), quick: false, adapter: this.rt.adapter.name, seed: this.settings.seed,
      optimizer: withLearningRate(this.spec.optimizer(), this.settings.learningRate).describe(), preprocessing: this.spec.preprocessingText,
      epochs: this.epochsDone, batchSize: this.settings.batchSize, trainSamples: this.trainCount,
      validationSamples: this.validationCount, testSamples: this.test.count, summary: this.model.summary(), seconds,
      test: { loss: evaluation.loss, accuracy: evaluation.accuracy }, history: this.history.toJSON(),
      confusion: confusionMatrix(labels, predicted, classes), classification: classificationReport(labels, predicted, classes),
      classDistribution: { train: count(this.train.labels().subarray(0, this.trainCount)), test: count(labels) },
      imageShape: [images.rows, images.cols],
      samples: { first: Array.from({ length: Math.min(25, labels.length) }, (_, i) => sample(i)), mislabelled },
    };
  }

  /**
   * The model as a checkpoint file, the format `shaderprop run` writes
   * (last.ckpt): its meta says which entry, cell and epoch, and the history.
   */
  async checkpoint(): Promise<Uint8Array> {
    const history = this.history.toJSON();
    const best = this.history.best('val_loss');
    return this.model.checkpointBytes({
      id: this.settings.id, cell: this.settings.cell, epoch: this.epochsDone - 1, history,
      bestValLoss: best?.value ?? null, bestEpoch: best?.epoch ?? null, finished: true,
      settings: { ...this.settings }, savedBy: 'shaderprop browser demo',
    });
  }

  /** Loads a checkpoint's weights (and optimizer state) into this model; its history, where it has one, too. */
  async restore(bytes: Uint8Array, name: string): Promise<CheckpointHeader> {
    const header = await this.model.restore(bytes, name);
    const saved = header.meta.history as { epoch: number[]; history: Record<string, number[]> } | undefined;
    if (saved?.epoch?.length) {
      saved.epoch.forEach((epoch, i) => {
        const logs = Object.fromEntries(Object.entries(saved.history).map(([k, v]) => [k, v[i]!])) as unknown as EpochLogs;
        this.history.record(epoch, logs);
      });
      this.epochsDone = saved.epoch[saved.epoch.length - 1]! + 1;
    }
    return header;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model?.dispose();
    this.train?.dispose();
    this.test?.dispose();
  }
}

// ---------------------------------------------------------------------------
// The classic baselines

/** How the page runs a classic baseline: its sizes (quick on a software adapter, full on a GPU) and why, in words. */
export interface ClassicPlan {
  quick: boolean;
  /** What it computes. */
  computes: string;
  /** The sizes it runs at, and why those. */
  size: string;
}

const thousands = (n: number) => n.toLocaleString('en-US');

export function classicPlan(e: ClassicExperiment, slowAdapter: boolean): ClassicPlan {
  const quick = slowAdapter;
  const spec = e.spec;
  const q = e.quick;
  let computes: string;
  let size: string;
  switch (spec.algorithm) {
    case 'logistic-gd':
    case 'one-vs-all': {
      computes = spec.algorithm === 'logistic-gd'
        ? `binary logistic regression ("is it a ${spec.positive}?") by full-batch gradient descent with a backtracking (Armijo) line search, α ${spec.alpha}, β ${spec.beta}`
        : `ten one-vs-all logistic regressions trained together by full-batch gradient descent with a backtracking (Armijo) line search, α ${spec.alpha}, β ${spec.beta}, prediction by argmax`;
      computes += `; ${spec.bias ? 'with' : 'no'} bias, L2 λ ${spec.lambda}`;
      const steps = quick ? q.steps ?? spec.steps : spec.steps;
      size = quick
        ? `the first ${thousands(q.train)} training and ${thousands(q.test)} test images, ${steps} steps (of ${spec.steps})`
        : `all 60,000 training and 10,000 test images, ${steps} steps`;
      break;
    }
    case 'gaussian':
      computes = `one Gaussian per class (mean and full covariance + ${spec.regularization}·I, prior by class frequency); prediction by the largest log prior + log density`;
      size = quick ? `the first ${thousands(q.train)} training and ${thousands(q.test)} test images` : 'all 60,000 training and 10,000 test images';
      break;
    case 'nearest-neighbour': {
      const perClass = quick ? q.perClass ?? spec.perClass : spec.perClass;
      computes = 'exact 1-nearest-neighbour in squared Euclidean distance on the raw pixels (integer arithmetic); the test accuracy is the balanced subset\'s, drawn with the seed';
      size = `a balanced subset of ${perClass.train} training and ${perClass.test} test images per class (${thousands(perClass.train * 10)} × ${thousands(perClass.test * 10)})` +
        (spec.full ? quick ? `, then the first ${thousands(q.train)} training × ${thousands(q.test)} test images` : ', then all 60,000 × 10,000' : '');
      break;
    }
  }
  const why = quick
    ? 'quick size, as `shaderprop run --quick`: this adapter is a software emulation, so the run is kept to seconds'
    : 'full size, as `shaderprop run`: this adapter is a GPU';
  return { quick, computes, size: `${size} (${why})` };
}

/** Fits and evaluates a classic baseline at the plan's size; `log` gets its progress lines. */
export async function classicRun(
  rt: Runtime, e: ClassicExperiment, mnist: { train: ImageSet; test: ImageSet },
  options: { quick: boolean; seed: number; log?: (line: string) => void },
): Promise<ClassicResult> {
  const limit = LIMITS.seed;
  if (!Number.isInteger(options.seed) || options.seed < limit.min || options.seed > limit.max) {
    throw new Error(`seed must be a whole number from ${limit.min} to ${limit.max}; got ${Number.isNaN(options.seed) ? 'nothing' : options.seed}.`);
  }
  return runClassic(e, { runtime: rt, mnist, quick: options.quick, seed: options.seed, ...(options.log ? { log: options.log } : {}) });
}

/** The entry id and cell a checkpoint says it holds (its meta, as `shaderprop run` and the demo write it). */
export function checkpointOrigin(header: CheckpointHeader): { id: string; cell: string | null } | undefined {
  const id = header.meta.id;
  if (typeof id !== 'string') return undefined;
  const cell = header.meta.cell;
  return { id, cell: typeof cell === 'string' ? cell : null };
}

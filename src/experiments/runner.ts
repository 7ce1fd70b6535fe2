/**
 * Runs registry entries: builds the model, trains it with checkpoints (best by
 * validation loss, and last), evaluates the last and the best model on the
 * test set, and returns a `RunResult` for the report.
 *
 * Platform-neutral: the caller hands in the runtime and the MNIST arrays;
 * checkpoints go through the platform's atomic file writes when `dir` is set
 * (Node), and are skipped when it is not (a browser tab).
 */
import type { Runtime } from '../gpu/runtime.js';
import { firstImages, type ImageSet } from '../data/images.js';
import { Dataset } from '../data/dataset.js';
import { sequential } from '../model/sequential.js';
import { History, TrainingDivergedError, TrainingInterruptedError, type Callback, type EpochLogs, type EpochProgress } from '../model/history.js';
import { classificationReport, confusionMatrix } from '../metrics/classification.js';
import { countClasses, pickSamples } from '../metrics/samples.js';
import { getPlatform } from '../platform/platform.js';
import { runClassic } from './classic.js';
import type { Experiment, NeuralExperiment, QuickSpec, SweepExperiment, TrainSpec } from './registry.js';
import type { ExperimentResult, HistoryJson, RunResult, SweepCell, SweepResult } from './result.js';

export interface RunnerOptions {
  runtime: Runtime;
  /** The full MNIST train and test sets; quick mode takes the first images of each. */
  mnist: { train: ImageSet; test: ImageSet };
  quick?: boolean;
  /** Overrides the entry's (or quick mode's) number of epochs. */
  epochs?: number;
  /** Fixes initialisation and shuffling (default 1). */
  seed?: number;
  /**
   * false: leave out the parts of a run whose result is the same for every
   * seed (s003-1nn on all 60,000 × 10,000 images); `run --seeds N` computes
   * them for its first seed only. Default true.
   */
  seedIndependent?: boolean;
  /** This id's folder for checkpoints; none: no checkpoints. */
  dir?: string;
  /** Continue from `dir`'s last checkpoint(s) instead of starting over. */
  resume?: boolean;
  /** Callbacks for one training run (an id, or a sweep's cell). */
  callbacks?: (run: { id: string; cell?: string; epochs: number }) => Callback[];
  /** A sweep runs only its cells of these names (all of them when absent); names that are not its cells are errors. */
  cells?: readonly string[];
  /** Steps between progress callbacks (default 50). */
  progressEvery?: number;
  /** One-line messages (resuming, skipping a finished cell). */
  log?: (line: string) => void;
  /**
   * Aborting it stops training between two steps: `last.ckpt` then holds the
   * run up to that step, and runExperiment throws RunInterruptedError.
   */
  signal?: AbortSignal;
}

/** The run was stopped through `signal`; its last checkpoint (if it has a folder) continues it. */
export class RunInterruptedError extends Error {
  constructor(readonly id: string, readonly checkpoint: string | null, where: string) {
    super(`${id}: interrupted ${where}${checkpoint ? `; ${checkpoint} holds the run so far` : ''}.`);
    this.name = 'RunInterruptedError';
  }
}

/** What quick mode changes, for messages: "quick: 4000 train / 1000 test images, 2 epochs". */
export function describeQuick(experiment: Experiment, epochs?: number): string {
  if (experiment.kind === 'classic') {
    const q = experiment.quick;
    const sizes = q.perClass
      ? `a balanced subset of ${q.perClass.train} train / ${q.perClass.test} test images per class, and ${q.train} / ${q.test}`
      : `${q.train} train / ${q.test} test images`;
    return `quick: ${sizes}${q.steps ? `, ${q.steps} steps` : ''}`;
  }
  const q: QuickSpec = experiment.quick;
  return `quick: ${q.train} train / ${q.test} test images, ${epochs ?? q.epochs} epoch${(epochs ?? q.epochs) === 1 ? '' : 's'}`;
}

/** Trains and evaluates one registry entry (every cell of a sweep). */
export async function runExperiment(experiment: Experiment, options: RunnerOptions): Promise<ExperimentResult> {
  if (experiment.kind === 'classic') return runClassic(experiment, options);
  const cache = new DatasetCache(options);
  try {
    return experiment.kind === 'neural'
      ? await trainOne(experiment, experiment.train, options, cache, options.dir)
      : await runSweep(experiment, options, cache);
  } finally {
    cache.dispose();
  }
}

async function runSweep(e: SweepExperiment, options: RunnerOptions, cache: DatasetCache): Promise<SweepResult> {
  const platform = await getPlatform();
  for (const name of options.cells ?? []) {
    if (!e.cells.some((c) => c.name === name)) throw new Error(`${e.id} has no cell '${name}'; its cells are: ${e.cells.map((c) => c.name).join('; ')}.`);
  }
  const cells: SweepCell[] = [];
  for (const cell of e.cells) {
    if (options.cells && !options.cells.includes(cell.name)) continue;
    const dir = options.dir ? platform.joinPath(options.dir, slug(cell.name)) : undefined;
    const result = await trainOne(e, cell.train, options, cache, dir, cell.name);
    cells.push({ name: cell.name, params: cell.params, result });
  }
  return sweepResult(e, cells, { quick: !!options.quick, adapter: options.runtime.adapter.name, seed: options.seed ?? 1 });
}

/**
 * The best of a sweep's cells (given in the registry's order): the highest
 * final val_accuracy; on a tie (10,000 validation images give accuracies in
 * steps of 0.0001, and cells do tie), the lower final val_loss; then the first
 * in the registry's order. A cell without a finite value ranks last on it.
 */
export function bestCell<C extends SweepCell>(cells: readonly C[]): C {
  const first = cells[0];
  if (!first) throw new Error('bestCell: no cells.');
  const finite = (v: number | undefined, worst: number) => (v !== undefined && Number.isFinite(v) ? v : worst);
  const acc = (c: SweepCell) => finite(last(c.result.history.history.val_accuracy), -Infinity);
  const loss = (c: SweepCell) => finite(last(c.result.history.history.val_loss), Infinity);
  return cells.reduce((a, b) => (acc(b) > acc(a) || (acc(b) === acc(a) && loss(b) < loss(a)) ? b : a), first);
}

/** A sweep's result from its cells' runs (in any order; kept in the registry's): the best cell by `bestCell`. */
function sweepResult(e: SweepExperiment, cells: SweepCell[], how: { quick: boolean; adapter: string; seed: number }): SweepResult {
  if (cells.length === 0) throw new Error(`${e.id}: no cell of the sweep ran.`);
  const order = (c: SweepCell) => e.cells.findIndex((x) => x.name === c.name);
  const sorted = [...cells].sort((a, b) => order(a) - order(b));
  const best = bestCell(sorted);
  // Only the best cell keeps its picture grids: the report shows them for it alone.
  for (const c of sorted) if (c !== best) delete c.result.samples;
  const notRun = e.cells.filter((x) => !sorted.some((c) => c.name === x.name)).map((x) => x.name);
  return {
    kind: 'sweep', id: e.id, title: e.title, notebook: e.notebook, reported: e.reported, reportedText: e.reportedText,
    ...(e.note ? { note: e.note } : {}), quick: how.quick, adapter: how.adapter,
    seed: how.seed, axes: e.axes, cells: sorted, ...(notRun.length ? { cellsNotRun: notRun } : {}),
    best: best.name, test: best.result.test,
    seconds: sorted.reduce((s, c) => s + c.result.seconds, 0),
  };
}

/**
 * One sweep's result from parts that each ran some of its cells (`cells` in
 * separate processes, `run --jobs`), all with one seed: the cells together, and
 * the best of them all.
 */
export function mergeSweepParts(e: SweepExperiment, parts: readonly SweepResult[]): SweepResult {
  const first = parts[0];
  if (!first) throw new Error(`${e.id}: no part of the sweep to merge.`);
  const cells = parts.flatMap((p) => p.cells);
  const names = new Set(cells.map((c) => c.name));
  if (names.size !== cells.length) throw new Error(`${e.id}: a cell appears in more than one part.`);
  return sweepResult(e, cells, { quick: first.quick, adapter: first.adapter, seed: first.seed });
}

/** Datasets on the GPU, shared by the runs of one entry that preprocess alike. */
class DatasetCache {
  private readonly entries = new Map<string, { train: Dataset; test: Dataset }>();
  constructor(private readonly options: RunnerOptions) {}

  get(spec: TrainSpec, quick: QuickSpec | undefined): { train: Dataset; test: Dataset } {
    const key = JSON.stringify([spec.preprocessing, spec.binaryDigit ?? null, spec.inputShape, quick?.train, quick?.test]);
    let found = this.entries.get(key);
    if (!found) {
      const { runtime: rt, mnist } = this.options;
      const trainImages = quick ? firstImages(mnist.train, quick.train) : mnist.train;
      const testImages = quick ? firstImages(mnist.test, quick.test) : mnist.test;
      const binary = spec.binaryDigit;
      const common = {
        preprocessing: spec.preprocessing,
        shape: spec.inputShape,
        ...(binary !== undefined ? { mapLabel: (d: number) => (d === binary ? 1 : 0), classes: 2 } : {}),
      };
      const train = Dataset.fromImages(rt, trainImages, common);
      // Standardisation uses the training statistics on the test set too.
      const test = Dataset.fromImages(rt, testImages, { ...common, ...(train.stats ? { stats: train.stats } : {}) });
      found = { train, test };
      this.entries.set(key, found);
    }
    return found;
  }

  dispose(): void {
    for (const { train, test } of this.entries.values()) {
      train.dispose();
      test.dispose();
    }
    this.entries.clear();
  }
}

interface CheckpointMeta {
  id: string;
  cell: string | null;
  epoch: number;
  history: HistoryJson;
  bestValLoss: number | null;
  bestEpoch: number | null;
  finished: boolean;
  /** The settings the run trains with (absent in checkpoints of older versions). */
  quick?: boolean;
  seed?: number;
  epochs?: number;
  /** The epoch after `epoch`, partly done when the run was interrupted mid-epoch. */
  partial?: EpochProgress;
}

/** A resume whose settings differ from those of the run it continues. */
export class ResumeMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeMismatchError';
  }
}

/** One training run: an id, or one cell of a sweep. */
async function trainOne(
  e: NeuralExperiment | SweepExperiment, spec: TrainSpec, options: RunnerOptions, cache: DatasetCache,
  dir: string | undefined, cell?: string,
): Promise<RunResult> {
  const platform = await getPlatform();
  const quick = options.quick ? e.quick : undefined;
  const epochs = options.epochs ?? quick?.epochs ?? spec.epochs;
  const seed = options.seed ?? 1;
  const { train, test } = cache.get(spec, quick);
  const name = cell ? `${e.id} ${cell}` : e.id;

  const model = sequential(spec.layers(), { inputShape: spec.inputShape, runtime: options.runtime, name: e.id, seed });
  model.compile({ optimizer: spec.optimizer(), loss: spec.loss, metrics: ['accuracy'] });
  try {
    const paths = dir
      ? { last: platform.joinPath(dir, 'last.ckpt'), best: platform.joinPath(dir, 'best.ckpt') }
      : undefined;
    if (dir) await platform.mkdirp(dir);

    // Resume: weights, optimizer state, iteration and history from the last checkpoint.
    const history = new History();
    let firstEpoch = 0;
    let bestValLoss: number | null = null;
    let bestEpoch: number | null = null;
    let partial: EpochProgress | undefined;
    if (options.signal?.aborted) throw new RunInterruptedError(name, null, 'before it started');
    if (options.resume && paths && (await platform.exists(paths.last))) {
      const header = await model.load(paths.last);
      const meta = header.meta as unknown as CheckpointMeta;
      checkResume(name, meta, { quick: !!options.quick, seed, epochs }, options.log);
      meta.history.epoch.forEach((ep, i) => {
        const logs = Object.fromEntries(Object.entries(meta.history.history).map(([k, v]) => [k, v[i]!])) as unknown as EpochLogs;
        history.record(ep, logs);
      });
      firstEpoch = meta.epoch + 1;
      bestValLoss = meta.bestValLoss;
      bestEpoch = meta.bestEpoch;
      partial = meta.partial;
      options.log?.(partial
        ? `${name}: resuming at step ${partial.step} of epoch ${partial.epoch + 1} of ${epochs} from ${paths.last}`
        : `${name}: resuming after epoch ${firstEpoch} of ${epochs} from ${paths.last}`);
    }

    // Checkpoints at the end of every epoch: `last` always, `best` when the validation loss improves.
    const checkpoints: Callback = {
      onEpochEnd: async (epoch, logs) => {
        history.record(epoch, logs);
        const val = logs.val_loss;
        if (val !== undefined && (bestValLoss === null || val < bestValLoss)) {
          bestValLoss = val;
          bestEpoch = epoch;
          if (paths) await model.save(paths.best, meta(epoch));
        }
        if (paths) await model.save(paths.last, meta(epoch));
      },
    };
    const meta = (epoch: number, within?: EpochProgress): Record<string, unknown> => ({
      id: e.id, cell: cell ?? null, epoch, history: history.toJSON(), bestValLoss, bestEpoch, finished: !within && epoch + 1 >= epochs,
      quick: !!options.quick, seed, epochs, ...(within ? { partial: within } : {}),
    } satisfies CheckpointMeta);

    // The untrained model on the test set: the baseline the trained one must beat.
    const initial = firstEpoch === 0 && !partial ? await model.evaluate(test) : undefined;
    const started = performance.now();
    let diverged: RunResult['diverged'];
    const interrupt = () => model.interrupt();
    options.signal?.addEventListener('abort', interrupt);
    if (firstEpoch < epochs) {
      try {
        if (options.signal?.aborted) throw new TrainingInterruptedError(partial ?? { epoch: firstEpoch, step: 0, lossSum: 0, correct: 0, seen: 0, seconds: 0 });
        await model.fit(train, {
          epochs, initialEpoch: firstEpoch, ...(partial ? { initialProgress: partial } : {}), batchSize: spec.batchSize, seed,
          ...(spec.validation.kind === 'test' ? { validationData: test } : spec.validation.fraction > 0 ? { validationSplit: spec.validation.fraction } : {}),
          progressEvery: options.progressEvery ?? 50,
          callbacks: [checkpoints, ...(options.callbacks?.({ id: e.id, ...(cell ? { cell } : {}), epochs }) ?? [])],
        });
      } catch (error) {
        if (error instanceof TrainingInterruptedError) {
          // The weights after the last step done, with the epoch's place and sums: a resume finishes it as an unbroken run.
          const at = error.progress;
          if (paths) await model.save(paths.last, meta(at.epoch - 1, at));
          throw new RunInterruptedError(name, paths?.last ?? null, `at step ${at.step} of epoch ${at.epoch + 1}`);
        }
        // A diverging run (a sweep's too-large learning rate) is a result, not a crash: the
        // model kept the weights from before the bad step, and they are evaluated as they are.
        if (!(error instanceof TrainingDivergedError)) throw error;
        diverged = { epoch: error.epoch, step: error.step, message: error.message };
        options.log?.(`${name}: ${error.message}`);
      } finally {
        options.signal?.removeEventListener('abort', interrupt);
      }
    }
    if (options.signal?.aborted) throw new RunInterruptedError(name, paths?.last ?? null, 'after training, before its evaluation');
    const resumedSeconds = history.history.seconds?.slice(0, firstEpoch).reduce((a, b) => a + b, 0) ?? 0;
    const seconds = resumedSeconds + (performance.now() - started) / 1000;

    // The last model on the test set. A diverged model's weights may be too large for a
    // finite loss: its loss is then NaN and its accuracy is what its predictions score.
    const labels = test.labels();
    const predicted = await model.predictClasses(test);
    const evaluation = await model.evaluate(test).catch((error: unknown) => {
      if (!diverged) throw error;
      return { loss: Number.NaN, accuracy: labels.reduce((n, label, i) => n + (label === predicted[i] ? 1 : 0), 0) / labels.length };
    });
    const classes = test.classes;
    const trainCount = spec.validation.kind === 'split' ? Math.floor(train.count * (1 - spec.validation.fraction)) : train.count;

    // The best model by validation loss, reloaded from its checkpoint (when it is not the last one).
    let best: RunResult['best'];
    if (paths && bestEpoch !== null && bestValLoss !== null && (await platform.exists(paths.best))) {
      let b = evaluation;
      if (bestEpoch !== history.epoch[history.epoch.length - 1]) {
        await model.load(paths.best);
        b = await model.evaluate(test);
      }
      best = { epoch: bestEpoch, val_loss: bestValLoss, test: { loss: b.loss, accuracy: b.accuracy } };
    }

    const images = quick ? firstImages(options.mnist.test, quick.test) : options.mnist.test;
    const result: RunResult = {
      kind: 'run', id: e.id, title: cell ? `${e.title} — ${cell}` : e.title, notebook: e.notebook,
      reported: e.reported, reportedText: e.reportedText, ...(e.note ? { note: e.note } : {}),
      quick: !!options.quick, adapter: options.runtime.adapter.name, seed,
      optimizer: spec.optimizer().describe(), preprocessing: spec.preprocessingText,
      epochs, batchSize: spec.batchSize, trainSamples: trainCount,
      validationSamples: spec.validation.kind === 'test' ? test.count : train.count - trainCount, testSamples: test.count,
      validation: spec.validation.kind === 'test' ? 'test' : spec.validation.fraction > 0 ? 'split' : 'none',
      summary: model.summary(), seconds,
      test: { loss: evaluation.loss, accuracy: evaluation.accuracy },
      ...(initial ? { initial: { loss: initial.loss, accuracy: initial.accuracy } } : {}),
      ...(diverged ? { diverged } : {}),
      ...(best ? { best } : {}),
      history: history.toJSON(),
      confusion: confusionMatrix(labels, predicted, classes),
      classification: classificationReport(labels, predicted, classes),
      classDistribution: {
        train: countClasses(train.labels().subarray(0, trainCount), classes),
        test: countClasses(labels, classes),
      },
      imageShape: [images.rows, images.cols],
      samples: pickSamples(images.images, images.rows * images.cols, labels, predicted),
      ...(paths ? { files: { lastCheckpoint: relative(paths.last, dir!), ...(best ? { bestCheckpoint: relative(paths.best, dir!) } : {}) } } : {}),
    };
    return result;
  } finally {
    model.dispose();
  }
}

/**
 * A resume continues the run as it was: the same data (quick or not) and seed.
 * More epochs than it was set to extend it, said in a message; fewer are
 * refused, since its checkpoint may be past them.
 */
function checkResume(name: string, meta: CheckpointMeta, now: { quick: boolean; seed: number; epochs: number }, log?: (line: string) => void): void {
  if (meta.quick !== undefined && meta.quick !== now.quick) {
    throw new ResumeMismatchError(
      `${name}: the run to resume was ${meta.quick ? 'a quick run (--quick)' : 'a full-size run (without --quick)'}; ` +
        `resume it ${meta.quick ? 'with' : 'without'} --quick, or start a new run in another folder.`,
    );
  }
  if (meta.seed !== undefined && meta.seed !== now.seed) {
    throw new ResumeMismatchError(`${name}: the run to resume has seed ${meta.seed}, not ${now.seed}; resume it with --seed ${meta.seed}, or start a new run in another folder.`);
  }
  if (meta.epochs !== undefined && now.epochs < meta.epochs) {
    throw new ResumeMismatchError(
      `${name}: the run to resume was set to ${meta.epochs} epochs; --epochs ${now.epochs} would cut it short. ` +
        `Resume with --epochs ${meta.epochs} or more, or start a new run in another folder.`,
    );
  }
  if (meta.epochs !== undefined && now.epochs > meta.epochs) {
    log?.(`${name}: extending the run from ${meta.epochs} to ${now.epochs} epochs.`);
  }
}

function relative(path: string, dir: string): string {
  return path.startsWith(dir) ? path.slice(dir.length).replace(/^[\\/]+/, '') : path;
}

function last(values: number[] | undefined): number | undefined {
  return values?.length ? values[values.length - 1] : undefined;
}

/** A folder name for a sweep cell: "lr=0.1 init=xavier" → "lr-0.1_init-xavier". */
export function slug(name: string): string {
  return name.replace(/[=]/g, '-').replace(/[^A-Za-z0-9.+-]+/g, '_').replace(/^_+|_+$/g, '');
}

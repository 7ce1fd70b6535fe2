/**
 * What one experiment run produces: plain JSON-able data, written to
 * `report.json` and rendered by `src/report/` into the HTML report.
 */
import type { ClassificationReport } from '../metrics/classification.js';
import type { SampleImage } from '../metrics/samples.js';
import type { RunSettings } from './overrides.js';

export type { SampleImage } from '../metrics/samples.js';

/** Per-epoch history in Keras's shape: history.loss[i] belongs to epoch[i] (0-based). */
export interface HistoryJson {
  epoch: number[];
  /** loss, accuracy, val_loss, val_accuracy, seconds, lr. */
  history: Record<string, number[]>;
}

/** What every result says of its experiment: which one, the notebook's number, how it ran. */
export interface ResultHeader {
  id: string;
  /** One line: what the model is, e.g. "784-128-64-10 relu, softmax". */
  title: string;
  /** 'seeds/001' */
  notebook: string;
  /** The notebook's test accuracy, or null where it reported none. */
  reported: number | null;
  /** The notebook's result as it was stated, e.g. "0.92 test (0.9104 train acc)". */
  reportedText: string;
  /** Where the notebook had a bug or differs from this run: what and how it was handled. */
  note?: string;
  /** True when run with --quick (fewer samples and epochs). */
  quick: boolean;
  adapter: string;
  seed: number;
}

/** The result of training and evaluating one model (one id, or one cell of a sweep). */
export interface RunResult extends ResultHeader {
  kind: 'run';
  /** e.g. "SGD lr 0.01", "Adam lr 0.001". */
  optimizer: string;
  /** e.g. "x/255", "L2 along rows". */
  preprocessing: string;
  epochs: number;
  batchSize: number;
  trainSamples: number;
  validationSamples: number;
  testSamples: number;
  /**
   * Where validation came from: the last part of the training images (`split`), the test set (`test`), or nowhere
   * (`none`: the notebook had no validation set, so no best checkpoint is chosen and the last epoch's model is the one
   * compared). Absent in reports of older versions.
   */
  validation?: 'split' | 'test' | 'none';
  /** Keras-style model summary text. */
  summary: string;
  /** Wall time of training (validation included), seconds. */
  seconds: number;
  /** The last model on the test set. */
  test: { loss: number; accuracy: number };
  /** Set when a step's loss was not finite: training stopped there and the model kept the weights from before it. */
  diverged?: { epoch: number; step: number; message: string };
  /** The model before training on the test set (absent for a resumed run). */
  initial?: { loss: number; accuracy: number };
  /** The best model by validation loss (reloaded from its checkpoint) on the test set. */
  best?: { epoch: number; val_loss: number; test: { loss: number; accuracy: number } };
  history: HistoryJson;
  /** Counts, confusion[true][predicted], of the last model on the test set. */
  confusion: number[][];
  classification: ClassificationReport;
  /** Images per class. */
  classDistribution: { train: number[]; test: number[] };
  imageShape: [rows: number, cols: number];
  /** The first 25 test images, and the first 25 the model got wrong. */
  samples?: { first: SampleImage[]; mislabelled: SampleImage[] };
  /** Files written beside report.json (checkpoints), relative to the run's folder. */
  files?: Record<string, string>;
}

/** One cell of a sweep: its parameters and its run. */
export interface SweepCell {
  /** Short unique name, e.g. "lr=0.1 init=xavier". */
  name: string;
  params: Record<string, string | number>;
  result: RunResult;
}

/** A sweep: one id whose cells are runs, compared by validation accuracy. */
export interface SweepResult extends ResultHeader {
  kind: 'sweep';
  /** The names of the swept parameters, in the order of the grid's axes. */
  axes: string[];
  cells: SweepCell[];
  /**
   * The grid's cells that did not run (`run --cell` named the others), in the
   * registry's order; absent when every cell ran. The best cell is the best
   * of those that ran.
   */
  cellsNotRun?: string[];
  /** Name of the cell with the highest final validation accuracy (a tie: the lower final val_loss, then registry order). */
  best: string;
  /** Test accuracy of the best cell (the number compared with the notebook's). */
  test: { loss: number; accuracy: number };
  seconds: number;
}

/** Per-step curves of a full-batch gradient descent (the line-search baselines). */
export interface StepCurves {
  /** 1-based step numbers. */
  step: number[];
  /** Training loss after the step (mean over the outputs for one-vs-all). */
  trainLoss: number[];
  /** Test loss after the step (mean over the outputs). */
  testLoss: number[];
  /** Test error after the step (fraction of test images misclassified). */
  testError: number[];
  /** Line-search trials the step took (mean over the outputs for one-vs-all). */
  trials: number[];
  /** Step size taken (geometric mean over the outputs for one-vs-all). */
  t: number[];
}

/** A further evaluation of a classic baseline, e.g. 1-NN on the full sets beside the notebook's subset. */
export interface ClassicEvaluation {
  name: string;
  trainSamples: number;
  testSamples: number;
  accuracy: number;
  errors: number;
  seconds: number;
  /** A published figure to compare with, in words. */
  reference?: string;
}

/** The result of a classic (non-neural) baseline: fitted once, evaluated on the test set. */
export interface ClassicResult extends ResultHeader {
  kind: 'classic';
  /** How it is computed: what runs on the GPU and what on the CPU, and the settings. */
  method: string;
  preprocessing: string;
  trainSamples: number;
  testSamples: number;
  /** Wall time, seconds, GPU work included. */
  seconds: number;
  /** Wall time of the phases, seconds, e.g. { fit: 12.1, score: 30.4 }. */
  timings: Record<string, number>;
  /** On the test set; loss only where the method has one (logistic regression). */
  test: { loss: number | null; accuracy: number; errors: number };
  /** Class names where they are not the digits, e.g. ['not 5', '5']. */
  classNames?: string[];
  confusion: number[][];
  classification: ClassificationReport;
  classDistribution: { train: number[]; test: number[] };
  imageShape: [rows: number, cols: number];
  samples?: { first: SampleImage[]; mislabelled: SampleImage[] };
  /** Gradient-descent curves (s001-logreg-gd, s003-ova). */
  steps?: StepCurves;
  /** Per-class mean images, values 0–255 (s003-gaussian). */
  means?: number[][];
  /** Further evaluations (s003-1nn on the full sets). */
  evaluations?: ClassicEvaluation[];
}

export type ExperimentResult = RunResult | SweepResult | ClassicResult;

/** What one `shaderprop run` invocation wrote: the results, in the order run. */
export interface RunReport {
  /** ISO time the run started. */
  started: string;
  /** The command line, for the report's header. */
  command: string;
  adapter: string;
  quick: boolean;
  results: ExperimentResult[];
  /** Ids asked for that could not run (an error on this adapter or data), with the reason. */
  skipped: { id: string; reason: string }[];
  /** What the command line replaced of every entry's settings (`run --lr --batch-size --train-images --test-images`). */
  settings?: RunSettings;
  /**
   * `run --seeds N` with N > 1: each id's spread over its seeds, with every seed's result. `results` then holds
   * each id's first seed, whose pictures the report shows.
   */
  spreads?: SeedSpread[];
}

/** The test accuracies of one id over its seeds, and every seed's whole result. */
export interface SeedSpread {
  id: string;
  /** The notebook's test accuracy, or null where it reported none. */
  reported: number | null;
  /**
   * The accuracies that print as `reported` with the decimals the notebook
   * printed (0.92 → [0.915, 0.925]); null where it reported none.
   */
  reportedInterval: [number, number] | null;
  /** The seeds, in the order run (seed, seed+1, ...), of the runs that finished. */
  seeds: number[];
  /** Test accuracy of each seed's compared model, in the order of `seeds`. */
  accuracies: number[];
  mean: number;
  /** Sample standard deviation (divides by n − 1; 0 for one seed). */
  sd: number;
  min: number;
  max: number;
  /**
   * Whether the notebook's number lies in [min, max] of the seeds, read as
   * `reportedInterval` (a seed that prints as the notebook's number is a
   * match): the test the summary table shows. null where the notebook
   * reported no number.
   */
  notebookInRange: boolean | null;
  /** Whether `reportedInterval` meets mean ± 2 sd (given beside, not used by the table). */
  notebookWithinTwoSd: boolean | null;
  /** Every seed's result, in the order of `seeds`. */
  results: ExperimentResult[];
}

/**
 * What an experiment is: the declarative shape of a registry entry (a neural
 * run, a sweep of runs, or a classic baseline), its training recipe, its quick
 * mode and its validation split. `registry.ts` holds the entries themselves.
 */
import type { Layer } from '../layers/index.js';
import type { Optimizer } from '../optimizers/optimizers.js';
import type { LossName } from '../losses/losses.js';
import type { Preprocessing } from '../data/preprocess.js';

/** Which samples validate. */
export type ValidationSpec =
  /**
   * Keras validation_split: the last `fraction` of the training images. Fraction 0
   * is no validation set, as in the notebooks that called `model.fit(x_train, y_train)`:
   * every training image trains, and the model compared is the last epoch's.
   */
  | { kind: 'split'; fraction: number }
  /** The test set, as seeds/001 did (validation_data=(test_x, test_y)). */
  | { kind: 'test' };

/** Whether a run validates at all (a split of fraction 0 does not). */
export function hasValidation(spec: ValidationSpec): boolean {
  return spec.kind === 'test' || spec.fraction > 0;
}

/** How one model trains: enough to rebuild it exactly. */
export interface TrainSpec {
  /** Fresh layers (a new model) on every call. */
  layers: () => Layer[];
  /** [28, 28] for dense models; conv models read [28, 28, 1]. */
  inputShape: number[];
  optimizer: () => Optimizer;
  loss: LossName;
  batchSize: number;
  epochs: number;
  preprocessing: Preprocessing;
  validation: ValidationSpec;
  /** Binary task: label 1 for this digit, 0 for the rest. */
  binaryDigit?: number;
  /** For the report: the preprocessing in words. */
  preprocessingText: string;
}

/** Quick mode: fewer samples and epochs, for tests and a first look. */
export interface QuickSpec {
  /** Training images (before the validation split). */
  train: number;
  /** Test images. */
  test: number;
  epochs: number;
  /**
   * Test accuracy a working model reaches in quick mode (measured, with margin,
   * on SwiftShader); the quick tests assert it. Slow recipes (SGD 0.01 on
   * sigmoids, tiny learning rates) get a lower one, just above what chance or a
   * broken gradient gives.
   */
  floor: number;
  /** Quick mode is a single training step (conv models): the loss need not fall yet. */
  oneStep?: boolean;
}

interface Common {
  id: string;
  /** 'seeds/001' */
  notebook: string;
  /** One line. */
  title: string;
  /** Test accuracy the notebook reported; null where it reported none. */
  reported: number | null;
  /** The notebook's result as it stated it. */
  reportedText: string;
  /** A bug in the notebook, or how this entry differs from it, and why. */
  note?: string;
}

export interface NeuralExperiment extends Common {
  kind: 'neural';
  train: TrainSpec;
  quick: QuickSpec;
}

export interface SweepExperiment extends Common {
  kind: 'sweep';
  /** The swept parameters, in grid order. */
  axes: string[];
  cells: { name: string; params: Record<string, string | number>; train: TrainSpec }[];
  quick: QuickSpec;
}

/** What a classic baseline computes, and its settings. */
export type ClassicSpec =
  /** Binary logistic regression ("is it `positive`?") by full-batch gradient descent with Armijo backtracking. */
  | { algorithm: 'logistic-gd'; positive: number; steps: number; alpha: number; beta: number; bias: boolean; lambda: number }
  /** One logistic regression per class, trained together, prediction by argmax. */
  | { algorithm: 'one-vs-all'; steps: number; alpha: number; beta: number; bias: boolean; lambda: number }
  /** Per-class mean and full covariance + regularization·I; argmax of log prior + log density. */
  | { algorithm: 'gaussian'; regularization: number }
  /**
   * Exact 1-nearest-neighbour in squared Euclidean distance: on a balanced
   * subset (`perClass` examples of each class, drawn with the seed) and, with
   * `full`, on the whole sets too.
   */
  | { algorithm: 'nearest-neighbour'; perClass: { train: number; test: number }; full: boolean };

/** Quick mode of a classic baseline: smaller sets (and fewer steps). */
export interface ClassicQuick {
  /** Training and test images (the first ones), or per class for a balanced subset. */
  train: number;
  test: number;
  /** Gradient-descent steps. */
  steps?: number;
  /** 1-NN: the balanced subset's size per class. */
  perClass?: { train: number; test: number };
  /** Test accuracy a working method reaches in quick mode (measured, with margin). */
  floor: number;
}

/** The non-neural baselines: fitted on the GPU by hand-written kernels of their own (`src/classic/`). */
export interface ClassicExperiment extends Common {
  kind: 'classic';
  spec: ClassicSpec;
  /** For the report: the preprocessing in words. */
  preprocessingText: string;
  quick: ClassicQuick;
}

export type Experiment = NeuralExperiment | SweepExperiment | ClassicExperiment;

/**
 * Runs the classic baselines of the registry (`kind: 'classic'`): line-search
 * logistic regression, one-vs-all, the Gaussian classifier and 1-NN. Each is
 * fitted by its own kernels (`src/classic/`) and evaluated on the test set;
 * the result has the same confusion matrix, classification report and image
 * grids as a neural run, plus what the method has of its own (per-step curves,
 * mean images, further evaluations).
 */
import type { Runtime } from '../gpu/runtime.js';
import { balancedSubset } from '../data/split.js';
import { classificationReport, confusionMatrix } from '../metrics/classification.js';
import { firstImages, imageFeatures, pick, type ImageSet } from '../data/images.js';
import { checkImageSet, type CheckedImageSet } from '../classic/types.js';
import { predictLogistic, trainLogistic, type LogisticStep } from '../classic/logistic.js';
import { fitGaussian, scoreGaussian } from '../classic/gaussian.js';
import { NearestNeighbour } from '../classic/knn.js';
import type { ClassicExperiment, ClassicSpec } from './registry.js';
import type { ClassicEvaluation, ClassicResult, StepCurves } from './result.js';
import { countClasses, pickSamples } from '../metrics/samples.js';

/** What a classic run needs of the runner's options. */
export interface ClassicRunOptions {
  runtime: Runtime;
  /** The full MNIST train and test sets; quick mode takes the first images of each. */
  mnist: { train: ImageSet; test: ImageSet };
  quick?: boolean;
  /** Seeds the balanced subsets (default 1). */
  seed?: number;
  /**
   * false: leave out the parts whose result is the same for every seed
   * (s003-1nn on all 60,000 × 10,000 images), as `run --seeds N` does for
   * every seed but its first. Default true.
   */
  seedIndependent?: boolean;
  log?: (line: string) => void;
}

/** What one method produced on its test set. */
interface Outcome {
  method: string;
  train: CheckedImageSet;
  test: CheckedImageSet;
  /** The class each test image belongs to, as the method sees it (0/1 for a binary task). */
  labels: Uint8Array;
  predictions: Uint8Array;
  classes: number;
  classNames?: string[];
  loss: number | null;
  timings: Record<string, number>;
  steps?: StepCurves;
  means?: number[][];
  evaluations?: ClassicEvaluation[];
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Fits and evaluates one classic baseline. */
export async function runClassic(e: ClassicExperiment, options: ClassicRunOptions): Promise<ClassicResult> {
  const { runtime: rt, mnist } = options;
  const seed = options.seed ?? 1;
  const log = options.log ?? (() => {});
  const quick = options.quick ? e.quick : undefined;
  // Each set is checked once here; the methods' entry points take the checked sets without checking again.
  const fullTrain = checkImageSet(`${e.id}: train set`, mnist.train);
  const fullTest = checkImageSet(`${e.id}: test set`, mnist.test);
  const train = quick ? checkImageSet(`${e.id}: train set`, firstImages(fullTrain, quick.train)) : fullTrain;
  const test = quick ? checkImageSet(`${e.id}: test set`, firstImages(fullTest, quick.test)) : fullTest;

  const started = performance.now();
  const seedIndependent = options.seedIndependent ?? true;
  const outcome = await run(rt, e.spec, { train, test, fullTrain, fullTest, quick, seed, seedIndependent, log, id: e.id });
  const total = seconds(started);

  const { labels, predictions, classes } = outcome;
  let errors = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== predictions[i]) errors++;
  const trainLabels = outcome.classNames ? mapBinary(outcome.train.labels, e.spec) : outcome.train.labels;
  return {
    kind: 'classic', id: e.id, title: e.title, notebook: e.notebook, reported: e.reported, reportedText: e.reportedText,
    ...(e.note ? { note: e.note } : {}), quick: !!options.quick, adapter: rt.adapter.name, seed,
    method: outcome.method, preprocessing: e.preprocessingText,
    trainSamples: outcome.train.count, testSamples: outcome.test.count,
    seconds: total, timings: outcome.timings,
    test: { loss: outcome.loss, accuracy: 1 - errors / labels.length, errors },
    ...(outcome.classNames ? { classNames: outcome.classNames } : {}),
    confusion: confusionMatrix(labels, predictions, classes),
    classification: classificationReport(labels, predictions, classes),
    classDistribution: { train: countClasses(trainLabels, classes), test: countClasses(labels, classes) },
    imageShape: [mnist.test.rows, mnist.test.cols],
    samples: pickSamples(outcome.test.images, imageFeatures(outcome.test), labels, predictions),
    ...(outcome.steps ? { steps: outcome.steps } : {}),
    ...(outcome.means ? { means: outcome.means } : {}),
    ...(outcome.evaluations ? { evaluations: outcome.evaluations } : {}),
  };
}

interface Context {
  id: string;
  train: CheckedImageSet;
  test: CheckedImageSet;
  fullTrain: CheckedImageSet;
  fullTest: CheckedImageSet;
  quick: ClassicExperiment['quick'] | undefined;
  seed: number;
  /** Whether to run the parts that give the same result for every seed. */
  seedIndependent: boolean;
  log: (line: string) => void;
}

async function run(rt: Runtime, spec: ClassicSpec, c: Context): Promise<Outcome> {
  switch (spec.algorithm) {
    case 'logistic-gd':
    case 'one-vs-all':
      return logistic(rt, spec, c);
    case 'gaussian':
      return gaussian(rt, spec, c);
    case 'nearest-neighbour':
      return nearest(rt, spec, c);
  }
}

function mapBinary(labels: Uint8Array, spec: ClassicSpec): Uint8Array {
  if (spec.algorithm !== 'logistic-gd') return labels;
  return labels.map((l) => (l === spec.positive ? 1 : 0));
}

async function logistic(rt: Runtime, spec: Extract<ClassicSpec, { algorithm: 'logistic-gd' | 'one-vs-all' }>, c: Context): Promise<Outcome> {
  const binary = spec.algorithm === 'logistic-gd';
  const steps = c.quick?.steps ?? spec.steps;
  const every = Math.max(1, Math.round(steps / 10));
  const start = performance.now();
  const model = await trainLogistic(rt, c.train, {
    targets: binary ? { kind: 'binary', positive: spec.positive } : { kind: 'one-vs-all', classes: 10 },
    bias: spec.bias, lambda: spec.lambda, steps, alpha: spec.alpha, beta: spec.beta, test: c.test,
    onStep: (s) => {
      if (s.step % every === 0 || s.step === steps) {
        c.log(`${c.id} step ${s.step}/${steps}  train loss ${mean(s.trainLoss).toFixed(4)}  test loss ${mean(s.testLoss!).toFixed(4)}  ` +
          `test error ${s.testError!.toFixed(4)}  trials ${mean(s.trials).toFixed(1)}`);
      }
    },
  });
  const fit = seconds(start);
  const predictStart = performance.now();
  const { predictions } = await predictLogistic(rt, model, c.test);
  const predict = seconds(predictStart);
  const labels = binary ? mapBinary(c.test.labels.subarray(0, c.test.count), spec) : c.test.labels.subarray(0, c.test.count);
  const curves = stepCurves(model.history);
  const what = binary ? `binary logistic regression ("is it a ${spec.positive}?")` : 'ten one-vs-all logistic regressions trained together';
  return {
    method: `${what}; full-batch gradient descent over all ${c.train.count} training images, ${steps} steps; ` +
      `backtracking (Armijo) line search per output: t from 1, α ${spec.alpha}, β ${spec.beta}; ` +
      `${spec.bias ? 'with' : 'no'} bias; L2 λ ${spec.lambda} (cost λ/(2n)·‖w‖²). Loss, gradient and line-search trials on the GPU (one small read per trial).`,
    train: c.train, test: c.test, labels, predictions, classes: binary ? 2 : 10,
    ...(binary ? { classNames: [`not ${spec.positive}`, String(spec.positive)] } : {}),
    loss: curves.testLoss[curves.testLoss.length - 1] ?? null,
    timings: { fit, predict }, steps: curves,
  };
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

function stepCurves(history: readonly LogisticStep[]): StepCurves {
  const geometric = (t: ArrayLike<number>) => Math.exp(mean(Array.from(t, Math.log)));
  return {
    step: history.map((s) => s.step),
    trainLoss: history.map((s) => mean(s.trainLoss)),
    testLoss: history.map((s) => mean(s.testLoss!)),
    testError: history.map((s) => s.testError!),
    trials: history.map((s) => mean(s.trials)),
    t: history.map((s) => geometric(s.t)),
  };
}

async function gaussian(rt: Runtime, spec: Extract<ClassicSpec, { algorithm: 'gaussian' }>, c: Context): Promise<Outcome> {
  const fitStart = performance.now();
  c.log(`${c.id}: fitting ten Gaussians to ${c.train.count} images`);
  const model = await fitGaussian(rt, c.train, { regularization: spec.regularization });
  const fit = seconds(fitStart);
  const scoreStart = performance.now();
  c.log(`${c.id}: scoring ${c.test.count} test images`);
  const { predictions } = await scoreGaussian(rt, model, c.test);
  const score = seconds(scoreStart);
  const { features, classes } = model;
  const means = Array.from({ length: classes }, (_, k) => Array.from(model.mean.subarray(k * features, (k + 1) * features)));
  return {
    method: `per class: mean and full covariance (divided by N) + ${spec.regularization}·I, prior N_c/N; predict argmax of log prior + ` +
      'log density. Exact integer Gram matrices on the GPU (u32, upper-triangle tiles only); covariance, Cholesky, log-determinant and ' +
      'the inverse Cholesky factor in f64 on the CPU (ten 784×784 factorisations: small, sequential, and exact enough for the ' +
      'log-determinant); the ten quadratic forms ‖L⁻¹(x − μ)‖² of every test image as triangular GEMMs on the GPU.',
    train: c.train, test: c.test, labels: c.test.labels.subarray(0, c.test.count), predictions, classes,
    loss: null, timings: { fit, score }, means,
  };
}

async function nearest(rt: Runtime, spec: Extract<ClassicSpec, { algorithm: 'nearest-neighbour' }>, c: Context): Promise<Outcome> {
  const perClass = c.quick?.perClass ?? spec.perClass;
  const train = checkImageSet(`${c.id}: balanced train subset`,
    pick(c.fullTrain, balancedSubset(c.fullTrain.labels.subarray(0, c.fullTrain.count), perClass.train, c.seed)));
  const test = checkImageSet(`${c.id}: balanced test subset`,
    pick(c.fullTest, balancedSubset(c.fullTest.labels.subarray(0, c.fullTest.count), perClass.test, c.seed)));
  c.log(`${c.id}: balanced subset, ${train.count} train × ${test.count} test`);
  const subset = await query(rt, train, test);
  const evaluations: ClassicEvaluation[] = [{
    name: `balanced subset (${perClass.train} train, ${perClass.test} test per class)`,
    trainSamples: train.count, testSamples: test.count, accuracy: subset.accuracy, errors: subset.errors, seconds: subset.seconds,
    reference: 'notebook: error 0.046 in 185 s (brute force) and 17 s (BallTree)',
  }];
  const timings: Record<string, number> = { subset: subset.seconds };
  if (spec.full && !c.seedIndependent) {
    c.log(`${c.id}: the run on all ${c.train.count} train × ${c.test.count} test images is the same for every seed; left out here (a --seeds run gives it with its first seed)`);
  } else if (spec.full) {
    c.log(`${c.id}: all of it, ${c.train.count} train × ${c.test.count} test`);
    const full = await query(rt, c.train, c.test);
    timings.full = full.seconds;
    evaluations.push({
      name: c.quick ? `the first ${c.train.count} train and ${c.test.count} test images` : 'full MNIST',
      trainSamples: c.train.count, testSamples: c.test.count, accuracy: full.accuracy, errors: full.errors, seconds: full.seconds,
      reference: 'published: 1-NN in L2 on full MNIST errs 3.09%',
    });
  }
  return {
    method: 'exact 1-nearest-neighbour in squared Euclidean distance ‖x‖² + ‖y‖² − 2x·y, in u32 integer arithmetic on bytes packed ' +
      `four to a word, as a tiled GEMM with a fused argmin: the distance matrix is never stored; ties go to the lowest training index. On this adapter: ${subset.how}.`,
    train, test, labels: test.labels, predictions: subset.predictions, classes: 10,
    loss: null, timings, evaluations,
  };
}

async function query(rt: Runtime, train: CheckedImageSet, test: CheckedImageSet) {
  const start = performance.now();
  const nn = await NearestNeighbour.create(rt, train);
  try {
    const { predictions } = await nn.query(test);
    let errors = 0;
    for (let i = 0; i < test.count; i++) if (predictions[i] !== test.labels[i]) errors++;
    const how = `the ${nn.kernel} kernel (${nn.kernel === 'tiled' ? 'tiles staged in workgroup memory' : 'tiles read straight from storage'}, ` +
      `${nn.tile.test}×${nn.tile.train} test × train rows per workgroup, a 4×4 block per thread) with ${nn.packedDot ? 'dot4U8Packed' : 'bytes unpacked by hand'}`;
    return { predictions, errors, accuracy: 1 - errors / test.count, seconds: seconds(start), how };
  } finally {
    nn.destroy();
  }
}

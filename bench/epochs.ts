/**
 * Full-MNIST epoch times and time to 99 % test accuracy on this machine's
 * adapter.
 *
 * 1. Epoch time of s001-dense and s001-cnn, the models, optimizers, batch
 *    size (32) and preprocessing of their registry entries
 *    (src/experiments/registry.ts), on the 60,000 training images: two
 *    epochs, each timed on its own (the first one builds the pipelines), then
 *    the test accuracy after them.
 *
 * 2. Time to 99 % test accuracy with this recipe, from the existing layers
 *    and optimizers:
 *
 *      conv 5×5, 32 filters, relu → max-pool 2×2 →
 *      conv 5×5, 64 filters, relu → max-pool 2×2 → flatten (1,024) →
 *      dense 128 relu → dense 10 softmax            (about 3.9 M MACs a sample)
 *      Adam, lr 2e-3 · 0.7^(step / steps per epoch), batch 128,
 *      sparse categorical cross-entropy, inputs x/255, Glorot-uniform weights,
 *      shuffled every epoch; no augmentation, dropout or normalisation layers
 *      (the library has none).
 *
 *    The test accuracy (all 10,000 test images) is measured twice an epoch
 *    (`--evals-per-epoch`; each costs about a twentieth of an epoch). Training stops at the target
 *    accuracy, at `--max-epochs`, at `--time-limit` seconds, or when the next
 *    epoch would overrun `--budget` (seconds since the script started). The
 *    reported time is wall time from the model's creation (pipeline building
 *    included) to the evaluation that reached the target, evaluations
 *    included; loading MNIST and uploading it to the GPU are not counted.
 *
 * Results are written to `--out` after each part, so a run stopped from
 * outside keeps what it finished (`complete: false` until the end).
 *
 *   node --import ./demo/register.mjs bench/epochs.ts [--mnist DIR] [--quick] [--json] [--out FILE]
 *        [--target 0.99] [--max-epochs 30] [--time-limit 300] [--budget SECONDS] [--evals-per-epoch 2]
 *        [--only timing|recipe] [--seed 1] [--no-bounds-checks]
 *
 * MNIST comes from --mnist, else MNIST_DIR, else .gpu/mnist, ./shared/mnist or
 * ../shared/mnist. --quick uses a few hundred images (fewer for the conv
 * models) and one epoch of the recipe: a check that everything runs, in about
 * a minute on SwiftShader, not a measurement. With --json the one JSON object
 * goes to stdout and the readable lines to stderr. --no-bounds-checks compiles
 * the shaders without Dawn's bounds checks (docs/benchmarks.md, "Bounds checks"), as
 * SHADERPROP_BOUNDS_CHECKS=0 does.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  adam, conv2d, createRuntime, Dataset, dense, exponentialDecay, flatten, loadMnist, maxPool2d, Rng, sequential,
  type Layer, type Optimizer, type Runtime,
} from '../src/index.js';
import { getExperiment, type TrainSpec } from '../src/experiments/registry.js';
import { firstImages } from '../src/data/images.js';

const { values } = parseArgs({
  options: {
    mnist: { type: 'string' },
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    out: { type: 'string' },
    target: { type: 'string', default: '0.99' },
    'max-epochs': { type: 'string' },
    'time-limit': { type: 'string', default: '300' },
    budget: { type: 'string' },
    'evals-per-epoch': { type: 'string' },
    only: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'no-bounds-checks': { type: 'boolean' },
  },
});

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got '${text}'.`);
  return value;
}

const quick = values.quick ?? false;
const target = numberOption('target', values.target, 0.99);
const maxEpochs = Math.floor(numberOption('max-epochs', values['max-epochs'], quick ? 1 : 30));
const timeLimit = numberOption('time-limit', values['time-limit'], 300);
const budget = numberOption('budget', values.budget, Infinity);
const evalsPerEpoch = Math.floor(numberOption('evals-per-epoch', values['evals-per-epoch'], quick ? 1 : 2));
const seed = Math.floor(numberOption('seed', values.seed, 1));
if (values.only && values.only !== 'timing' && values.only !== 'recipe') throw new Error(`--only must be 'timing' or 'recipe', got '${values.only}'.`);
/** Quick mode's image counts: enough to run every path, small enough for a CPU adapter. */
const QUICK = { denseTrain: 512, convTrain: 64, recipeTrain: 128, test: 128 };
const RECIPE_BATCH = 128;

const scriptStart = performance.now();
const sinceStart = () => (performance.now() - scriptStart) / 1000;
const say = (line: string) => (values.json ? console.error(line) : console.log(line));

function findMnist(): string {
  const candidates = [values.mnist, process.env.MNIST_DIR, '.gpu/mnist', 'shared/mnist', '../shared/mnist'];
  for (const dir of candidates) {
    if (!dir) continue;
    if (existsSync(`${dir}/train-images-idx3-ubyte.gz`) || existsSync(`${dir}/train-images-idx3-ubyte`)) return resolve(dir);
    if (dir === values.mnist) throw new Error(`--mnist ${dir}: no train-images-idx3-ubyte(.gz) there.`);
  }
  throw new Error('No MNIST folder: pass --mnist DIR (the four IDX files, .gz or not), or set MNIST_DIR.');
}

interface EpochTiming {
  title: string;
  optimizer: string;
  batchSize: number;
  trainImages: number;
  testImages: number;
  /** Wall time of each epoch, GPU work included; the first builds the pipelines. */
  epochSeconds: number[];
  /** Training images per second in the last epoch. */
  samplesPerSecond: number;
  trainLoss: number[];
  trainAccuracy: number[];
  testAccuracy: number;
  testLoss: number;
  evalSeconds: number;
}

interface CurvePoint {
  /** Epochs done (fractional with --evals-per-epoch > 1). */
  epoch: number;
  /** Seconds since the model was created, this evaluation included. */
  seconds: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  learningRate: number;
}

interface RecipeResult {
  recipe: string;
  target: number;
  batchSize: number;
  trainImages: number;
  testImages: number;
  reached: boolean;
  /** Seconds to the first evaluation at or above the target; null when not reached. */
  secondsToTarget: number | null;
  epochsToTarget: number | null;
  bestTestAccuracy: number;
  totalSeconds: number;
  /** Of totalSeconds, the seconds spent evaluating on the test set. */
  evalSeconds: number;
  stoppedBecause: 'target' | 'max-epochs' | 'time-limit' | 'budget';
  curve: CurvePoint[];
}

const rt: Runtime = await createRuntime(values['no-bounds-checks'] ? { boundsChecks: false } : {});
const results = {
  complete: false,
  date: new Date().toISOString(),
  adapter: rt.adapter.name,
  boundsChecks: rt.boundsChecks,
  adapterInfo: { ...rt.adapter },
  node: process.version,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, os: `${platform()} ${release()}` },
  quick,
  seed,
  mnist: '',
  dataLoadSeconds: 0,
  epochTimes: {} as Record<string, EpochTiming>,
  timeToTarget: null as RecipeResult | null,
  errors: [] as string[],
};

async function save(): Promise<void> {
  if (values.out) await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
}

say(`adapter: ${rt.adapter.name} (${rt.adapter.description || rt.adapter.vendor})${rt.boundsChecks ? '' : ', no bounds checks'}; node ${process.version}; ` +
  `${results.machine.cpus} × ${results.machine.cpu}${quick ? '; QUICK mode: small subsets, not a measurement' : ''}`);

// Data: loaded and uploaded before any timing starts.
const loadStart = performance.now();
results.mnist = findMnist();
const mnist = await loadMnist({ dir: results.mnist });
const testImages = quick ? firstImages(mnist.test, QUICK.test) : mnist.test;
const datasets = new Map<string, { train: Dataset; test: Dataset }>();
function data(spec: Pick<TrainSpec, 'inputShape' | 'preprocessing'>, trainCount: number): { train: Dataset; test: Dataset } {
  const key = JSON.stringify([spec.inputShape, spec.preprocessing, trainCount]);
  let found = datasets.get(key);
  if (!found) {
    const options = { shape: spec.inputShape, preprocessing: spec.preprocessing };
    found = {
      train: Dataset.fromImages(rt, firstImages(mnist.train, trainCount), options),
      test: Dataset.fromImages(rt, testImages, options),
    };
    datasets.set(key, found);
  }
  return found;
}
const TIMED = ['s001-dense', 's001-cnn'] as const;
const specs = new Map<string, { title: string; train: TrainSpec }>();
for (const id of TIMED) {
  const entry = getExperiment(id);
  if (entry.kind !== 'neural') throw new Error(`${id} is a ${entry.kind} entry of the registry, not a neural one.`);
  specs.set(id, entry);
}
const X255 = { kind: 'scale', scale: 1 / 255 } as const;
const RECIPE_SHAPE = [28, 28, 1];
const trainCountOf = (id: string) => (quick ? (id === 's001-dense' ? QUICK.denseTrain : QUICK.convTrain) : mnist.train.count);
if (values.only !== 'recipe') for (const id of TIMED) data(specs.get(id)!.train, trainCountOf(id));
if (values.only !== 'timing') data({ inputShape: RECIPE_SHAPE, preprocessing: X255 }, quick ? QUICK.recipeTrain : mnist.train.count);
await rt.sync();
results.dataLoadSeconds = (performance.now() - loadStart) / 1000;
say(`MNIST from ${results.mnist}: ${mnist.train.count} train, ${mnist.test.count} test images; loaded and uploaded in ${results.dataLoadSeconds.toFixed(1)} s`);
await save();

/** Part 1: two timed epochs of a registry model, then the test accuracy. */
async function timeEpochs(id: string): Promise<EpochTiming> {
  const { title, train: spec } = specs.get(id)!;
  const { train, test } = data(spec, trainCountOf(id));
  const model = sequential(spec.layers(), { runtime: rt, inputShape: spec.inputShape, seed });
  const optimizer = spec.optimizer();
  model.compile({ optimizer, loss: spec.loss });
  const timing: EpochTiming = {
    title, optimizer: optimizer.describe(), batchSize: spec.batchSize, trainImages: train.count, testImages: test.count,
    epochSeconds: [], samplesPerSecond: 0, trainLoss: [], trainAccuracy: [], testAccuracy: NaN, testLoss: NaN, evalSeconds: 0,
  };
  try {
    for (let epoch = 0; epoch < 2; epoch++) {
      const started = performance.now();
      const history = await model.fit(train, { epochs: epoch + 1, initialEpoch: epoch, batchSize: spec.batchSize });
      const seconds = (performance.now() - started) / 1000;
      timing.epochSeconds.push(seconds);
      timing.trainLoss.push(history.history.loss![0]!);
      timing.trainAccuracy.push(history.history.accuracy![0]!);
      say(`${id} epoch ${epoch + 1}: ${seconds.toFixed(2)} s (${(train.count / seconds).toFixed(0)} images/s), ` +
        `train loss ${timing.trainLoss[epoch]!.toFixed(4)}, accuracy ${timing.trainAccuracy[epoch]!.toFixed(4)}`);
    }
    timing.samplesPerSecond = train.count / timing.epochSeconds[timing.epochSeconds.length - 1]!;
    const started = performance.now();
    const evaluation = await model.evaluate(test, { batchSize: 256 });
    timing.evalSeconds = (performance.now() - started) / 1000;
    timing.testAccuracy = evaluation.accuracy;
    timing.testLoss = evaluation.loss;
    say(`${id} test accuracy after 2 epochs: ${evaluation.accuracy.toFixed(4)} (${test.count} images, evaluated in ${timing.evalSeconds.toFixed(2)} s)`);
    return timing;
  } finally {
    model.dispose();
  }
}

/** The recipe of part 2 (see the header). */
function recipeLayers(): Layer[] {
  return [
    conv2d(32, 5, { activation: 'relu' }), maxPool2d({ poolSize: 2 }),
    conv2d(64, 5, { activation: 'relu' }), maxPool2d({ poolSize: 2 }),
    flatten(), dense(128, 'relu'), dense(10, 'softmax'),
  ];
}
function recipeOptimizer(stepsPerEpoch: number): Optimizer {
  return adam({ learningRate: exponentialDecay({ initialLearningRate: 2e-3, decaySteps: stepsPerEpoch, decayRate: 0.7 }) });
}
const RECIPE_TEXT = 'conv5x5x32 relu, maxpool2, conv5x5x64 relu, maxpool2, dense128 relu, dense10 softmax; ' +
  `Adam lr 2e-3*0.7^(step/stepsPerEpoch), batch ${RECIPE_BATCH}, x/255, shuffled`;

/** Part 2: train the recipe until the test accuracy reaches the target (or a limit). */
async function timeToTarget(): Promise<RecipeResult> {
  const { train, test } = data({ inputShape: RECIPE_SHAPE, preprocessing: X255 }, quick ? QUICK.recipeTrain : mnist.train.count);
  // Each part of an epoch is a fit over a view of the shuffled training set;
  // the optimizer's step count, and so the learning-rate schedule, carries on.
  const partSize = Math.ceil(train.count / evalsPerEpoch);
  let stepsPerEpoch = 0;
  for (let start = 0; start < train.count; start += partSize) stepsPerEpoch += Math.ceil(Math.min(partSize, train.count - start) / RECIPE_BATCH);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const model = sequential(recipeLayers(), { runtime: rt, inputShape: RECIPE_SHAPE, seed });
  const optimizer = recipeOptimizer(stepsPerEpoch);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  const result: RecipeResult = {
    recipe: `${RECIPE_TEXT} (${optimizer.describe()})`, target, batchSize: RECIPE_BATCH, trainImages: train.count, testImages: test.count,
    reached: false, secondsToTarget: null, epochsToTarget: null, bestTestAccuracy: 0, totalSeconds: 0, evalSeconds: 0,
    stoppedBecause: 'max-epochs', curve: [],
  };
  const shuffler = new Rng(seed).fork('recipe shuffle');
  let lastEpochSeconds = 0;
  try {
    outer: for (let epoch = 0; epoch < maxEpochs; epoch++) {
      if (epoch > 0 && elapsed() + lastEpochSeconds > timeLimit) {
        result.stoppedBecause = 'time-limit';
        break;
      }
      if (epoch > 0 && sinceStart() + lastEpochSeconds > budget) {
        result.stoppedBecause = 'budget';
        break;
      }
      const epochStart = elapsed();
      const order = shuffler.fork(`epoch ${epoch}`).permutation(train.count);
      for (let part = 0; part < evalsPerEpoch; part++) {
        const positions = order.subarray(part * partSize, Math.min(train.count, (part + 1) * partSize));
        if (positions.length === 0) continue;
        const view = evalsPerEpoch === 1 ? train.subset(order, 'mnist-train shuffled') : train.subset(positions, `mnist-train part ${part + 1}`);
        const history = await model.fit(view, { epochs: 1, batchSize: RECIPE_BATCH, shuffle: false });
        const evalStart = performance.now();
        const evaluation = await model.evaluate(test, { batchSize: 1000 });
        result.evalSeconds += (performance.now() - evalStart) / 1000;
        const point: CurvePoint = {
          epoch: epoch + (part + 1) / evalsPerEpoch,
          seconds: elapsed(),
          trainLoss: history.history.loss![0]!,
          trainAccuracy: history.history.accuracy![0]!,
          testLoss: evaluation.loss,
          testAccuracy: evaluation.accuracy,
          learningRate: history.history.lr![0]!,
        };
        result.curve.push(point);
        result.bestTestAccuracy = Math.max(result.bestTestAccuracy, point.testAccuracy);
        say(`recipe epoch ${point.epoch.toFixed(2)}: ${point.seconds.toFixed(2)} s, train loss ${point.trainLoss.toFixed(4)}, ` +
          `test accuracy ${point.testAccuracy.toFixed(4)}, lr ${point.learningRate.toPrecision(3)}`);
        if (point.testAccuracy >= target) {
          result.reached = true;
          result.secondsToTarget = point.seconds;
          result.epochsToTarget = point.epoch;
          result.stoppedBecause = 'target';
          break outer;
        }
      }
      lastEpochSeconds = elapsed() - epochStart;
    }
    result.totalSeconds = elapsed();
    return result;
  } finally {
    model.dispose();
  }
}

let failed = false;
if (values.only !== 'recipe') {
  for (const id of TIMED) {
    try {
      results.epochTimes[id] = await timeEpochs(id);
    } catch (error) {
      failed = true;
      results.errors.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      say(`${id} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    await save();
  }
}
if (values.only !== 'timing') {
  if (sinceStart() > budget) {
    results.errors.push(`recipe: skipped, the budget of ${budget} s was spent before it started`);
    say(results.errors[results.errors.length - 1]!);
  } else {
    try {
      results.timeToTarget = await timeToTarget();
    } catch (error) {
      failed = true;
      results.errors.push(`recipe: ${error instanceof Error ? error.message : String(error)}`);
      say(`recipe FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}
results.complete = true;
await save();

// Summary.
say('');
say(`== ${rt.adapter.name}${quick ? ' (QUICK mode: subsets, not a measurement)' : ''}, ${results.date.slice(0, 10)}, node ${process.version}, ${results.machine.cpus} × ${results.machine.cpu}`);
for (const [id, t] of Object.entries(results.epochTimes)) {
  say(`${id.padEnd(11)} batch ${t.batchSize}, ${t.trainImages} images: epoch 1 ${t.epochSeconds[0]!.toFixed(2)} s, ` +
    `epoch 2 ${t.epochSeconds[1]!.toFixed(2)} s (${t.samplesPerSecond.toFixed(0)} images/s); test accuracy ${t.testAccuracy.toFixed(4)}`);
}
const r = results.timeToTarget;
if (r) {
  say(r.reached
    ? `recipe: test accuracy ${r.target} reached after ${r.epochsToTarget} epochs, ${r.secondsToTarget!.toFixed(2)} s (evaluations included)`
    : `recipe: ${r.target} not reached (best ${r.bestTestAccuracy.toFixed(4)}); stopped by ${r.stoppedBecause} after ${r.totalSeconds.toFixed(2)} s`);
}
for (const e of results.errors) say(`error: ${e}`);
if (values.json) console.log(JSON.stringify(results));
for (const d of datasets.values()) {
  d.train.dispose();
  d.test.dispose();
}
rt.destroy();
process.exitCode = failed ? 1 : 0;

/**
 * Logistic regression by gradient descent with a backtracking line search
 * (src/classic/logistic.ts, shaders/classic/logistic.wgsl) against its f64
 * twin (src/reference/logistic.ts), finite differences, the notebook's own
 * stability cases, and itself (K outputs together = K single-output runs).
 */
import { describe, expect, it } from 'vitest';
import {
  evaluateLogisticRows,
  LogisticDivergedError,
  LogisticRegression,
  predictLogistic,
  trainLogistic,
  trainLogisticRows,
  type LogisticRows,
} from '../../src/classic/logistic.js';
import { firstImages as head, imageFeatures, imageSet, type ImageSet } from '../../src/data/images.js';
import { loadMnist } from '../../src/data/mnist.js';
import { featureStats, preprocessCpu } from '../../src/data/preprocess.js';
import { assertClose } from '../../src/reference/compare.js';
import { gradientRelativeError, numericalGradient } from '../../src/reference/gradcheck.js';
import {
  logisticCrossEntropy,
  logisticDescent,
  logisticError,
  logisticGradient,
  logisticLoss,
  logisticScores,
  type LogisticProblem,
} from '../../src/reference/logistic.js';
import { mnistDir } from '../helpers.js';
import { expectNoGpuErrors, makeRng, normalF32, useRuntime } from '../kernels/gpu.js';

const rt = useRuntime();

/** One ulp of f32 at 1, relative: what a single f32 rounding may cost. */
const F32_EPS = 2 ** -23;

function rows(x: Float32Array | Uint8Array, targets: Float32Array, count: number, features: number, outputs: number): LogisticRows {
  return { x, targets, count, features, outputs };
}

/** Random rows: normal features times `scale`, one-hot (K > 1) or 0/1 (K = 1) targets. */
function randomRows(seed: number, count: number, features: number, outputs: number, scale = 1): LogisticRows {
  const rng = makeRng(seed);
  const x = normalF32(rng, count * features, scale);
  const targets = new Float32Array(count * outputs);
  for (let i = 0; i < count; i++) {
    if (outputs === 1) targets[i] = rng.next() < 0.5 ? 1 : 0;
    else targets[i * outputs + rng.int(outputs)] = 1;
  }
  return rows(x, targets, count, features, outputs);
}

function problem(r: LogisticRows, bias: boolean, lambda: number, x: ArrayLike<number> = r.x): LogisticProblem {
  return { x, targets: r.targets, count: r.count, features: r.features, outputs: r.outputs, bias, lambda };
}

describe('the notebook stability cases (w = [1000], x = [1000], no standardisation, no bias)', () => {
  it.each([
    [0, 1e6, 1000],
    [1, 0, 0],
  ])('y = %d: L = %d and dL/dw = %d, at f32 precision', async (y, loss, gradient) => {
    const r = rows(new Float32Array([1000]), new Float32Array([y]), 1, 1, 1);
    const gpu = await evaluateLogisticRows(rt(), r, { weights: [1000] });
    expectNoGpuErrors(rt());
    // z = 10⁶ is exact in f32; softplus(±10⁶) must neither overflow nor lose the 10⁶.
    expect(Math.abs(gpu.loss[0]! - loss)).toBeLessThanOrEqual(F32_EPS * Math.max(1, loss));
    expect(Math.abs(gpu.weightGradient[0]! - gradient)).toBeLessThanOrEqual(F32_EPS * Math.max(1, gradient));
    expect(gpu.error).toBe(y === 0 ? 1 : 0);
    // The twin, in f64, to the notebook's 1e-9.
    const p = problem(r, false, 0);
    expect(Math.abs(logisticLoss(p, { weights: [1000] })[0]! - loss)).toBeLessThan(1e-9);
    expect(Math.abs(logisticGradient(p, { weights: [1000] }).weights[0]! - gradient)).toBeLessThan(1e-9);
  });
});

describe('loss and gradient', () => {
  const cases = [
    { name: 'K = 3, bias, λ = 0.7, f32 rows', seed: 1, N: 37, D: 5, K: 3, bias: true, lambda: 0.7 },
    { name: 'K = 1, no bias, λ = 0, D not a multiple of 4', seed: 2, N: 29, D: 7, K: 1, bias: false, lambda: 0 },
    { name: 'K = 6 (two output quads), bias, λ = 0', seed: 3, N: 70, D: 9, K: 6, bias: true, lambda: 0 },
    { name: 'K = 18 (a thread takes 16 outputs: two threads per sample), bias, λ = 0.2', seed: 4, N: 23, D: 6, K: 18, bias: true, lambda: 0.2 },
  ];
  it.each(cases)('$name: GPU = f64 twin, and the twin = central differences', async (c) => {
    const r = randomRows(c.seed, c.N, c.D, c.K);
    const rng = makeRng(c.seed + 100);
    const weights = normalF32(rng, c.D * c.K, 0.5);
    const bias = normalF32(rng, c.K, 0.5);
    const gpu = await evaluateLogisticRows(rt(), r, { weights, bias }, { bias: c.bias, lambda: c.lambda });
    expectNoGpuErrors(rt());
    const p = problem(r, c.bias, c.lambda);
    const params = { weights, bias };
    const twinLoss = logisticLoss(p, params);
    const twinGradient = logisticGradient(p, params);
    assertClose(gpu.loss, twinLoss, { atol: 1e-6, rtol: 1e-5, label: 'loss' });
    assertClose(gpu.weightGradient, twinGradient.weights, { atol: 1e-6, rtol: 1e-5, label: 'weight gradient' });
    assertClose(gpu.biasGradient, twinGradient.bias, { atol: 1e-6, rtol: 1e-5, label: 'bias gradient' });
    expect(Math.abs(gpu.error - logisticError(p, params))).toBeLessThanOrEqual(F32_EPS); // a count times 1/N in f32

    // Finite differences of Σ_k L_k (each L_k depends on its own column only).
    const total = (w: Float64Array, b: ArrayLike<number>) => logisticLoss(p, { weights: w, bias: b }).reduce((a, v) => a + v, 0);
    const numericWeights = numericalGradient((w) => total(w, bias), weights);
    expect(gradientRelativeError(twinGradient.weights, numericWeights)).toBeLessThan(1e-7);
    if (c.bias) {
      const numericBias = numericalGradient((b) => total(Float64Array.from(weights), b), bias);
      expect(gradientRelativeError(twinGradient.bias, numericBias)).toBeLessThan(1e-7);
    }
  });

  it('byte rows are standardised inside the kernel: GPU = twin on preprocessCpu rows', async () => {
    const N = 50;
    const D = 13;
    const K = 2;
    const rng = makeRng(7);
    const images = Uint8Array.from({ length: N * D }, (_, i) => (i % D === 4 ? 17 : rng.int(256))); // feature 4 is constant: std 0 → 1
    const targets = Float32Array.from({ length: N * K }, () => rng.next()); // soft targets in [0, 1)
    const stats = featureStats(images, N, D);
    const x = preprocessCpu({ kind: 'standardize' }, images, N, 1, D, stats);
    const weights = normalF32(rng, D * K, 0.3);
    const bias = normalF32(rng, K, 0.3);
    const r = rows(images, targets, N, D, K);
    const gpu = await evaluateLogisticRows(rt(), r, { weights, bias }, { bias: true, lambda: 0.3, standardize: stats });
    const p = problem(r, true, 0.3, x);
    assertClose(gpu.loss, logisticLoss(p, { weights, bias }), { atol: 1e-6, rtol: 1e-5, label: 'loss' });
    const g = logisticGradient(p, { weights, bias });
    assertClose(gpu.weightGradient, g.weights, { atol: 1e-6, rtol: 1e-5, label: 'weight gradient' });
    assertClose(gpu.biasGradient, g.bias, { atol: 1e-6, rtol: 1e-5, label: 'bias gradient' });
    let normSquared = 0;
    for (let k = 0; k < K; k++) {
      normSquared = g.bias[k]! ** 2;
      for (let d = 0; d < D; d++) normSquared += g.weights[d * K + k]! ** 2;
      expect(gpu.gradientNormSquared[k]!).toBeCloseTo(normSquared, 6);
    }
  });
});

describe('gradient descent on random rows', () => {
  it('takes the twin\'s steps (t and trial counts) with and without bias and λ', async () => {
    for (const [bias, lambda] of [[false, 0], [true, 2]] as const) {
      // Features of scale 5: t = 1 is always rejected, and with a bias the outputs settle on different t.
      const r = randomRows(11, 64, 6, 3, 5);
      const gpu = await trainLogisticRows(rt(), r, { bias, lambda, steps: 8 });
      const twin = logisticDescent(problem(r, bias, lambda), { steps: 8 });
      const ts = twin.history.flatMap((h) => Array.from(h.t));
      expect(Math.max(...ts)).toBeLessThan(1);
      if (bias) expect(twin.history.some((h) => h.t[0] !== h.t[1] || h.t[1] !== h.t[2])).toBe(true);
      for (let s = 0; s < 8; s++) {
        expect(Array.from(gpu.history[s]!.t), `step ${s + 1} t`).toEqual(Array.from(twin.history[s]!.t));
        expect(Array.from(gpu.history[s]!.trials), `step ${s + 1} trials`).toEqual(Array.from(twin.history[s]!.trials));
        assertClose(gpu.history[s]!.trainLoss, twin.history[s]!.loss, { atol: 1e-6, rtol: 1e-5, label: `step ${s + 1} loss` });
      }
      assertClose(gpu.weights, twin.weights, { atol: 1e-5, rtol: 1e-4, label: 'weights' });
      assertClose(gpu.bias, twin.bias, { atol: 1e-5, rtol: 1e-4, label: 'bias' });
    }
  });

  it('the scores carried from step to step (z − t·u) agree with z recomputed from the weights', async () => {
    const r = randomRows(12, 40, 7, 2, 5);
    const engine = await LogisticRegression.create(rt(), r, { bias: true, lambda: 0.5 });
    try {
      const history = await engine.descend({ steps: 25 });
      const carried = history[24]!.trainLoss;
      const fresh = await engine.evaluate(); // recomputes z = X̃w + b, then the loss
      assertClose(fresh.loss, carried, { atol: 1e-6, rtol: 1e-5, label: 'loss from carried vs fresh scores' });
      const params = await engine.parameters();
      assertClose(await engine.scores(), logisticScores(problem(r, true, 0.5), params), { atol: 1e-5, rtol: 1e-5, label: 'scores' });
    } finally {
      engine.destroy();
    }
  });

  it('an output whose line search hits maxTrials keeps its weights (t = 0)', async () => {
    // maxTrials = 1: only t = 1 is tried; from w = 0, g = −2.5 and t = 1 overshoots to
    // w = 2.5, where the third sample costs softplus(25) = 25.
    const x = new Float32Array([10, 10, 10, -10]);
    const r = rows(x, new Float32Array([1, 1, 0, 0]), 4, 1, 1);
    const twin = logisticDescent(problem(r, false, 0), { steps: 1, maxTrials: 1 });
    expect(twin.history[0]!.t[0]).toBe(0); // the premise: the twin gives up too
    const gpu = await trainLogisticRows(rt(), r, { steps: 1, maxTrials: 1 });
    expect(gpu.history[0]!.t[0]).toBe(0);
    expect(gpu.history[0]!.trials[0]).toBe(1);
    expect(gpu.weights[0]).toBe(0);
    expect(gpu.history[0]!.trainLoss[0]).toBeCloseTo(Math.LN2, 6);
  });
});

const dir = mnistDir();
if (!dir) console.warn('logistic MNIST tests skipped: set MNIST_DIR to a folder with the four MNIST IDX files.');

describe.skipIf(!dir)('on 500 MNIST images', () => {
  let train: ImageSet;
  let test: ImageSet;
  const load = async () => {
    if (!train) {
      const mnist = await loadMnist({ dir: dir!, subset: { train: 500, test: 200 } });
      train = imageSet(mnist.train);
      test = imageSet(mnist.test);
    }
  };

  it('"is it a 5?": 6 steps take the twin\'s t and trials; weights, losses and test metrics match', async () => {
    await load();
    const steps = 6;
    const before = rt().pool.inUse;
    const model = await trainLogistic(rt(), train, { targets: { kind: 'binary', positive: 5 }, steps, test });
    expectNoGpuErrors(rt());
    expect(rt().pool.inUse).toBe(before);

    const stats = featureStats(train.images, train.count, imageFeatures(train));
    expect(model.stats!.mean).toEqual(stats.mean);
    const y = Float32Array.from(train.labels, (l) => (l === 5 ? 1 : 0));
    const x = preprocessCpu({ kind: 'standardize' }, train.images, train.count, 28, 28, stats);
    const p: LogisticProblem = { x, targets: y, count: train.count, features: 784, outputs: 1, bias: false, lambda: 0 };
    const twin = logisticDescent(p, { steps });
    const tSeen = new Set<number>();
    for (let s = 0; s < steps; s++) {
      const g = model.history[s]!;
      expect(g.step).toBe(s + 1);
      expect(g.t[0], `step ${s + 1} t`).toBe(twin.history[s]!.t[0]);
      expect(g.trials[0], `step ${s + 1} trials`).toBe(twin.history[s]!.trials[0]);
      expect(Math.abs(g.trainLoss[0]! - twin.history[s]!.loss[0]!)).toBeLessThan(1e-5);
      tSeen.add(g.t[0]!);
    }
    // The line search did something: not every step took t = 1.
    expect(Math.min(...tSeen)).toBeLessThan(1);
    assertClose(model.weights, twin.weights, { atol: 1e-5, rtol: 1e-4, label: 'weights after 6 steps' });

    // Test metrics of the last step against the twin at the final weights.
    const testX = preprocessCpu({ kind: 'standardize' }, test.images, test.count, 28, 28, stats);
    const testY = Float32Array.from(test.labels, (l) => (l === 5 ? 1 : 0));
    const q: LogisticProblem = { x: testX, targets: testY, count: test.count, features: 784, outputs: 1, bias: false, lambda: 0 };
    const last = model.history[steps - 1]!;
    expect(Math.abs(last.testLoss![0]! - logisticCrossEntropy(q, { weights: twin.weights })[0]!)).toBeLessThan(1e-4);
    expect(Math.abs(last.testError! - logisticError(q, { weights: twin.weights }))).toBeLessThanOrEqual(1 / test.count);

    // predictLogistic: the scores of the twin, and z > 0 as the prediction.
    const predicted = await predictLogistic(rt(), model, test);
    assertClose(predicted.scores, logisticScores(q, { weights: model.weights }), { atol: 1e-4, rtol: 1e-4, label: 'test scores' });
    for (let n = 0; n < test.count; n++) expect(predicted.predictions[n]).toBe(predicted.scores[n]! > 0 ? 1 : 0);
    expect(rt().pool.inUse).toBe(before);
  });

  it('one-vs-all: 10 outputs together take exactly the steps of 10 single-output runs', async () => {
    await load();
    const small = head(train, 300);
    const steps = 3;
    const options = { steps, bias: true, lambda: 1 };
    const together = await trainLogistic(rt(), small, { targets: { kind: 'one-vs-all', classes: 10 }, ...options, test });
    for (let k = 0; k < 10; k++) {
      const alone = await trainLogistic(rt(), small, { targets: { kind: 'binary', positive: k }, ...options });
      for (let s = 0; s < steps; s++) {
        expect(together.history[s]!.t[k], `class ${k} step ${s + 1} t`).toBe(alone.history[s]!.t[0]);
        expect(together.history[s]!.trials[k], `class ${k} step ${s + 1} trials`).toBe(alone.history[s]!.trials[0]);
        expect(together.history[s]!.trainLoss[k]).toBeCloseTo(alone.history[s]!.trainLoss[0]!, 6);
      }
      const column = Float32Array.from({ length: 784 }, (_, d) => together.weights[d * 10 + k]!);
      assertClose(column, alone.weights, { atol: 1e-6, rtol: 1e-5, label: `class ${k} weights` });
      expect(together.bias[k]).toBeCloseTo(alone.bias[0]!, 6);
    }
    // The test error is argmax_k z ≠ label; predictLogistic agrees with it.
    const predicted = await predictLogistic(rt(), together, test);
    let wrong = 0;
    for (let n = 0; n < test.count; n++) if (predicted.predictions[n] !== test.labels[n]) wrong++;
    expect(together.history[steps - 1]!.testError).toBeCloseTo(wrong / test.count, 6);
    expect(wrong / test.count).toBeLessThan(0.5); // three steps already beat guessing (0.9) by far
  });
});

describe('bad input and clean-up', () => {
  it('a NaN sample is refused, naming the sample and feature', async () => {
    const r = randomRows(5, 20, 3, 1);
    r.x[7] = Number.NaN;
    const before = rt().pool.inUse;
    await expect(trainLogisticRows(rt(), r, { steps: 3 })).rejects.toThrow(/x\[7\] \(sample 2, feature 1\) is NaN/);
    expect(rt().pool.inUse).toBe(before);
  });

  it('scores that overflow give LogisticDivergedError at step 0 and free every buffer', async () => {
    // z = 10³⁰ · 10³⁰ overflows f32; with y = 0 the loss softplus(z) is not finite.
    const r = rows(new Float32Array([1e30, 1e30]), new Float32Array([0, 0]), 2, 1, 1);
    const before = rt().pool.inUse;
    const error = await trainLogisticRows(rt(), r, { steps: 3, initial: { weights: [1e30] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogisticDivergedError);
    expect((error as LogisticDivergedError).step).toBe(0);
    expect(String(error)).toMatch(/at the starting parameters \(step 0\), the training loss of output 0 is (Infinity|NaN)\. .*check the data/);
    expect(rt().pool.inUse).toBe(before);
  });

  it('sizes, targets and options that do not fit are refused with a message naming them', async () => {
    const r = randomRows(6, 10, 4, 2);
    await expect(LogisticRegression.create(rt(), { ...r, targets: r.targets.subarray(0, 19) })).rejects.toThrow(
      /targets hold 19 values; expected count × outputs = 10 × 2/,
    );
    await expect(LogisticRegression.create(rt(), { ...r, x: r.x.subarray(0, 39) })).rejects.toThrow(/x holds 39 values/);
    const bad = Float32Array.from(r.targets);
    bad[3] = 1.5;
    await expect(LogisticRegression.create(rt(), { ...r, targets: bad })).rejects.toThrow(/target 3 .* is 1.5; targets must lie in \[0, 1\]/);
    await expect(LogisticRegression.create(rt(), r, { test: randomRows(6, 5, 3, 2) })).rejects.toThrow(/test rows have 3 features/);
    await expect(trainLogisticRows(rt(), r, { beta: 1 })).rejects.toThrow(/beta must lie in \(0, 1\)/);
    await expect(trainLogisticRows(rt(), r, { lambda: -1 })).rejects.toThrow(/lambda must be/);
    const images: ImageSet = { images: new Uint8Array(12), labels: Uint8Array.from([0, 1, 12]), count: 3, rows: 1, cols: 4 };
    await expect(trainLogistic(rt(), images, { targets: { kind: 'one-vs-all', classes: 10 } })).rejects.toThrow(
      /label 2 is 12, not below classes = 10/,
    );
    // Rows over the adapter's binding limit are refused before anything is allocated
    // (here against a runtime whose limit is 1 KiB).
    const tight = Object.create(rt(), { limits: { value: { maxStorageBufferBindingSize: 1024, maxBufferSize: 1024 } } });
    await expect(LogisticRegression.create(tight, randomRows(6, 100, 16, 1))).rejects.toThrow(
      /training samples \(100 × 16 f32\) need 6\.3 KiB, more than this adapter's storage-buffer limit of 1\.0 KiB\. Pass the samples as bytes/,
    );
  });

  it('destroy() returns the live buffer count to where it was', async () => {
    rt().pool.trim();
    const live = rt().pool.live;
    const engine = await LogisticRegression.create(rt(), randomRows(8, 33, 5, 2), { bias: true, test: randomRows(9, 12, 5, 2) });
    await engine.descend({ steps: 2 });
    expect(rt().pool.live).toBeGreaterThan(live);
    engine.destroy();
    rt().pool.trim(); // the read-back staging buffers are pooled, not owned by the engine
    expect(rt().pool.live).toBe(live);
    await expect(engine.descend({ steps: 1 })).rejects.toThrow(/destroyed/);
  });
});

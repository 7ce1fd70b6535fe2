/**
 * The TF.js side of the benchmark (bench/tfjs.ts) runs the registry's models:
 * the same layers, shapes, parameters and optimizer, and its training step is
 * the textbook SGD step. TF.js's cpu backend, no GPU.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { sequential } from '../../src/index.js';
import { getExperiment } from '../../src/experiments/registry.js';
import { learningRateAt } from '../../src/optimizers/optimizers.js';
import {
  TFJS_MODEL_IDS, disposeModel, tfjsBackend, tfjsInferThroughput, tfjsInputShape, tfjsMeasure, tfjsModel, tfjsParamCount,
  tfjsSummary, tfjsTrainStep, tfjsTrainThroughput,
} from '../../bench/tfjs.js';

function neural(id: string) {
  const experiment = getExperiment(id);
  if (experiment.kind !== 'neural') throw new Error(`${id} is not a neural experiment`);
  return experiment.train;
}

beforeAll(async () => {
  const status = await tfjsBackend('cpu');
  expect(status).toMatchObject({ ok: true, backend: 'cpu' });
});

describe('TF.js models match the registry', () => {
  it('covers the four benchmarked models', () => {
    expect(TFJS_MODEL_IDS).toEqual(['s001-softmax', 's001-dense', 's001-cnn', 's004-t4']);
  });

  for (const id of TFJS_MODEL_IDS) {
    it(`${id}: same input, layers, output shapes, activations, weight shapes and parameter count`, async () => {
      const train = neural(id);
      const model = sequential(train.layers(), { inputShape: train.inputShape });
      expect(tfjsInputShape(id)).toEqual(train.inputShape);
      expect(await tfjsParamCount(id)).toBe(model.countParams());

      const shapes = model.build(train.inputShape);
      const ours = model.layers.map((layer, i) => ({
        type: layer.typeName,
        outputShape: [...shapes[i + 1]!],
        activation: layer.activation.name,
        weightShapes: layer.params(shapes[i]!).map((p) => p.shape),
      }));
      expect(await tfjsSummary(id)).toEqual(ours);
    });

    it(`${id}: SGD at the registry's (initial) learning rate, sparse categorical cross-entropy`, () => {
      const train = neural(id);
      const optimizer = train.optimizer();
      expect(optimizer.kind).toBe('sgd');
      expect(train.loss).toBe('sparseCategoricalCrossentropy');
      const model = tfjsModel(id);
      try {
        expect(model.optimizer.getClassName()).toBe('SGD');
        expect(model.optimizer.getConfig().learningRate).toBeCloseTo(learningRateAt(optimizer.schedule, 0), 12);
      } finally {
        disposeModel(model);
      }
    });
  }
});

describe('the TF.js training step', () => {
  it('is the textbook SGD step on softmax regression (s001-softmax), checked in f64', async () => {
    const batch = 4;
    const inputs = 784;
    const classes = 10;
    const lr = 0.01;
    // Deterministic weights, images and labels.
    const w = Float64Array.from({ length: inputs * classes }, (_, i) => Math.sin(i * 0.37) * 0.05);
    const b = Float64Array.from({ length: classes }, (_, j) => 0.02 * (j - 4.5));
    const x = Float64Array.from({ length: batch * inputs }, (_, i) => ((i * 7919) % 256) / 255);
    const labels = [3, 0, 9, 3];

    // By hand: p = softmax(xW + b), loss = mean −log p[y], dW = xᵀ(p − onehot)/B, db = Σ(p − onehot)/B.
    const dz = new Float64Array(batch * classes);
    let loss = 0;
    for (let n = 0; n < batch; n++) {
      const z = Array.from({ length: classes }, (_, j) => {
        let s = b[j]!;
        for (let k = 0; k < inputs; k++) s += x[n * inputs + k]! * w[k * classes + j]!;
        return s;
      });
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const total = e.reduce((a, v) => a + v, 0);
      for (let j = 0; j < classes; j++) dz[n * classes + j] = (e[j]! / total - (j === labels[n] ? 1 : 0)) / batch;
      loss -= Math.log(e[labels[n]!]! / total) / batch;
    }
    const wNext = w.map((value, i) => {
      const k = Math.floor(i / classes);
      const j = i % classes;
      let g = 0;
      for (let n = 0; n < batch; n++) g += x[n * inputs + k]! * dz[n * classes + j]!;
      return value - lr * g;
    });
    const bNext = b.map((value, j) => {
      let g = 0;
      for (let n = 0; n < batch; n++) g += dz[n * classes + j]!;
      return value - lr * g;
    });

    const model = tfjsModel('s001-softmax');
    const before = tf.memory().numTensors;
    try {
      model.setWeights([tf.tensor2d(Float32Array.from(w), [inputs, classes]), tf.tensor1d(Float32Array.from(b))]);
      const xs = tf.tensor3d(Float32Array.from(x), [batch, 28, 28]);
      const ys = tf.tensor1d(labels, 'float32');
      const cost = tfjsTrainStep(model, xs, ys);
      expect((await cost.data())[0]).toBeCloseTo(loss, 5);
      const [kernel, bias] = model.getWeights();
      const gotW = await kernel!.data();
      const gotB = await bias!.data();
      // The step moved the weights (a no-op update would fail here) ...
      const moved = Math.max(...wNext.map((v, i) => Math.abs(v - w[i]!)));
      expect(moved).toBeGreaterThan(1e-4);
      // ... by the textbook amount, to float32 precision.
      let worst = 0;
      for (let i = 0; i < wNext.length; i++) worst = Math.max(worst, Math.abs(gotW[i]! - wNext[i]!));
      expect(worst).toBeLessThan(1e-6);
      for (let j = 0; j < classes; j++) expect(gotB[j]!).toBeCloseTo(bNext[j]!, 6);
      tf.dispose([xs, ys, cost]);
    } finally {
      disposeModel(model);
    }
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('lowers the loss of s001-dense on a fixed batch', () => {
    const model = tfjsModel('s001-dense');
    try {
      const xs = tf.randomUniform([16, 28, 28], 0, 1, 'float32', 7);
      const ys = tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'float32');
      const losses: number[] = [];
      for (let step = 0; step < 20; step++) {
        const cost = tfjsTrainStep(model, xs, ys);
        losses.push(cost.dataSync()[0]!);
        cost.dispose();
      }
      expect(losses[19]!).toBeLessThan(losses[0]! - 0.05);
      tf.dispose([xs, ys]);
    } finally {
      disposeModel(model);
    }
  });
});

describe('the TF.js throughput functions', () => {
  it('measure training and inference without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const train = await tfjsTrainThroughput('s001-dense', 'cpu', 8, 0);
    const infer = await tfjsInferThroughput('s001-dense', 'cpu', 8, 0);
    const fit = await tfjsMeasure('train', 's001-dense', 'cpu', 8, 0, { fit: true, batches: 2 });
    expect(train).toBeGreaterThan(0);
    expect(infer).toBeGreaterThan(0);
    expect(fit).toMatchObject({ samplesPerSecond: expect.any(Number), steps: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('give null and the reason where a backend lacks a kernel (TF.js wasm has no conv filter gradient)', async (ctx) => {
    const status = await tfjsBackend('wasm');
    // A checkout with its development dependencies has it; a benchmark kit may not carry it.
    if (!status.ok && /not installed/.test(status.reason)) ctx.skip();
    if (!status.ok) throw new Error(`The wasm backend should load offline from node_modules: ${status.reason}`);
    expect(status.detail).toMatch(/simd/);
    const result = await tfjsMeasure('train', 's001-cnn', 'wasm', 2, 0);
    expect(result.samplesPerSecond).toBeNull();
    expect(result).toMatchObject({ reason: expect.stringMatching(/Conv2DBackpropFilter/) });
    expect(await tfjsTrainThroughput('s001-dense', 'wasm', 8, 0)).toBeGreaterThan(0);
    await tfjsBackend('cpu');
  });
});

/**
 * The model as a whole on the GPU: one training step against the CPU twins
 * composed by hand, seeds, leaks, divergence, and misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adam, binaryCrossentropy, conv2d, createRuntime, Dataset, dense, flatten, maxPool2d, Runtime, sequential, sgd,
  sparseCategoricalCrossentropy, TrainingDivergedError,
} from '../../src/index.js';
import {
  activationBackward, activationForward, assertClose, conv2dBackward, conv2dForward, denseBackward, denseForward,
  makeRng, maxPool2dBackward, maxPool2dForward, softmaxCrossEntropy,
} from '../../src/reference/index.js';
import { FUSION_DEFAULTS } from '../../src/model/fusion.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

function randomImages(count: number, features: number, seed: number): { x: Uint8Array; y: Uint8Array } {
  const rng = makeRng(seed);
  const x = new Uint8Array(count * features);
  const y = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    y[n] = Math.floor(rng.next() * 10);
    // A class-dependent bright band makes the data learnable.
    for (let f = 0; f < features; f++) x[n * features + f] = Math.floor(rng.next() * 64) + (f % 10 === y[n] ? 160 : 0);
  }
  return { x, y };
}

describe('one training step of conv → relu → maxpool → flatten → dense → softmax-CE', () => {
  it('updates every weight exactly as the CPU twins composed by hand (f64)', async () => {
    const B = 5, H = 6, W = 6, C = 4, lr = 0.1;
    const rng = makeRng(3);
    const x = Float32Array.from({ length: B * H * W }, () => rng.next() * 2 - 1);
    const labels = Uint32Array.from({ length: B }, (_, i) => (i * 3) % C);
    const data = Dataset.create(rt, { x, y: labels, shape: [H, W, 1], classes: C, name: 'tiny' });
    const model = sequential([conv2d(3, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(C, 'softmax')], { inputShape: [H, W, 1], runtime: rt, seed: 11 });
    model.compile({ optimizer: sgd({ learningRate: lr }), loss: 'sparseCategoricalCrossentropy' });
    const before = await model.getWeights();
    await model.fit(data, { epochs: 1, batchSize: B, shuffle: false });
    const after = await model.getWeights();

    const [w1, b1, w2, b2] = before.map((t) => Float64Array.from(t.values));
    const convShape = { batch: B, inH: H, inW: W, inC: 1, outC: 3, kH: 3, kW: 3, strideH: 1, strideW: 1, padding: 'valid' as const };
    const poolShape = { batch: B, inH: 4, inW: 4, channels: 3, poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: 'valid' as const };
    const conv = activationForward('relu', conv2dForward(x, w1!, b1!, convShape), 3);
    const pool = maxPool2dForward(conv, poolShape);
    const logits = denseForward(pool.out, w2!, b2!, B, 12, C);
    const { dlogits } = softmaxCrossEntropy(logits, labels, B, C);
    const d2 = denseBackward(pool.out, w2!, dlogits, B, 12, C);
    const dconv = activationBackward('relu', conv, maxPool2dBackward(d2.dx, pool.argmax, poolShape), 3);
    const d1 = conv2dBackward(x, w1!, dconv, convShape);
    const expected = [[w1!, d1.dw], [b1!, d1.db], [w2!, d2.dw], [b2!, d2.db]].map(([w, g]) => w!.map((v, i) => v - lr * g![i]!));
    expected.forEach((e, k) => assertClose(after[k]!.values, e, { atol: 1e-6, rtol: 1e-5, label: `${after[k]!.layer}.${after[k]!.name}` }));
    expect(await model.iterations()).toBe(1);
    model.dispose();
    data.dispose();
  });
});

describe('the relu before a max pooling', () => {
  it('is differentiated by the pooling (no pass of its own) only where a pooling follows a relu', async () => {
    const { x, y } = randomImages(16, 64, 4);
    const data = Dataset.create(rt, { x, y, shape: [8, 8, 1], classes: 10 });
    const steps: string[][] = [];
    // Without the dense folds (src/model/fusion.ts), which would apply the unpooled relu in dense's input gradient.
    const fold = FUSION_DEFAULTS.foldActivations;
    FUSION_DEFAULTS.foldActivations = false;
    try {
      for (const layers of [
        [conv2d(2, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(10, 'softmax')],
        [conv2d(2, 3, { activation: 'tanh' }), maxPool2d(), flatten(), dense(10, 'softmax')],
        [conv2d(2, 3, { activation: 'relu' }), flatten(), dense(10, 'softmax')],
      ]) {
        const model = sequential(layers, { runtime: rt });
        model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
        steps.push((await model.timeStep(data, { batchSize: 8 })).dispatches.map((d) => d.label));
        model.dispose();
      }
    } finally {
      FUSION_DEFAULTS.foldActivations = fold;
    }
    const [gated, tanh, unpooled] = steps as [string[], string[], string[]];
    expect(gated.filter((l) => /relu backward/.test(l))).toEqual([]);
    expect(gated.some((l) => /max_pooling2d backward/.test(l))).toBe(true);
    expect(tanh.some((l) => /conv2d tanh backward/.test(l))).toBe(true);
    expect(unpooled.some((l) => /conv2d relu backward/.test(l))).toBe(true);
    data.dispose();
  });
});

describe('training', () => {
  it('gives bit-identical weights for the same seed, and different ones for another seed', async () => {
    const { x, y } = randomImages(300, 64, 1);
    const data = Dataset.create(rt, { x, y, shape: [8, 8], classes: 10 }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
    const train = async (seed: number) => {
      const model = sequential([flatten(), dense(16, 'relu'), dense(10, 'softmax')], { runtime: rt });
      model.compile({ optimizer: adam(), loss: 'sparseCategoricalCrossentropy' });
      await model.fit(data, { epochs: 2, batchSize: 32, seed, validationSplit: 0.2 });
      const weights = (await model.getWeights()).map((t) => t.values);
      model.dispose();
      return weights;
    };
    const [a, b, c] = [await train(7), await train(7), await train(8)];
    a.forEach((t, k) => expect(Buffer.from(t.buffer).equals(Buffer.from(b[k]!.buffer))).toBe(true));
    expect(Buffer.from(a[0]!.buffer).equals(Buffer.from(c[0]!.buffer))).toBe(false);
    data.dispose();
  });

  it('trains bit-identically with and without Dawn\'s bounds checks (no kernel leans on a clamped access)', async () => {
    // Odd sizes throughout, so every kernel family meets partial tiles and edges.
    const { x, y } = randomImages(150, 81, 5);
    const train = async (boundsChecks: boolean) => {
      const runtime = await createRuntime({ boundsChecks });
      expect(runtime.boundsChecks).toBe(boundsChecks);
      const data = Dataset.create(runtime, { x, y, shape: [9, 9, 1], classes: 10 }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
      const model = sequential([conv2d(4, 3, { activation: 'relu' }), maxPool2d(), conv2d(5, 2, { activation: 'relu', padding: 'same' }), flatten(), dense(13, 'relu'), dense(10, 'softmax')],
        { runtime, inputShape: [9, 9, 1], seed: 3 });
      model.compile({ optimizer: sgd({ learningRate: 0.05, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy' });
      await model.fit(data, { epochs: 2, batchSize: 24, seed: 3, validationSplit: 0.2 });
      const weights = (await model.getWeights()).map((t) => t.values);
      runtime.destroy();
      return weights;
    };
    const [checked, unchecked] = [await train(true), await train(false)];
    expect(unchecked).toHaveLength(checked.length);
    checked.forEach((t, k) => expect(Buffer.from(t.buffer).equals(Buffer.from(unchecked[k]!.buffer)), `tensor ${k}`).toBe(true));
  });

  it('does not grow the live-buffer count from epoch 1 to epoch 3', async () => {
    const { x, y } = randomImages(200, 64, 2);
    const data = Dataset.create(rt, { x, y, shape: [8, 8, 1], classes: 10 }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
    const model = sequential([conv2d(2, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(10, 'softmax')], { runtime: rt });
    model.compile({ optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy' });
    const live: number[] = [];
    await model.fit(data, {
      epochs: 3, batchSize: 16, validationSplit: 0.25,
      callbacks: [{ onEpochEnd: () => void live.push(rt.pool.live), onBatchEnd: () => undefined }], progressEvery: 3,
    });
    expect(live).toHaveLength(3);
    expect(live[2]).toBe(live[0]);
    const beforeDispose = rt.pool.live;
    model.dispose();
    data.dispose();
    expect(rt.pool.live).toBeLessThan(beforeDispose);
  });

  it('learns: loss falls and accuracy rises on separable data, with per-step progress', async () => {
    const { x, y } = randomImages(400, 64, 3);
    const data = Dataset.create(rt, { x, y, shape: [64], classes: 10 }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
    const model = sequential([dense(32, 'tanh'), dense(10, 'softmax')], { runtime: rt });
    model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: sparseCategoricalCrossentropy() });
    const progress: number[] = [];
    const history = await model.fit(data, {
      epochs: 4, batchSize: 20, validationSplit: 0.25, progressEvery: 5,
      callbacks: [{ onBatchEnd: (_e, logs) => void progress.push(logs.step) }],
    });
    const loss = history.history.loss!;
    expect(loss[3]!).toBeLessThan(loss[0]!);
    expect(history.history.val_accuracy![3]!).toBeGreaterThan(0.9);
    expect(progress.slice(0, 4)).toEqual([5, 10, 15, 5]); // 15 steps per epoch: 5, 10, the end, then epoch 2
    const probabilities = await model.predict(data.take(7));
    for (let n = 0; n < 7; n++) {
      const row = probabilities.slice(n * 10, n * 10 + 10);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const classes = await model.predictClasses(data);
    const labels = data.labels();
    const accuracy = classes.filter((c, i) => c === labels[i]).length / data.count;
    expect(accuracy).toBeCloseTo((await model.evaluate(data)).accuracy, 6);
    model.dispose();
    data.dispose();
  });

  it('stops with an error naming epoch and step when the loss turns NaN, keeping the last good weights', async () => {
    const features = 16;
    const x = new Float32Array(20 * features).map((_, i) => Math.sin(i));
    x[10 * features + 3] = Infinity; // sample 10: in step 3 (samples 8..11) of batch 4
    const y = Uint8Array.from({ length: 20 }, (_, i) => i % 3);
    const data = Dataset.create(rt, { x, y, shape: [features], classes: 3 });
    const make = () => {
      const model = sequential([dense(5, 'relu'), dense(3, 'softmax')], { runtime: rt, seed: 4 });
      model.compile({ optimizer: sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
      return model;
    };
    const model = make();
    const error = await model.fit(data, { epochs: 2, batchSize: 4, shuffle: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(String((error as Error).message)).toMatch(/epoch 1, step 3/);
    // The same model trained on the 8 samples before the bad one.
    const reference = make();
    await reference.fit(data.take(8), { epochs: 1, batchSize: 4, shuffle: false });
    const [kept, good] = [await model.getWeights(), await reference.getWeights()];
    kept.forEach((t, k) => {
      expect(t.values.every(Number.isFinite)).toBe(true);
      expect(Array.from(t.values)).toEqual(Array.from(good[k]!.values));
    });
    model.dispose();
    reference.dispose();
    data.dispose();
  });

  it('trains a one-output sigmoid model with binary cross-entropy (digit vs not-digit)', async () => {
    const { x, y } = randomImages(300, 64, 5);
    const data = Dataset.create(rt, { x, y, shape: [64] }, { preprocessing: { kind: 'scale', scale: 1 / 255 }, mapLabel: (d) => (d === 3 ? 1 : 0) });
    expect(data.classes).toBe(2);
    const model = sequential([dense(8, 'relu'), dense(1, 'sigmoid')], { runtime: rt });
    model.compile({ optimizer: adam({ learningRate: 0.01 }), loss: binaryCrossentropy() });
    const history = await model.fit(data, { epochs: 5, batchSize: 16 });
    expect(history.history.accuracy![4]!).toBeGreaterThan(0.95);
    // The probability is that of the positive class: high exactly for the 3s.
    const p = await model.predict(data);
    const labels = data.labels();
    const agree = Array.from(p).filter((v, i) => (v > 0.5) === (labels[i] === 1)).length / data.count;
    expect(agree).toBeGreaterThan(0.95);
    expect(Array.from(labels).filter((l) => l === 1).length).toBe(Array.from(y).filter((d) => d === 3).length);
    model.dispose();
    data.dispose();
  });

  it('explains misuse: double softmax, missing compile, wrong input shape, one-hot vs sparse', async () => {
    const { x, y } = randomImages(40, 64, 6);
    const data = Dataset.create(rt, { x, y, shape: [64], classes: 10 });
    const softmaxLogits = sequential([dense(10, 'softmax')], { runtime: rt });
    softmaxLogits.compile({ optimizer: 'sgd', loss: sparseCategoricalCrossentropy({ fromLogits: true }) });
    await expect(softmaxLogits.fit(data)).rejects.toThrow(/expects logits.*softmax/);
    const uncompiled = sequential([dense(10, 'softmax')], { runtime: rt });
    await expect(uncompiled.fit(data)).rejects.toThrow(/compile/);
    const wrongShape = sequential([flatten(), dense(10, 'softmax')], { runtime: rt, inputShape: [28, 28] });
    wrongShape.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(wrongShape.fit(data)).rejects.toThrow(/shape \(64\).*expects \(28, 28\)/);
    const categorical = sequential([dense(10, 'softmax')], { runtime: rt });
    categorical.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    await expect(categorical.fit(data)).rejects.toThrow(/oneHot: true/);
    const oneHot = Dataset.create(rt, { x, y, shape: [64], classes: 10 }, { oneHot: true });
    await categorical.fit(oneHot, { epochs: 1 });
    expect(() => Dataset.create(rt, { x, y: y.slice(0, 39), shape: [64] })).toThrow(/40 samples but 39 labels/);
    oneHot.dispose();
    data.dispose();
  });
});

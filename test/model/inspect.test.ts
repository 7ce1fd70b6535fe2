/**
 * inspectStep (the browser demo's step view) and timeDispatches (its shader
 * view): one real training step read back layer by layer, checked against the
 * f64 twins from the weights before the step; a timed step trains exactly as
 * an untimed one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, Dataset, dense, flatten, reshape, conv2d, Runtime, sequential, sgd } from '../../src/index.js';
import { canTimeDispatches } from '../../src/gpu/timing.js';
import {
  activationBackward, activationForward, assertClose, conv2dBackward, conv2dForward, denseBackward, denseForward, makeRng, softmaxCrossEntropy,
} from '../../src/reference/index.js';

let rt: Runtime;
let data: Dataset;
const FEATURES = 12;
const CLASSES = 4;
const rng = makeRng(21);
/** 40 samples of raw floats: the gathered batch holds them as they are. */
const X = Float32Array.from({ length: 40 * FEATURES }, () => rng.next() * 2 - 1);
beforeAll(async () => {
  rt = await createRuntime();
  const y = Uint8Array.from({ length: 40 }, (_, i) => (i * 7) % CLASSES);
  data = Dataset.create(rt, { x: X, y, shape: [FEATURES], classes: CLASSES });
});
afterAll(() => rt?.destroy());

const TOL = { atol: 1e-5, rtol: 1e-4 };

describe('inspectStep', () => {
  it('reads back a dense model\'s activations, deltas and gradients as the f64 twins compute them', async () => {
    const model = sequential([dense(5, 'sigmoid'), dense(CLASSES, 'softmax')], { runtime: rt, seed: 4, inputShape: [FEATURES] });
    model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
    const before = await model.getWeights();
    const positions = [3, 0, 17, 9, 25, 11]; // fewer samples than the batch of 8
    const step = await model.inspectStep(data, { batchSize: 8, positions });
    const B = positions.length;
    expect(step.samples).toBe(B);
    expect(step.batch).toBe(8);
    expect(step.iteration).toBe(1);
    expect([...step.labels]).toEqual(positions.map((p) => (p * 7) % CLASSES));

    // The twin, from the weights before the step.
    const [w1, b1, w2, b2] = before.map((t) => t.values);
    const x = step.input.values;
    expect(step.input.shape).toEqual([B, FEATURES]);
    const xExpected = new Float64Array(B * FEATURES);
    positions.forEach((n, r) => xExpected.set(X.subarray(n * FEATURES, (n + 1) * FEATURES), r * FEATURES));
    assertClose(x, xExpected, { atol: 0, rtol: 0, label: 'batch input' });

    const h = activationForward('sigmoid', denseForward(x, w1!, b1!, B, FEATURES, 5), 5);
    const z = denseForward(h, w2!, b2!, B, 5, CLASSES);
    const loss = softmaxCrossEntropy(z, Uint32Array.from(step.labels), B, CLASSES);
    const g2 = denseBackward(h, w2!, loss.dlogits, B, 5, CLASSES);
    const dz1 = activationBackward('sigmoid', h, g2.dx, 5);
    const g1 = denseBackward(x, w1!, dz1, B, FEATURES, 5);

    const [first, second] = step.layers;
    assertClose(first!.output.values, h, { ...TOL, label: 'dense output' });
    assertClose(second!.output.values, z, { ...TOL, label: 'logits' });
    expect(second!.outputIsPreActivation).toBe(true);
    expect(first!.delta!.of).toBe('pre-activation');
    expect(second!.delta!.of).toBe('output');
    assertClose(second!.delta!.values, loss.dlogits, { ...TOL, label: 'dL/dlogits' });
    assertClose(first!.delta!.values, dz1, { ...TOL, label: 'dL/d(pre-activation)' });
    assertClose(second!.grads[0]!.values, g2.dw, { ...TOL, label: 'dW2' });
    assertClose(second!.grads[1]!.values, g2.db, { ...TOL, label: 'db2' });
    assertClose(first!.grads[0]!.values, g1.dw, { ...TOL, label: 'dW1' });
    assertClose(first!.grads[1]!.values, g1.db, { ...TOL, label: 'db1' });
    expect(first!.grads.map((g) => g.name)).toEqual(['kernel', 'bias']);
    expect(step.loss).toBeCloseTo(loss.loss, 5);
    expect(step.accuracy).toBeCloseTo(loss.correct / B, 6);

    // And the step trained: w ← w − lr·dW.
    const after = await model.getWeights();
    assertClose(after[0]!.values, Float64Array.from(w1!, (w, i) => w - 0.1 * g1.dw[i]!), { ...TOL, label: 'updated W1' });
    model.dispose();
  });

  it('gives conv feature maps (samples, H, W, C) and no delta for layers without parameters', async () => {
    const images = Dataset.create(rt, {
      x: Float32Array.from({ length: 6 * 36 }, ((rng) => () => rng.next())(makeRng(5))),
      y: Uint8Array.from([0, 1, 2, 0, 1, 2]), shape: [6, 6, 1], classes: 3,
    });
    const model = sequential([conv2d(2, 3, { activation: 'relu' }), flatten(), dense(3, 'softmax')], { runtime: rt, seed: 2, inputShape: [6, 6, 1] });
    model.compile({ optimizer: sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
    const before = await model.getWeights();
    const step = await model.inspectStep(images, { batchSize: 4 });
    expect(step.layers.map((l) => l.typeName)).toEqual(['Conv2D', 'Flatten', 'Dense']);
    const [conv, flat, out] = step.layers;
    expect(conv!.output.shape).toEqual([4, 4, 4, 2]);
    expect(flat!.delta).toBeNull();
    expect(flat!.grads).toEqual([]);

    const x = step.input.values;
    const shape = { batch: 4, inH: 6, inW: 6, inC: 1, outC: 2, kH: 3, kW: 3, strideH: 1, strideW: 1, padding: 'valid' as const };
    const a = activationForward('relu', conv2dForward(x, before[0]!.values, before[1]!.values, shape), 2);
    const z = denseForward(a, before[2]!.values, before[3]!.values, 4, 32, 3);
    const loss = softmaxCrossEntropy(z, Uint32Array.from(step.labels), 4, 3);
    const g = denseBackward(a, before[2]!.values, loss.dlogits, 4, 32, 3);
    const delta = activationBackward('relu', a, g.dx, 2);
    const gc = conv2dBackward(x, before[0]!.values, delta, shape);
    assertClose(conv!.output.values, a, { ...TOL, label: 'conv feature maps' });
    assertClose(out!.grads[0]!.values, g.dw, { ...TOL, label: 'dense dW' });
    assertClose(conv!.delta!.values, delta, { ...TOL, label: 'conv delta' });
    assertClose(conv!.grads[0]!.values, gc.dw, { ...TOL, label: 'conv dW' });
    assertClose(conv!.grads[1]!.values, gc.db, { ...TOL, label: 'conv db' });
    model.dispose();
    images.dispose();
  });

  it('refuses more positions than the batch, and an uncompiled model', async () => {
    const model = sequential([reshape([FEATURES]), dense(CLASSES, 'softmax')], { runtime: rt });
    await expect(model.inspectStep(data)).rejects.toThrow(/compile/);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.inspectStep(data, { batchSize: 2, positions: [0, 1, 2] })).rejects.toThrow(/give 1 to 2 \(the batch size\) sample positions, got 3/);
    model.dispose();
  });

  it('leaves no buffer behind once the model is disposed', async () => {
    const live = rt.pool.inUse;
    const model = sequential([dense(3, 'relu'), dense(CLASSES, 'softmax')], { runtime: rt, seed: 1 });
    model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
    await model.inspectStep(data, { batchSize: 16 });
    model.dispose();
    expect(rt.pool.inUse).toBe(live);
  });
});

describe('timeStep (timeDispatches)', () => {
  it('times every dispatch of a training step, and the timed step trains exactly as an untimed one', async (context) => {
    if (!canTimeDispatches(rt)) {
      console.warn(`timeStep: skipped, adapter '${rt.adapter.name}' has no timestamp-query.`);
      context.skip();
    }
    const make = () => {
      const m = sequential([dense(6, 'relu'), dense(CLASSES, 'softmax')], { runtime: rt, seed: 8, inputShape: [FEATURES] });
      m.compile({ optimizer: sgd({ learningRate: 0.1, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy' });
      return m;
    };
    const timed = make();
    const plain = make();
    const untrained = make();
    const initial = await untrained.getWeights();
    await timed.timeStep(data, { batchSize: 8, positions: [8, 9, 10, 11, 12, 13, 14, 15] });
    // A second timed step (plans exist now) leaves no buffer in use behind.
    const inUse = rt.pool.inUse;
    const { dispatches, times } = await timed.timeStep(data, { batchSize: 8 });
    expect(rt.pool.inUse).toBe(inUse);
    // The weight gradient is among the timed dispatches, whichever variant of its family this adapter runs.
    expect(dispatches.some((d) => /backward weight/.test(d.label) && /dense|gemm/.test(d.kernel.spec.entryPoint))).toBe(true);
    expect(times).not.toBeNull();
    expect(times!.length).toBe(dispatches.length);
    expect([...times!].every((t) => Number.isFinite(t) && t >= 0)).toBe(true);
    expect([...times!].some((t) => t > 0)).toBe(true);

    // The same two steps without timing, through the step view's path.
    await plain.inspectStep(data, { batchSize: 8, positions: [8, 9, 10, 11, 12, 13, 14, 15] });
    await plain.inspectStep(data, { batchSize: 8 });
    const a = await timed.getWeights();
    const b = await plain.getWeights();
    a.forEach((t, k) => expect(Buffer.from(t.values.buffer).equals(Buffer.from(b[k]!.values.buffer)), `tensor ${k} equal`).toBe(true));
    expect(await timed.iterations()).toBe(2);
    // The step happened: the weights moved from the initial ones.
    expect(Buffer.from(initial[0]!.values.buffer).equals(Buffer.from(a[0]!.values.buffer))).toBe(false);
    for (const m of [timed, plain, untrained]) m.dispose();
  });

  it('returns null times and still trains where there are no timestamp queries', async () => {
    const m = sequential([dense(CLASSES, 'softmax')], { runtime: rt, seed: 8, inputShape: [FEATURES] });
    m.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const features = rt.features as Set<string>;
    const had = features.delete('timestamp-query');
    try {
      const { times } = await m.timeStep(data, { batchSize: 8 });
      expect(times).toBeNull();
      expect(await m.iterations()).toBe(1);
    } finally {
      if (had) features.add('timestamp-query');
      m.dispose();
    }
  });
});

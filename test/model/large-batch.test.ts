/**
 * Batches whose grids pass the adapter's limit of workgroups per dimension
 * (65,535 on most): the runtime folds the grid's y axis into z for every
 * kernel that declares it, and the results equal those of small batches.
 * A conv model at batch 4096 (conv forward needs 4096·26·26/8 = 346,112 rows
 * of workgroups) and a dense model at batch 100,000 (the gather kernel's rows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, createRuntime, Dataset, dense, flatten, maxPool2d, Runtime, sequential, sgd } from '../../src/index.js';
import { assertClose, makeRng } from '../../src/reference/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

function images(count: number, features: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const rng = makeRng(seed);
  return {
    x: Float32Array.from({ length: count * features }, () => rng.next()),
    y: Uint32Array.from({ length: count }, () => Math.floor(rng.next() * 10)),
  };
}

describe('grids past the per-dimension limit', () => {
  it('a conv model predicts, evaluates and trains at batch 4096, as at batch 64', async () => {
    const n = 4096;
    const { x, y } = images(n, 28 * 28, 1);
    const data = Dataset.create(rt, { x, y, shape: [28, 28, 1], classes: 10, name: 'random images' });
    const model = sequential([conv2d(8, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(10, 'softmax')], { inputShape: [28, 28, 1], runtime: rt, seed: 2 });
    model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    expect(Math.ceil((n * 26 * 26) / 8)).toBeGreaterThan(rt.limits.maxComputeWorkgroupsPerDimension);
    const big = await model.predict(data, { batchSize: n });
    const small = await model.predict(data, { batchSize: 64 });
    assertClose(big, small, { atol: 1e-6, rtol: 1e-5, label: 'predict at 4096 vs 64' });
    const evalBig = await model.evaluate(data, { batchSize: n });
    const evalSmall = await model.evaluate(data, { batchSize: 64 });
    expect(evalBig.loss).toBeCloseTo(evalSmall.loss, 5);
    const history = await model.fit(data, { epochs: 1, batchSize: n, shuffle: false });
    expect(Number.isFinite(history.history.loss![0]!)).toBe(true);
    expect(rt.errors).toEqual([]);
    model.dispose();
    data.dispose();
  });

  it('a dense model predicts and trains at batch 100,000, as at batch 500', async () => {
    const n = 100_000, features = 16;
    const { x, y } = images(n, features, 2);
    const data = Dataset.create(rt, { x, y, shape: [features], classes: 10, name: 'random rows' });
    const model = sequential([flatten(), dense(12, 'relu'), dense(10, 'softmax')], { inputShape: [features], runtime: rt, seed: 3 });
    model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const big = await model.predict(data, { batchSize: n });
    const small = await model.predict(data, { batchSize: 500 });
    assertClose(big, small, { atol: 1e-6, rtol: 1e-5, label: 'predict at 100,000 vs 500' });
    const history = await model.fit(data, { epochs: 1, batchSize: n, shuffle: false });
    expect(Number.isFinite(history.history.loss![0]!)).toBe(true);
    expect(rt.errors).toEqual([]);
    model.dispose();
    data.dispose();
  });
});

describe('a batch past the buffer limit', () => {
  it('is refused before the batch buffers are made, naming the largest batch that fits', async (ctx) => {
    const limit = Math.min(rt.limits.maxBufferSize, rt.limits.maxStorageBufferBindingSize);
    const width = 4096; // the widest activation: the hidden layer's output, 16 KiB a sample
    const fits = Math.floor(limit / (width * 4));
    const n = fits + 1;
    // Adapters with buffer limits of several GiB would need more data than a test should upload.
    if (n * 784 > 300e6) ctx.skip();
    // Bytes, as MNIST is stored: the data itself is a quarter of the first activation's size.
    const x = new Uint8Array(n * 784);
    const y = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const data = Dataset.create(rt, { x, y, shape: [784], classes: 10, name: 'wide batch' }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
    const model = sequential([flatten(), dense(width, 'relu'), dense(10, 'softmax')], { inputShape: [784], runtime: rt, seed: 1 });
    model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
    const message = new RegExp(`Use a batch size of at most ${fits.toLocaleString('en-US')}\\.`);
    await expect(model.predict(data, { batchSize: n })).rejects.toThrow(message);
    await expect(model.fit(data, { epochs: 1, batchSize: n })).rejects.toThrow(message);
    // The largest batch named fits.
    expect((await model.evaluate(data.subset(Array.from({ length: 256 }, (_, i) => i), 'head'), { batchSize: 256 })).loss).toBeGreaterThan(0);
    model.dispose();
    data.dispose();
  });
});

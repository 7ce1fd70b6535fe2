/**
 * Calls that would otherwise give a silently wrong result, refused with an
 * error that says what is wrong: a disposed model, images of another shape,
 * labels binary cross-entropy cannot take, epochs that are not whole, a model
 * larger than a buffer. And a batch larger than the data, which is not an
 * error: it trains as one batch of the data's size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conv2d, createRuntime, Dataset, dense, flatten, maxPool2d, Runtime, sequential, sgd } from '../../src/index.js';
import { makeRng } from '../../src/reference/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

function data(count: number, shape: number[], classes: number, seed = 1): Dataset {
  const features = shape.reduce((a, b) => a * b, 1);
  const rng = makeRng(seed);
  const y = Uint8Array.from({ length: count }, () => Math.floor(rng.next() * classes));
  const x = Uint8Array.from({ length: count * features }, (_, i) => Math.floor(rng.next() * 64) + (i % classes === y[Math.floor(i / features)] ? 150 : 0));
  return Dataset.create(rt, { x, y, shape, classes, name: `${count}×${shape.join('×')}` }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
}

function softmaxModel(inputs: number[], seed = 3) {
  const model = sequential([flatten(), dense(4, 'softmax')], { runtime: rt, inputShape: inputs, seed });
  model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

describe('a disposed model', () => {
  it('refuses fit, evaluate and predict instead of starting again from random weights', async () => {
    const d = data(64, [16], 4);
    const model = softmaxModel([16]);
    await model.fit(d, { epochs: 2, batchSize: 16 });
    expect((await model.evaluate(d)).accuracy).toBeGreaterThan(0.5);
    model.dispose();
    await expect(model.fit(d, { epochs: 1 })).rejects.toThrow(/Model 'sequential' was disposed, so its weights are gone; fit would start from new random weights\. Create a new model/);
    await expect(model.evaluate(d)).rejects.toThrow(/was disposed.*evaluate/);
    await expect(model.predict(d)).rejects.toThrow(/was disposed.*predict/);
    await expect(model.getWeights()).rejects.toThrow(/was disposed/);
    model.dispose(); // a second dispose is harmless
    d.dispose();
  });
});

describe('the input shape check', () => {
  it('compares shapes, not element counts: 16×4 images do not go into an 8×8×1 conv model', async () => {
    const model = sequential([conv2d(2, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(4, 'softmax')], { runtime: rt, inputShape: [8, 8, 1] });
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const wide = data(16, [16, 4], 4);
    const message = /'16×16×4' has samples of shape \(16, 4\) but the model expects \(8, 8, 1\)\. If the values are laid out as the model expects, view them so with dataset\.reshape\(\[8, 8, 1\]\)/;
    await expect(model.fit(wide, { epochs: 1 })).rejects.toThrow(message);
    await expect(model.evaluate(wide)).rejects.toThrow(message);
    await expect(model.predict(wide)).rejects.toThrow(message);
    const square = data(16, [8, 8], 4);
    await expect(model.fit(square, { epochs: 1, validationData: wide })).rejects.toThrow(/Validation data '16×16×4' has samples of shape \(16, 4\)/);
    // An axis of length 1 may be left out, and reshape says how the values are meant.
    expect((await model.evaluate(square)).samples).toBe(16);
    expect((await model.evaluate(wide.reshape([8, 8, 1]))).samples).toBe(16);
    model.dispose();
    wide.dispose();
    square.dispose();
  });
});

describe('binary cross-entropy', () => {
  it('refuses class labels other than 0 and 1, naming the largest and what to do', async () => {
    const digits = data(40, [16], 10);
    const model = sequential([dense(1, 'sigmoid')], { runtime: rt, inputShape: [16] });
    model.compile({ optimizer: sgd({ learningRate: 0.5 }), loss: 'binaryCrossentropy' });
    const message = /'40×16' has class labels up to 9; binaryCrossentropy needs labels 0 and 1\. Map them to two classes \(e\.g\. Dataset option mapLabel.*or use sparseCategoricalCrossentropy with a softmax last layer of 10 units/;
    await expect(model.fit(digits, { epochs: 2 })).rejects.toThrow(message);
    await expect(model.evaluate(digits)).rejects.toThrow(message);
    // The same images as "is it a 3?" train, to a loss that is a loss (positive).
    const x = new Uint8Array(40 * 16);
    const y = new Uint8Array(40);
    digits.labels().forEach((label, n) => {
      y[n] = label;
      for (let f = 0; f < 16; f++) x[n * 16 + f] = f === label ? 200 : 30;
    });
    const binary = Dataset.create(rt, { x, y, shape: [16] }, { preprocessing: { kind: 'scale', scale: 1 / 255 }, mapLabel: (d) => (d === 3 ? 1 : 0) });
    const history = await model.fit(binary, { epochs: 3, batchSize: 8 });
    for (const loss of history.history.loss!) expect(loss).toBeGreaterThan(0);
    model.dispose();
    digits.dispose();
    binary.dispose();
  });
});

describe('fit options', () => {
  it('epochs must be a positive integer: 1.5, 0, -1 and NaN are refused, not rounded or skipped', async () => {
    const d = data(16, [16], 4);
    const model = softmaxModel([16]);
    for (const epochs of [1.5, 0, -1, Number.NaN]) {
      await expect(model.fit(d, { epochs })).rejects.toThrow(`epochs must be a positive integer, got ${epochs}.`);
    }
    await expect(model.fit(d, { epochs: 2, initialEpoch: 0.5 })).rejects.toThrow('initialEpoch must be an integer ≥ 0, got 0.5.');
    expect(await model.iterations()).toBe(0);
    model.dispose();
    d.dispose();
  });

  it('a batch larger than the data trains as one batch of the data: the same weights as batchSize = count', async () => {
    const d = data(20, [28, 28], 4);
    const weights = async (batchSize: number) => {
      const model = softmaxModel([28, 28], 5);
      const steps: number[] = [];
      const history = await model.fit(d, { epochs: 2, batchSize, callbacks: [{ onBatchEnd: (_e, logs) => void steps.push(logs.steps) }] });
      const w = await model.getWeights();
      const iterations = await model.iterations();
      model.dispose();
      return { w, iterations, steps, loss: history.history.loss! };
    };
    const exact = await weights(20);
    // 10 million rows of 784 floats would be 31 GB of batch buffer: clamped, it is 20 rows.
    const huge = await weights(10_000_000);
    expect(huge.iterations).toBe(2);
    expect(huge.steps).toEqual([1, 1]);
    expect(huge.loss).toEqual(exact.loss);
    huge.w.forEach((t, k) => expect(Array.from(t.values)).toEqual(Array.from(exact.w[k]!.values)));
    d.dispose();
  });
});

describe('a model larger than one buffer', () => {
  const limited = (limit: number): Runtime => Object.create(rt, {
    limits: { value: { maxBufferSize: limit, maxStorageBufferBindingSize: limit, maxComputeWorkgroupsPerDimension: rt.limits.maxComputeWorkgroupsPerDimension } },
  }) as Runtime;

  it('fails before the host allocation, naming the number of units that fits', async () => {
    const small = limited(1 << 20); // 1 MiB: 262,144 parameters
    const model = sequential([flatten(), dense(1000, 'relu'), dense(10, 'softmax')], { runtime: small, inputShape: [28, 28] });
    const error = (await model.getWeights().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/^Model 'sequential' has 795,\d{3} parameters \(3\.0 MiB\), more than the 262,144 that fit this adapter's buffer limit of 1\.0 MiB \(maxBufferSize, maxStorageBufferBindingSize\)\. Layer 'dense' \(Dense\(1000, relu\)\) holds 785,\d{3} of them: give it at most \d+ units/);
    const fits = Number(/at most (\d+) units/.exec(error.message)![1]);
    expect(fits).toBeGreaterThan(300);
    expect(fits).toBeLessThan(334); // 262,144 / (784 + 1 + 10)
    const smaller = sequential([flatten(), dense(fits, 'relu'), dense(10, 'softmax')], { runtime: small, inputShape: [28, 28] });
    expect((await smaller.getWeights()).length).toBe(4);
    smaller.dispose();
  });

  it('on this adapter: a dense layer just past maxBufferSize fails at once, without filling the host memory', async () => {
    const limit = Math.min(rt.limits.maxBufferSize, rt.limits.maxStorageBufferBindingSize);
    const units = Math.ceil(limit / 4 / 784) + 64;
    const model = sequential([dense(units, 'relu')], { runtime: rt, inputShape: [784] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const before = process.memoryUsage().arrayBuffers;
    await expect(model.predict(data(4, [784], 2))).rejects.toThrow(/more than the [\d,]+ that fit this adapter's buffer limit.*give it at most [\d,]+ units/);
    // The old order made the host array of initial weights (over limit bytes) before the check.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(limit / 2);
  });
});

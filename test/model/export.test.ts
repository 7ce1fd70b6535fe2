/**
 * Export: safetensors (checked with a reader written here, from the format's
 * description, and loaded back by shaderprop) and TensorFlow.js's Layers format
 * (loaded by TensorFlow.js, which must predict what shaderprop predicts).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conv2d, createRuntime, Dataset, dense, flatten, leakyRelu, loadMnist, loadSafetensors, maxPool2d, Runtime, sequential, sequentialFromTopology, sgd,
  type Sequential,
} from '../../src/index.js';
import { makeRng } from '../../src/reference/index.js';
import { mnistDir } from '../helpers.js';

let rt: Runtime;
let dir: string;
let model: Sequential;
let train: Dataset;
let test: Dataset;
/** The test images as the model sees them, (count, 28, 28), 0–1. */
let testX: Float32Array;
const TEST_COUNT = 1000;

/** Images in 0–1: MNIST when it is here, else random pixels. */
async function images(): Promise<{ trainX: Float32Array; trainY: Uint8Array; testX: Float32Array; testY: Uint8Array }> {
  const scale = (u8: Uint8Array) => Float32Array.from(u8, (p) => p / 255);
  const folder = mnistDir();
  if (folder) {
    const mnist = await loadMnist({ dir: folder, subset: { train: 512, test: TEST_COUNT } });
    return { trainX: scale(mnist.train.images), trainY: mnist.train.labels, testX: scale(mnist.test.images), testY: mnist.test.labels };
  }
  const rng = makeRng(4);
  const random = (n: number) => Float32Array.from({ length: n * 784 }, () => rng.next());
  return { trainX: random(512), trainY: Uint8Array.from({ length: 512 }, (_, i) => i % 10), testX: random(TEST_COUNT), testY: Uint8Array.from({ length: TEST_COUNT }, (_, i) => i % 10) };
}

beforeAll(async () => {
  rt = await createRuntime();
  dir = await mkdtemp(join(tmpdir(), 'shaderprop-export-'));
  const data = await images();
  testX = data.testX;
  train = Dataset.create(rt, { x: data.trainX, y: data.trainY, shape: [28, 28], classes: 10 });
  test = Dataset.create(rt, { x: data.testX, y: data.testY, shape: [28, 28], classes: 10 });
  // (28, 28) input into a Conv2D, a leaky ReLU fused into a Conv2D and a Dense: the cases Keras writes differently.
  model = sequential([
    conv2d(4, 3, { activation: 'relu', padding: 'same' }), maxPool2d(), conv2d(6, [3, 3], { activation: leakyRelu(0.2), strides: 2 }),
    flatten(), dense(16, leakyRelu(0.1)), dense(10, 'softmax'),
  ], { inputShape: [28, 28], runtime: rt, seed: 2 });
  model.compile({ optimizer: sgd({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
  await model.fit(train, { epochs: 1, batchSize: 32, seed: 1 });
});

afterAll(async () => {
  model?.dispose();
  train?.dispose();
  test?.dispose();
  rt?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A safetensors reader from the format's description: u64 LE header size, JSON header, raw little-endian data. */
function readSafetensors(bytes: Buffer) {
  const size = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + size).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const { __metadata__: metadata, ...entries } = header;
  const data = bytes.subarray(8 + size);
  const tensors = Object.entries(entries).map(([name, e]) => {
    const values = new Float32Array((e.data_offsets[1] - e.data_offsets[0]) / 4);
    for (let i = 0; i < values.length; i++) values[i] = data.readFloatLE(e.data_offsets[0] + 4 * i);
    return { name, dtype: e.dtype, shape: e.shape, offsets: e.data_offsets, values };
  });
  return { size, metadata: metadata ?? {}, tensors, dataLength: data.length };
}

const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
};

describe('export to safetensors', () => {
  it('writes Keras-named F32 tensors, laid out end to end, with the architecture in the metadata', async () => {
    const path = join(dir, 'model.safetensors');
    expect(await model.export('safetensors', path)).toEqual([path]);
    const file = readSafetensors(await readFile(path));
    expect(file.size % 8).toBe(0);
    expect(file.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['conv2d/kernel', 'F32', [3, 3, 1, 4]], ['conv2d/bias', 'F32', [4]],
      ['conv2d_1/kernel', 'F32', [3, 3, 4, 6]], ['conv2d_1/bias', 'F32', [6]],
      ['dense/kernel', 'F32', [6 * 6 * 6, 16]], ['dense/bias', 'F32', [16]],
      ['dense_1/kernel', 'F32', [16, 10]], ['dense_1/bias', 'F32', [10]],
    ]);
    let end = 0;
    for (const t of file.tensors) {
      expect(t.offsets[0]).toBe(end);
      end = t.offsets[1];
    }
    expect(end).toBe(file.dataLength);
    const weights = await model.getWeights();
    file.tensors.forEach((t, i) => expect(Buffer.from(t.values.buffer).equals(Buffer.from(weights[i]!.values.buffer)), t.name).toBe(true));

    const architecture = JSON.parse(file.metadata.architecture!) as { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
    expect(architecture.class_name).toBe('Sequential');
    expect(architecture.config.layers.map((l) => l.class_name)).toEqual(
      ['Reshape', 'Conv2D', 'MaxPooling2D', 'Conv2D', 'LeakyReLU', 'Flatten', 'Dense', 'LeakyReLU', 'Dense'],
    );
    expect(architecture.config.layers[0]!.config).toMatchObject({ batch_input_shape: [null, 28, 28], target_shape: [28, 28, 1] });
    expect(architecture.config.layers[3]!.config).toMatchObject({ name: 'conv2d_1', filters: 6, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', activation: 'linear' });
    expect(architecture.config.layers[4]!.config).toMatchObject({ alpha: 0.2 });
  });

  it('loads back into shaderprop with the same weights and predictions', async () => {
    const path = join(dir, 'model.safetensors');
    const loaded = await loadSafetensors(path, { runtime: rt });
    try {
      expect(loaded.inputShape).toEqual([28, 28]);
      expect((await loaded.getWeights()).map((w) => `${w.layer}/${w.name}`)).toEqual((await model.getWeights()).map((w) => `${w.layer}/${w.name}`));
      // Uncompiled, it predicts; evaluating or training needs compile.
      expect(maxDifference(await loaded.predict(test), await model.predict(test))).toBeLessThanOrEqual(1e-6);
      await expect(loaded.evaluate(test)).rejects.toThrow(/Call model\.compile/);
    } finally {
      loaded.dispose();
    }
  });

  it('names what is wrong with a damaged file or an architecture it cannot build', async () => {
    const bytes = await readFile(join(dir, 'model.safetensors'));
    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    await expect(loadSafetensors(truncated, { runtime: rt })).rejects.toThrow(/truncated\.safetensors: tensor '[^']+' .*damaged or truncated/);
    await expect(loadSafetensors(new Uint8Array([1, 2, 3]), { runtime: rt })).rejects.toThrow(/not a safetensors file/);
    expect(() => sequentialFromTopology({ class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { units: 4, batch_input_shape: [null, 3, 4] } }] } }, { runtime: rt }, 'lstm.json'))
      .toThrow(/^lstm\.json: layer 1 \(LSTM\): shaderprop has no layer "LSTM"/);
  });
});

describe('export to TensorFlow.js', () => {
  it('writes model.json and weights.bin that tf.loadLayersModel loads and that predict what shaderprop predicts', async () => {
    const folder = join(dir, 'tfjs');
    const written = await model.export('tfjs', folder);
    expect(written.map((p) => p.slice(folder.length + 1))).toEqual(['model.json', 'weights.bin']);
    await tf.setBackend('cpu');
    // What a file:// handler does: model.json, then the weight files its manifest names, beside it.
    const handler: tf.io.IOHandler = {
      load: async () => {
        const json = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
        return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
          const specs = manifest.flatMap((group) => group.weights);
          const buffers = await Promise.all(manifest.flatMap((group) => group.paths.map((p) => readFile(join(dirname(join(folder, 'model.json')), p)))));
          const all = Buffer.concat(buffers);
          return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
        });
      },
    };
    const loaded = await tfl.loadLayersModel(handler);
    const input = tf.tensor3d(testX, [TEST_COUNT, 28, 28]);
    const output = loaded.predict(input) as tf.Tensor;
    const theirs = await output.data();
    const ours = await model.predict(test);
    expect(output.shape).toEqual([TEST_COUNT, 10]);
    expect(maxDifference(theirs, ours)).toBeLessThanOrEqual(1e-5);
    tf.dispose([input, output]);
    loaded.dispose();
  });
});

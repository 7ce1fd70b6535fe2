/**
 * The registry's models in TensorFlow.js (tfjs-layers), trained and run for
 * inference on its webgpu, wasm and cpu backends, so a benchmark can set them
 * beside shaderprop's in one process.
 *
 * - webgpu runs on the GPU object shaderprop's Node platform creates (Dawn, the
 *   same adapter choice: hardware first, SwiftShader when none answers), handed
 *   to TF.js as `navigator.gpu`; TF.js requests its own device on it.
 * - wasm loads its binaries from node_modules, offline: the SIMD build where
 *   WebAssembly SIMD validates. TF.js turns the threaded build off in Node.
 * - cpu is TF.js's plain JavaScript backend.
 *
 * Throughput is samples per second after a warm-up, over at least `seconds`,
 * with the queue drained (the last step's output is read back) inside the
 * timed region. The data are MNIST-shaped random floats in [0, 1) and random
 * labels 0–9, made once outside the timed region: throughput does not depend
 * on pixel values.
 *
 *   node --import ./demo/register.mjs bench/tfjs.ts [--seconds S] [--batch N] [--backends webgpu,wasm,cpu] [--fit] [ids...]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { getPlatform } from '../src/platform/platform.js';

/** The TensorFlow.js version measured (tfjs-core's). */
export const TFJS_VERSION: string = tf.version_core;

export type TfjsBackend = 'webgpu' | 'wasm' | 'cpu';
export const TFJS_BACKENDS: readonly TfjsBackend[] = ['webgpu', 'wasm', 'cpu'];

export type TfjsBackendStatus =
  | { ok: true; backend: TfjsBackend; /** How it runs here: the adapter, the wasm build. */ detail: string }
  | { ok: false; backend: TfjsBackend; reason: string };

// ---------------------------------------------------------------------------
// Models: the registry's entries, layer for layer (Keras defaults: valid
// padding, stride 1, Glorot-uniform kernels, zero biases).

interface TfjsModelSpec {
  /** As the registry gives it: [28, 28] for dense models, [28, 28, 1] for conv models. */
  inputShape: number[];
  /**
   * SGD's learning rate. s004-t4's is its schedule's initial rate, 0.1·0.9^(step/10000):
   * the decay is a scalar per step, under 1% over the steps a benchmark runs.
   */
  learningRate: number;
  layers: () => tfl.layers.Layer[];
}

const L = tfl.layers;

const MODELS = {
  's001-softmax': {
    inputShape: [28, 28], learningRate: 0.01,
    layers: () => [L.flatten(), L.dense({ units: 10, activation: 'softmax' })],
  },
  's001-dense': {
    inputShape: [28, 28], learningRate: 0.01,
    layers: () => [
      L.flatten(), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 64, activation: 'relu' }),
      L.dense({ units: 10, activation: 'softmax' }),
    ],
  },
  's001-cnn': {
    inputShape: [28, 28, 1], learningRate: 0.01,
    layers: () => [
      L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2, strides: 2 }),
      L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 3, strides: 3 }),
      L.flatten(), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 10, activation: 'softmax' }),
    ],
  },
  's004-t4': {
    inputShape: [28, 28, 1], learningRate: 0.1,
    layers: () => [
      L.conv2d({ filters: 32, kernelSize: 5, activation: 'relu' }), L.conv2d({ filters: 32, kernelSize: 5, activation: 'relu' }),
      L.flatten(), L.dense({ units: 10, activation: 'softmax' }),
    ],
  },
} satisfies Record<string, TfjsModelSpec>;

export type TfjsModelId = keyof typeof MODELS;
export const TFJS_MODEL_IDS = Object.keys(MODELS) as TfjsModelId[];

function spec(id: string): TfjsModelSpec {
  const found = (MODELS as Record<string, TfjsModelSpec>)[id];
  if (!found) throw new Error(`No TF.js model for '${id}'. TF.js models: ${TFJS_MODEL_IDS.join(', ')}.`);
  return found;
}

/** The registry's input shape for this id (without the batch axis). */
export function tfjsInputShape(id: string): number[] {
  return [...spec(id).inputShape];
}

/**
 * The model, compiled as the registry trains it: SGD, sparse categorical
 * cross-entropy on the softmax output. Its weights live on the active backend;
 * dispose it with `disposeModel`. (Built as a graph of the layers in order,
 * which computes what a tf.sequential does and exposes the compiled loss.)
 */
export function tfjsModel(id: string): tfl.LayersModel {
  const s = spec(id);
  const input = tfl.input({ shape: s.inputShape });
  const output = s.layers().reduce<tfl.SymbolicTensor>((x, layer) => layer.apply(x) as tfl.SymbolicTensor, input);
  const model = tfl.model({ name: id, inputs: input, outputs: output });
  model.compile({ optimizer: tf.train.sgd(s.learningRate), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

/** One layer as a summary shows it: Keras class name, output shape, activation, weight shapes. */
export interface TfjsLayerRow {
  type: string;
  outputShape: number[];
  activation: string;
  weightShapes: number[][];
}

/** Ensures some backend is ready (cpu when none was chosen), for work outside a benchmark. */
async function anyBackend(): Promise<void> {
  if (tf.engine().backendName) return;
  const status = await tfjsBackend('cpu');
  if (!status.ok) throw new Error(status.reason);
}

/** The model's layers (its weights are made and freed again on the active backend, or cpu). */
export async function tfjsSummary(id: string): Promise<TfjsLayerRow[]> {
  await anyBackend();
  const model = tfjsModel(id);
  try {
    return model.layers.filter((layer) => layer.getClassName() !== 'InputLayer').map((layer) => {
      const shape = layer.outputShape as (number | null)[];
      const activation = (layer.getConfig() as { activation?: unknown }).activation;
      return {
        type: layer.getClassName(),
        outputShape: shape.slice(1) as number[],
        activation: typeof activation === 'string' ? activation : 'linear',
        weightShapes: layer.weights.map((w) => [...w.shape] as number[]),
      };
    });
  } finally {
    disposeModel(model);
  }
}

/** The TF.js model's parameter count. */
export async function tfjsParamCount(id: string): Promise<number> {
  await anyBackend();
  const model = tfjsModel(id);
  try {
    return model.countParams();
  } finally {
    disposeModel(model);
  }
}

export function disposeModel(model: tfl.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

/**
 * One SGD step on (x, y), the way `fit` takes it: the compiled loss, averaged
 * over the batch, minimised over the model's trainable weights only. Returns
 * the loss before the update (the caller disposes it).
 */
export function tfjsTrainStep(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const lossFunction = model.lossFunctions[0];
  if (!lossFunction) throw new Error('Compile the model before training it.');
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const cost = model.optimizer.minimize(() => tf.mean(lossFunction(y, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true, variables);
  if (!cost) throw new Error('The optimizer returned no loss.');
  return cost;
}

// ---------------------------------------------------------------------------
// Backends

const statuses = new Map<TfjsBackend, Promise<TfjsBackendStatus>>();

/**
 * Makes `name` TF.js's active backend, setting it up on first use. Resolves to
 * `{ ok: false, reason }` when it cannot run here.
 */
export async function tfjsBackend(name: TfjsBackend): Promise<TfjsBackendStatus> {
  let setup = statuses.get(name);
  if (!setup) {
    setup = setUp(name).catch((error: unknown) => ({ ok: false as const, backend: name, reason: message(error) }));
    statuses.set(name, setup);
  }
  const status = await setup;
  if (status.ok && tf.getBackend() !== name && !(await tf.setBackend(name))) {
    return { ok: false, backend: name, reason: `tf.setBackend('${name}') failed after a successful setup.` };
  }
  return status;
}

async function setUp(name: TfjsBackend): Promise<TfjsBackendStatus> {
  if (name === 'webgpu') await provideNavigatorGpu();
  if (name === 'wasm') {
    // Loaded (and registered) only when asked for: a benchmark kit may carry the other backends alone.
    let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
    try {
      wasm = await import('@tensorflow/tfjs-backend-wasm');
    } catch (error) {
      return { ok: false, backend: name, reason: `@tensorflow/tfjs-backend-wasm is not installed here (${String(error).split('\n')[0]})` };
    }
    wasm.setWasmPaths(wasmFolder());
  }
  // setBackend logs and returns false when the backend's factory fails; keep the reason.
  const logged: string[] = [];
  const originalWarn = console.warn;
  const originalError = console.error;
  console.warn = console.error = (...args: unknown[]) => void logged.push(args.map(message).join(' '));
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    // A first op proves the backend computes (and lets the cpu backend say its one-time tfjs-node hint here, unprinted).
    if (ok) {
      const sum = tf.add(tf.scalar(1), tf.scalar(2));
      const value = (await sum.data())[0];
      sum.dispose();
      if (value !== 3) return { ok: false, backend: name, reason: `1 + 2 gave ${value} on TF.js's ${name} backend.` };
    }
  } finally {
    console.warn = originalWarn;
    console.error = originalError;
  }
  if (!ok) return { ok: false, backend: name, reason: logged.join('; ') || `tf.setBackend('${name}') returned false.` };
  return { ok: true, backend: name, detail: await describeBackend(name) };
}

/**
 * TF.js's webgpu backend reads `navigator.gpu`: give it the GPU of shaderprop's
 * Node platform (which loads Dawn, copies GPUBufferUsage & co. onto globalThis,
 * and picks SwiftShader's ICD only when no hardware adapter answers). The
 * backend registers itself on import only if `navigator.gpu` is there, hence
 * the import after it.
 */
async function provideNavigatorGpu(): Promise<void> {
  const gpu = await (await getPlatform()).gpu();
  const global = globalThis as { navigator?: { gpu?: GPU } };
  if (!global.navigator) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (global.navigator.gpu !== gpu) {
    Object.defineProperty(global.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!tf.findBackendFactory('webgpu')) throw new Error('The TF.js webgpu backend did not register (navigator.gpu was missing when it loaded).');
}

function wasmFolder(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

async function describeBackend(name: TfjsBackend): Promise<string> {
  if (name === 'webgpu') {
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const text = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ');
    const name = text.toLowerCase().includes('swiftshader') ? 'SwiftShader' : text || 'unknown adapter';
    return `${name} (${text || 'no adapter info'}), Dawn via shaderprop's platform`;
  }
  if (name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const build = simd && threads ? 'threaded-simd' : simd ? 'simd' : 'plain';
    return `tfjs-backend-wasm-${build}.wasm${threads ? '' : ', one thread (TF.js disables threads in Node)'}`;
  }
  return 'JavaScript';
}

function message(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0]!;
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message).split('\n')[0]!;
  return String(error);
}

// ---------------------------------------------------------------------------
// Throughput

export type TfjsMeasurement =
  | { samplesPerSecond: number; steps: number; seconds: number }
  | { samplesPerSecond: null; reason: string };

export interface TfjsMeasureOptions {
  /** Train through `model.fit` (one epoch over the batches per call) instead of an optimizer loop. */
  fit?: boolean;
  /** Distinct batches cycled through (default 8). */
  batches?: number;
}

/** MNIST-shaped random data, `count` batches: x in [0, 1), y integer labels 0–9 (as floats, as Keras takes them). */
function randomBatches(id: string, batch: number, count: number): { x: tf.Tensor[]; y: tf.Tensor[] } {
  const shape = spec(id).inputShape;
  return tf.tidy(() => {
    const x = tf.randomUniform([count * batch, ...shape], 0, 1, 'float32', 1);
    const y = tf.floor(tf.randomUniform([count * batch], 0, 10, 'float32', 2));
    return { x: tf.split(x, count), y: tf.split(y, count) };
  });
}

/**
 * Times `run(steps)` (which returns a tensor to read back), growing `steps`
 * until one run lasts `seconds`; one warm-up run first.
 */
async function timeSteps(run: (steps: number) => tf.Tensor, batch: number, seconds: number, warmup = 1): Promise<TfjsMeasurement> {
  const once = async (steps: number): Promise<number> => {
    const started = performance.now();
    const last = run(steps);
    await last.data();
    const elapsed = (performance.now() - started) / 1000;
    last.dispose();
    return elapsed;
  };
  await once(warmup);
  let steps = 1;
  for (;;) {
    const elapsed = await once(steps);
    if (elapsed >= seconds) return { samplesPerSecond: (steps * batch) / elapsed, steps, seconds: elapsed };
    steps = Math.ceil(steps * Math.max(2, (1.2 * seconds) / Math.max(elapsed, 1e-3)));
  }
}

/** Training or inference throughput of one model on one backend, or why it cannot run. */
export async function tfjsMeasure(
  kind: 'train' | 'infer', id: string, backend: TfjsBackend, batch: number, seconds: number, options: TfjsMeasureOptions = {},
): Promise<TfjsMeasurement> {
  const status = await tfjsBackend(backend);
  if (!status.ok) return { samplesPerSecond: null, reason: status.reason };
  const count = options.batches ?? 8;
  const model = tfjsModel(id);
  const data = randomBatches(id, batch, count);
  try {
    if (kind === 'infer') {
      return await timeSteps((steps) => {
        let out: tf.Tensor | undefined;
        for (let i = 0; i < steps; i++) {
          out?.dispose();
          out = model.predictOnBatch(data.x[i % count]!) as tf.Tensor;
        }
        return out!;
      }, batch, seconds);
    }
    if (options.fit) {
      // Keras's way: one epoch over the `count` batches per epoch (in order), the
      // loss read back at its end. Warm-up on one batch; whole epochs timed.
      const x = tf.concat(data.x);
      const y = tf.concat(data.y);
      try {
        await model.fit(data.x[0]!, data.y[0]!, { batchSize: batch, epochs: 1, verbose: 0 });
        for (let epochs = 1; ; ) {
          const started = performance.now();
          await model.fit(x, y, { batchSize: batch, epochs, shuffle: false, verbose: 0 });
          const elapsed = (performance.now() - started) / 1000;
          if (elapsed >= seconds) return { samplesPerSecond: (epochs * count * batch) / elapsed, steps: epochs * count, seconds: elapsed };
          epochs = Math.ceil(epochs * Math.max(2, (1.2 * seconds) / Math.max(elapsed, 1e-3)));
        }
      } finally {
        tf.dispose([x, y]);
      }
    }
    return await timeSteps((steps) => {
      let loss: tf.Scalar | undefined;
      for (let i = 0; i < steps; i++) {
        loss?.dispose();
        loss = tfjsTrainStep(model, data.x[i % count]!, data.y[i % count]!);
      }
      return loss!;
    }, batch, seconds);
  } catch (error) {
    return { samplesPerSecond: null, reason: message(error) };
  } finally {
    disposeModel(model);
    tf.dispose([...data.x, ...data.y]);
  }
}

/** Samples/s of training (SGD steps, GPU work included), or null when this backend cannot train the model. */
export async function tfjsTrainThroughput(id: string, backend: TfjsBackend, batch: number, seconds: number): Promise<number | null> {
  return (await tfjsMeasure('train', id, backend, batch, seconds)).samplesPerSecond;
}

/** Samples/s of `predictOnBatch`, or null when this backend cannot run the model. */
export async function tfjsInferThroughput(id: string, backend: TfjsBackend, batch: number, seconds: number): Promise<number | null> {
  return (await tfjsMeasure('infer', id, backend, batch, seconds)).samplesPerSecond;
}

// ---------------------------------------------------------------------------
// CLI

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '2' },
      batch: { type: 'string', default: '32' },
      backends: { type: 'string', default: TFJS_BACKENDS.join(',') },
      fit: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const batch = Number(values.batch);
  if (!(seconds >= 0) || !Number.isInteger(batch) || batch < 1) throw new Error('--seconds takes a number ≥ 0 and --batch a positive integer.');
  const ids = positionals.length ? positionals : TFJS_MODEL_IDS;
  for (const id of ids) spec(id);
  const backends = values.backends.split(',').map((b) => b.trim()) as TfjsBackend[];
  for (const b of backends) if (!TFJS_BACKENDS.includes(b)) throw new Error(`Unknown backend '${b}'; TF.js backends: ${TFJS_BACKENDS.join(', ')}.`);

  console.log(`TF.js ${tf.version_core}, batch ${batch}, at least ${seconds} s per number, training by ${values.fit ? 'model.fit' : 'optimizer.minimize'}`);
  const notes: string[] = [];
  const rows: string[][] = [];
  for (const backend of backends) {
    const status = await tfjsBackend(backend);
    console.log(status.ok ? `${backend}: ${status.detail}` : `${backend}: unavailable: ${status.reason}`);
    if (!status.ok) continue;
    for (const id of ids) {
      const cells = [id, backend];
      for (const kind of ['train', 'infer'] as const) {
        const result = await tfjsMeasure(kind, id, backend, batch, seconds, { fit: values.fit });
        if (result.samplesPerSecond === null) {
          notes.push(`${id} ${kind} on ${backend}: ${result.reason}`);
          cells.push(`— [${notes.length}]`);
        } else {
          cells.push(result.samplesPerSecond.toLocaleString('en-US', { maximumFractionDigits: result.samplesPerSecond < 100 ? 1 : 0 }));
        }
      }
      rows.push(cells);
      console.log(`  ${id}: train ${cells[2]}, infer ${cells[3]} samples/s`);
    }
  }
  const headers = ['model', 'backend', 'train samples/s', 'infer samples/s'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(['', line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  notes.forEach((note, i) => console.log(`[${i + 1}] ${note}`));
  // Dawn keeps the event loop alive while a device exists.
  process.exit(0);
}

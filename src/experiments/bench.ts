/**
 * Throughput of a registry model on this runtime's adapter: training samples/s
 * (fit: gather, forward, loss, backward and optimizer, all on the GPU) and
 * inference samples/s (predict, read-back included), each timed after a
 * warm-up pass that builds every pipeline, and over passes grown until one lasts
 * `seconds`.
 *
 * The images are MNIST-shaped random bytes and the labels cycle through the
 * classes: the kernels do the same work whatever the pixels are, and no MNIST
 * files are needed.
 */
import { Dataset } from '../data/dataset.js';
import { Rng } from '../data/random.js';
import type { Runtime } from '../gpu/runtime.js';
import { sequential, type FitStats } from '../model/sequential.js';
import { getExperiment, type NeuralExperiment } from './registry.js';

export interface Throughput {
  id: string;
  batch: number;
  /** Training samples per second. */
  train: number;
  /** Inference samples per second. */
  infer: number;
  /** Seconds the timed training pass lasted, and its samples (for the record). */
  trainSeconds: number;
  trainSamples: number;
  /** Seconds from the first `fit` to its first step (pipelines, kernel tuning), and the tuning part of it. */
  startupSeconds: number;
  tuningSeconds: number;
  /** Dispatches of one training step. */
  dispatchesPerStep: number;
  /** The variant chosen for each kernel family and shape this model ran, and how it was chosen. */
  variants: { family: string; shape: string; variant: string; how: string; clock?: string }[];
}

export interface ThroughputOptions {
  batch?: number;
  /** Minimum length of each timed pass (default 3 s). */
  seconds?: number;
  /** Largest data set the passes may grow to (default 60,000 samples). */
  maxSamples?: number;
}

/** The neural experiment of `id`, or an error that says which ids can be benchmarked. */
export function benchExperiment(id: string): NeuralExperiment {
  const e = getExperiment(id);
  if (e.kind !== 'neural') {
    throw new Error(`'${id}' is a ${e.kind === 'sweep' ? 'sweep of models' : 'classic baseline'}, not one model: ` +
      'bench takes the ids of single neural models (`shaderprop list` marks the others).');
  }
  return e;
}

/**
 * `count` MNIST-shaped samples of random bytes scaled to [0, 1], in `shape`
 * ((28, 28) or (28, 28, 1)); labels 0..9 in turn, or 0, 1 in turn for a binary model.
 */
export function randomMnistLike(rt: Runtime, count: number, options: { shape?: number[]; binary?: boolean; seed?: number } = {}): Dataset {
  const seed = options.seed ?? 1;
  const rng = new Rng(seed).fork('bytes');
  const x = Uint8Array.from({ length: count * 784 }, () => rng.nextU32() >>> 24);
  const classes = options.binary ? 2 : 10;
  const y = Uint8Array.from({ length: count }, (_, i) => i % classes);
  return Dataset.create(rt, { x, y, shape: options.shape ?? [28, 28, 1], classes, name: 'mnist-shaped random bytes' },
    { preprocessing: { kind: 'scale', scale: 1 / 255 } });
}

/**
 * Times `pass(data)` on data sets grown (in whole batches) until one pass lasts
 * `seconds` or the set reaches `maxSamples`; the first, smallest pass is the
 * warm-up. Returns samples/s of the last pass.
 */
async function timed(
  make: (count: number) => Dataset, batch: number, seconds: number, maxSamples: number, pass: (data: Dataset) => Promise<unknown>,
): Promise<{ perSecond: number; seconds: number; samples: number }> {
  // The largest set: maxSamples rounded down to whole batches (at least one).
  const cap = Math.max(batch, Math.floor(maxSamples / batch) * batch);
  let samples = Math.min(batch * 2, cap);
  let data = make(samples);
  try {
    await pass(data);
    for (;;) {
      const started = performance.now();
      await pass(data);
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= seconds || samples >= cap) return { perSecond: samples / elapsed, seconds: elapsed, samples };
      const grown = Math.ceil((samples * Math.max(2, (1.2 * seconds) / Math.max(elapsed, 1e-3))) / batch) * batch;
      samples = Math.min(cap, grown);
      data.dispose();
      data = make(samples);
    }
  } finally {
    data.dispose();
  }
}

/** Training and inference throughput of registry model `id` (its layers, optimizer and loss). */
export async function measureThroughput(rt: Runtime, id: string, options: ThroughputOptions = {}): Promise<Throughput> {
  const e = benchExperiment(id);
  const batch = options.batch ?? e.train.batchSize;
  const seconds = options.seconds ?? 3;
  const maxSamples = options.maxSamples ?? 60_000;
  // Conv models read (28, 28, 1), dense ones (28, 28): the same 784 values per sample.
  const model = sequential(e.train.layers(), { runtime: rt, inputShape: e.train.inputShape, name: e.id, seed: 1 });
  model.compile({ optimizer: e.train.optimizer(), loss: e.train.loss });
  const make = (count: number) => randomMnistLike(rt, count, { shape: e.train.inputShape, binary: e.train.binaryDigit !== undefined });
  try {
    const mark = rt.tuner.calls;
    let first: FitStats | undefined;
    const train = await timed(make, batch, seconds, maxSamples, async (data) => {
      await model.fit(data, { epochs: 1, batchSize: batch });
      first ??= model.lastFitStats;
    });
    const infer = await timed(make, batch, seconds, maxSamples, (data) => model.predict(data, { batchSize: batch }));
    const variants = rt.tuner.usedSince(mark).map((c) => ({ family: c.family, shape: c.shape, variant: c.variant, how: c.how, ...(c.clock ? { clock: c.clock } : {}) }));
    return {
      id, batch, train: train.perSecond, infer: infer.perSecond, trainSeconds: train.seconds, trainSamples: train.samples,
      startupSeconds: first?.startupSeconds ?? NaN, tuningSeconds: first?.tuningSeconds ?? 0, dispatchesPerStep: first?.dispatchesPerStep ?? 0,
      variants,
    };
  } finally {
    model.dispose();
  }
}

/** A rate for tables: thousands separated from 100 up, 3 significant digits below; '—' for none. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

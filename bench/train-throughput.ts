/**
 * Training throughput (samples/s, GPU work included) of the s001-dense and
 * s001-cnn models at batch 32, and the GFLOP/s of the dense GEMM kernel, on
 * this machine's adapter, beside the adapter's ceilings: its register-only FMA
 * throughput and the cost of one dispatch (shaders/peak.wgsl). MNIST-shaped
 * random bytes stand in for the images: throughput does not depend on pixel
 * values.
 *
 *   npm run bench [-- --json] [-- --out FILE]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { conv2d, createRuntime, Dataset, dense, flatten, maxPool2d, sequential, sgd, type Layer } from '../src/index.js';
import { denseForward } from '../src/ops/dense.js';
import { fmaPeak, noop, peakFlopsPerThread } from '../src/ops/peak.js';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, out: { type: 'string' } } });
const rt = await createRuntime();

function mnistLike(count: number): Dataset {
  const x = new Uint8Array(count * 784);
  let state = 1;
  for (let i = 0; i < x.length; i++) x[i] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  const y = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return Dataset.create(rt, { x, y, shape: [28, 28, 1], classes: 10, name: 'mnist-shaped' }, { preprocessing: { kind: 'scale', scale: 1 / 255 } });
}

const MODELS: Record<string, () => Layer[]> = {
  's001-dense': () => [flatten(), dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')],
  's001-cnn': () => [conv2d(32, 3, { activation: 'relu' }), maxPool2d({ poolSize: 2 }), conv2d(64, 3, { activation: 'relu' }),
    maxPool2d({ poolSize: 3 }), flatten(), dense(128, 'relu'), dense(10, 'softmax')],
};

/** Samples per second of fit, timed over `seconds` after one warm-up epoch. */
async function trainThroughput(id: string, batch: number, seconds: number): Promise<number> {
  const model = sequential(MODELS[id]!(), { runtime: rt, inputShape: [28, 28, 1] });
  model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
  // Warm-up: pipelines built, caches hot. Then grow the epoch until it lasts long enough.
  let samples = batch * 4;
  let data = mnistLike(samples);
  await model.fit(data, { epochs: 1, batchSize: batch });
  for (;;) {
    const started = performance.now();
    await model.fit(data, { epochs: 1, batchSize: batch });
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= seconds || samples >= 60_000) {
      model.dispose();
      data.dispose();
      return samples / elapsed;
    }
    data.dispose();
    samples = Math.min(60_000, Math.ceil((samples * Math.max(2, (seconds * 1.2) / elapsed)) / batch) * batch);
    data = mnistLike(samples);
  }
}

/** GFLOP/s of dense_forward on (M, K) · (K, N). */
async function gemm(m: number, k: number, n: number): Promise<number> {
  const a = rt.storage(m * k * 4, 'A');
  const b = rt.storage(k * n * 4, 'B');
  const bias = rt.storage(n * 4, 'bias');
  const c = rt.storage(m * n * 4, 'C');
  const d = await denseForward(rt, { batch: m, inputs: k, units: n }, { name: 'linear' }, { inp: a, weight: b, bias, out: c });
  rt.submit([d]);
  await rt.sync();
  let repeat = 1;
  for (;;) {
    const started = performance.now();
    rt.submit([d], repeat);
    await rt.sync();
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > 1) {
      for (const buffer of [a, b, bias, c]) rt.pool.release(buffer);
      return (2 * m * k * n * repeat) / elapsed / 1e9;
    }
    repeat *= 2;
  }
}

/** Times `submit(d, repeat)`, doubling `repeat` until one run lasts `seconds`; returns seconds per repeat. */
async function timeRepeated(d: Parameters<typeof rt.submit>[0], seconds: number): Promise<number> {
  rt.submit(d);
  await rt.sync();
  for (let repeat = 1; ; repeat *= 2) {
    const started = performance.now();
    rt.submit(d, repeat);
    await rt.sync();
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > seconds) return elapsed / repeat;
  }
}

/** GFLOP/s of the register-only FMA loop over 262,144 threads: the adapter's arithmetic ceiling. */
async function peakGflops(): Promise<number> {
  const threads = 262_144;
  const iterations = 256;
  const coeffs = rt.storage(new Float32Array([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]), 'coeffs');
  const out = rt.storage(threads * 4, 'out');
  const perRun = await timeRepeated([await fmaPeak(rt, threads, iterations, { coeffs, out })], 1);
  rt.pool.release(coeffs);
  rt.pool.release(out);
  return (threads * peakFlopsPerThread(iterations)) / perRun / 1e9;
}

/** Microseconds per dispatch of a kernel that does nothing, 1,000 to a pass. */
async function dispatchMicros(): Promise<number> {
  const d = await noop(rt);
  return ((await timeRepeated(Array.from({ length: 1000 }, () => d), 0.5)) / 1000) * 1e6;
}

const results = {
  date: new Date().toISOString().slice(0, 10),
  adapter: rt.adapter.name,
  adapterDescription: rt.adapter.description,
  train: {} as Record<string, number>,
  gemmGflops: {} as Record<string, number>,
  peakGflops: 0,
  dispatchMicroseconds: 0,
};
results.peakGflops = await peakGflops();
results.dispatchMicroseconds = await dispatchMicros();
if (!values.json) {
  console.log(`adapter ceiling: ${results.peakGflops.toFixed(2)} GFLOP/s (register-only FMA loop), ${results.dispatchMicroseconds.toFixed(1)} µs per dispatch`);
}
for (const id of Object.keys(MODELS)) {
  results.train[`${id} b32`] = await trainThroughput(id, 32, id === 's001-cnn' ? 8 : 4);
  if (!values.json) console.log(`${id.padEnd(12)} batch 32: ${results.train[`${id} b32`]!.toFixed(0)} samples/s training`);
}
for (const [m, k, n] of [[32, 784, 128], [32, 128, 64], [1024, 1024, 1024]] as const) {
  results.gemmGflops[`${m}x${k}x${n}`] = await gemm(m, k, n);
  const gflops = results.gemmGflops[`${m}x${k}x${n}`]!;
  if (!values.json) console.log(`GEMM ${m}×${k}×${n}: ${gflops.toFixed(2)} GFLOP/s, ${((100 * gflops) / results.peakGflops).toFixed(0)}% of the ceiling`);
}
if (values.json) console.log(JSON.stringify(results));
else console.log(`adapter: ${results.adapter} (${results.adapterDescription}), ${results.date}`);
if (values.out) await writeFile(values.out, JSON.stringify(results, null, 2));
rt.destroy();

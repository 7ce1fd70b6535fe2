/**
 * The benchmark, in one run on this machine's adapter:
 *
 *  1. the adapter's ceilings: a register-only FMA loop (shaders/peak.wgsl) and
 *     the cost of an empty dispatch;
 *  2. GEMM GFLOP/s of every variant of the dense kernel families (the three
 *     products of a layer) at the shapes of s001-dense, at 1024³ and, on a
 *     GPU, 4096³, and of the conv families at the shapes of s001-cnn and
 *     s004-t4; 'auto' is what the tuner chose on this adapter;
 *  3. where one training step's time goes, per kernel, from timestamp queries;
 *  4. training and inference samples/s of s001-softmax, s001-dense, s001-cnn
 *     and s004-t4 at batch 32 and 128, beside the same models in TensorFlow.js
 *     (webgpu on the same Dawn adapter, wasm, cpu), and the ratios; shaderprop
 *     also with its shaders compiled without Dawn's bounds checks (a runtime of
 *     its own, `boundsChecks: false`), measured in the same rounds.
 *
 *   npm run bench [-- --json] [-- --out FILE] [-- --quick] [-- --seconds S] [-- --rounds R] [-- --no-tfjs]
 *                 [-- --tfjs-backends webgpu,wasm,cpu] [-- --no-unchecked] [-- --models ID,ID] [-- --no-profile]
 *                 [-- --kernel-seconds S]   (length of each kernel measurement, default 0.5; 0.1 with --quick)
 *
 * The models are measured in R rounds (default 3; 1 with --quick), each round
 * shaderprop then every TensorFlow.js backend, back to back, and each column is
 * the median of its rounds: the machine's speed drifts over minutes, and
 * interleaving lets both sides of a ratio see the same drift.
 *
 * Writes the results to --out (default bench/results-<adapter>.json) and
 * prints them as Markdown tables (docs/benchmarks.md's are copied from a run).
 */
import { writeFile } from 'node:fs/promises';
import { cpus, platform, release as osRelease } from 'node:os';
import { parseArgs } from 'node:util';
import { createRuntime } from '../src/index.js';
import { benchExperiment, formatRate, measureThroughput, randomMnistLike } from '../src/experiments/bench.js';
import { sequential } from '../src/model/sequential.js';
import { DENSE_BACKWARD_INPUT, DENSE_BACKWARD_WEIGHT, DENSE_FORWARD, denseBackwardInputList, denseBackwardWeightList, denseForwardList, type GemmVariant } from '../src/ops/dense.js';
import {
  CONV2D_BACKWARD_INPUT, CONV2D_BACKWARD_WEIGHT, CONV2D_FORWARD, conv2dBackwardInputList, conv2dBackwardWeightList, conv2dForwardList, conv2dGeometry,
  type Conv2dShape,
} from '../src/ops/conv2d.js';
import { applicableVariants, type KernelFamily } from '../src/ops/family.js';
import { isCpuAdapter } from '../src/gpu/features.js';
import { fmaPeak, noop, peakFlopsPerThread } from '../src/ops/peak.js';
import type { Dispatch, Runtime } from '../src/gpu/runtime.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' }, out: { type: 'string' }, quick: { type: 'boolean' }, seconds: { type: 'string' }, rounds: { type: 'string' },
    'no-tfjs': { type: 'boolean' }, 'tfjs-backends': { type: 'string' }, 'no-unchecked': { type: 'boolean' }, models: { type: 'string' },
    'no-profile': { type: 'boolean' }, 'kernel-seconds': { type: 'string' },
  },
});
const quick = !!values.quick;
const seconds = Number(values.seconds ?? (quick ? 0.3 : 2));
const rounds = Math.max(1, Math.round(Number(values.rounds ?? (quick ? 1 : 3))));
if (!Number.isFinite(rounds)) throw new Error(`--rounds must be a whole number, got '${values.rounds}'.`);
const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
const rt = await createRuntime();

// ---------------------------------------------------------------------------
// Timing helpers

/** Seconds per run of `dispatches`, repeated in one submit until a run of repeats lasts `min` seconds. */
async function perRun(dispatches: readonly Dispatch[], min = Number(values['kernel-seconds'] ?? (quick ? 0.1 : 0.5))): Promise<number> {
  rt.submit(dispatches);
  await rt.sync();
  for (let repeat = 1; ; repeat *= 2) {
    const started = performance.now();
    rt.submit(dispatches, repeat);
    await rt.sync();
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > min) return elapsed / repeat;
  }
}

function release(...buffers: GPUBuffer[]): void {
  for (const b of buffers) rt.pool.release(b);
}

// ---------------------------------------------------------------------------
// 1. Ceilings

async function peakGflops(): Promise<number> {
  const threads = 262_144;
  const iterations = 256;
  const coeffs = rt.storage(new Float32Array([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]), 'coeffs');
  const out = rt.storage(threads * 4, 'out');
  const seconds = await perRun([await fmaPeak(rt, threads, iterations, { coeffs, out })], 1);
  release(coeffs, out);
  return (threads * peakFlopsPerThread(iterations)) / seconds / 1e9;
}

async function dispatchMicros(): Promise<number> {
  const d = await noop(rt);
  return ((await perRun(Array.from({ length: 1000 }, () => d))) / 1000) * 1e6;
}

// ---------------------------------------------------------------------------
// 2. Kernels

interface KernelRate {
  kernel: string;
  shape: string;
  variant: string;
  gflops: number;
}

/** Scratch for the variants that need it (split K, partial sums), released after the measurement. */
function scratchPool(): { alloc: (elements: number, name: string) => GPUBuffer; release(): void } {
  const held: GPUBuffer[] = [];
  return {
    alloc: (elements, name) => {
      const b = rt.storage(Math.max(4, elements * 4), name);
      held.push(b);
      return b;
    },
    release: () => release(...held.splice(0)),
  };
}

/** 'auto' (the tuner's choice on this adapter, named in the result) and then every variant that applies. */
function variantsOf<S>(family: KernelFamily<S, never>, s: S): string[] {
  return ['auto', ...applicableVariants(rt, family as unknown as KernelFamily<S, never>, s, true).map((v) => v.name)];
}

function chosen(family: string): string {
  const last = [...rt.tuner.choices.values()].filter((c) => c.family === family).pop();
  return last ? `auto (${last.variant})` : 'auto';
}

async function denseRates(batch: number, inputs: number, units: number): Promise<KernelRate[]> {
  const s = { batch, inputs, units };
  const x = rt.storage(batch * inputs * 4, 'x');
  const w = rt.storage(inputs * units * 4, 'w');
  const b = rt.storage(units * 4, 'b');
  const y = rt.storage(batch * units * 4, 'y');
  const dx = rt.storage(batch * inputs * 4, 'dx');
  const dw = rt.storage(inputs * units * 4, 'dw');
  const flops = 2 * batch * inputs * units;
  const shape = `${batch}×${inputs}×${units}`;
  const rates: KernelRate[] = [];
  const scratch = scratchPool();
  const products: [string, KernelFamily<never, never>, (variant: GemmVariant) => Promise<Dispatch[]>][] = [
    ['dense forward (Y = X·W)', DENSE_FORWARD as never, (variant) => denseForwardList(rt, s, { name: 'relu' }, { inp: x, weight: w, bias: b, out: y }, 'f', { variant, alloc: scratch.alloc })],
    ['dense dX = dY·Wᵀ', DENSE_BACKWARD_INPUT as never, (variant) => denseBackwardInputList(rt, s, { dout: y, weight: w, dinp: dx }, 'dx', { variant, alloc: scratch.alloc })],
    ['dense dW = Xᵀ·dY', DENSE_BACKWARD_WEIGHT as never, (variant) => denseBackwardWeightList(rt, s, { inp: x, dout: y, dweight: dw }, 'dw', { variant, alloc: scratch.alloc })],
  ];
  for (const [kernel, family, record] of products) {
    for (const variant of variantsOf(family, { shape: s } as never)) {
      const list = await record(variant as GemmVariant);
      rates.push({ kernel, shape, variant: variant === 'auto' ? chosen(family.name) : variant, gflops: flops / (await perRun(list)) / 1e9 });
    }
  }
  scratch.release();
  release(x, w, b, y, dx, dw);
  return rates;
}

async function convRates(name: string, s: Conv2dShape): Promise<KernelRate[]> {
  const g = conv2dGeometry(s);
  const nIn = s.batch * s.inH * s.inW * s.inC;
  const nOut = s.batch * g.outH * g.outW * s.outC;
  const nW = s.kH * s.kW * s.inC * s.outC;
  const x = rt.storage(nIn * 4, 'x');
  const w = rt.storage(nW * 4, 'w');
  const b = rt.storage(s.outC * 4, 'b');
  const y = rt.storage(nOut * 4, 'y');
  const dx = rt.storage(nIn * 4, 'dx');
  const dw = rt.storage(nW * 4, 'dw');
  const flops = 2 * s.batch * g.outH * g.outW * nW;
  const shape = `${name}: B${s.batch} ${s.inH}×${s.inW}×${s.inC} → ${s.outC}, ${s.kH}×${s.kW}`;
  const rates: KernelRate[] = [];
  const scratch = scratchPool();
  const products: [string, KernelFamily<never, never>, (variant: string) => Promise<Dispatch[]>][] = [
    ['conv forward', CONV2D_FORWARD as never, (variant) => conv2dForwardList(rt, s, { name: 'relu' }, { inp: x, weight: w, bias: b, out: y }, 'f', { variant, alloc: scratch.alloc })],
    ['conv backward weight', CONV2D_BACKWARD_WEIGHT as never, (variant) => conv2dBackwardWeightList(rt, s, { inp: x, dout: y, dweight: dw }, 'dw', { variant, alloc: scratch.alloc })],
  ];
  // A first layer (one input channel) has no input gradient in a model; measured all the same where a variant applies.
  products.splice(1, 0, ['conv backward input', CONV2D_BACKWARD_INPUT as never,
    (variant) => conv2dBackwardInputList(rt, s, { dout: y, weight: w, dinp: dx }, 'dx', { variant, alloc: scratch.alloc })]);
  for (const [kernel, family, record] of products) {
    for (const variant of variantsOf(family, { shape: s } as never)) {
      const list = await record(variant);
      rates.push({ kernel, shape, variant: variant === 'auto' ? chosen(family.name) : variant, gflops: flops / (await perRun(list)) / 1e9 });
    }
  }
  scratch.release();
  release(x, w, b, y, dx, dw);
  return rates;
}

// ---------------------------------------------------------------------------
// 3. Where a step's time goes

interface StepProfile {
  id: string;
  batch: number;
  totalMs: number;
  dispatches: number;
  /** Milliseconds per kind of kernel, largest first. */
  byKind: { kind: string; ms: number; count: number }[];
}

function kindOf(kernelName: string): string {
  if (kernelName.startsWith('conv2d_igemm')) return 'conv (implicit GEMM, workgroup tiles)';
  if (kernelName.startsWith('conv2d_quad')) return 'conv (quad)';
  if (kernelName.startsWith('conv2d_gemm')) return 'conv (implicit GEMM)';
  if (kernelName.startsWith('conv2d')) return 'conv (direct)';
  if (kernelName.startsWith('dense_quad')) return 'dense GEMM (quad)';
  if (kernelName.startsWith('dense_tiled')) return 'dense GEMM (tiled)';
  if (kernelName.startsWith('dense')) return 'dense GEMM (general)';
  if (kernelName.startsWith('gemm_reduce')) return 'dense GEMM (split-K sums)';
  if (kernelName.startsWith('gemm')) return 'dense GEMM (workgroup tiles)';
  if (kernelName.startsWith('maxpool') || kernelName.startsWith('avgpool')) return 'pooling';
  if (kernelName.startsWith('activation') || kernelName.startsWith('softmax_forward') || kernelName.startsWith('softmax_backward')) return 'activations';
  if (kernelName === 'bias_backward') return 'bias gradients and partial sums';
  if (kernelName.startsWith('gather') || kernelName === 'advance_step') return 'batch gather and step';
  if (kernelName.endsWith('_step')) return 'optimizer';
  if (kernelName.includes('cross_entropy') || kernelName.includes('squared_error')) return 'loss (fused with its gradient)';
  return kernelName;
}

async function profileStep(id: string, batch: number): Promise<StepProfile | null> {
  const e = benchExperiment(id);
  const model = sequential(e.train.layers(), { runtime: rt, inputShape: e.train.inputShape, seed: 1 });
  model.compile({ optimizer: e.train.optimizer(), loss: e.train.loss });
  const data = randomMnistLike(rt, batch * 2, { shape: e.train.inputShape });
  try {
    await model.fit(data, { epochs: 1, batchSize: batch });
    await model.timeStep(data, { batchSize: batch }); // warm-up: the one-step stream's buffers and pipelines
    const repeats = quick ? 1 : 3;
    let sums: Float64Array | null = null;
    let dispatches: Dispatch[] = [];
    for (let r = 0; r < repeats; r++) {
      const step = await model.timeStep(data, { batchSize: batch });
      if (!step.times) return null;
      dispatches = step.dispatches;
      sums ??= new Float64Array(step.times.length);
      step.times.forEach((t, i) => (sums![i]! += t / repeats));
    }
    const kinds = new Map<string, { ms: number; count: number }>();
    dispatches.forEach((d, i) => {
      const kind = kindOf(d.kernel.spec.name);
      const entry = kinds.get(kind) ?? { ms: 0, count: 0 };
      entry.ms += sums![i]! / 1e6;
      entry.count += 1;
      kinds.set(kind, entry);
    });
    const byKind = [...kinds].map(([kind, v]) => ({ kind, ...v })).sort((a, b) => b.ms - a.ms);
    return { id, batch, totalMs: byKind.reduce((s, k) => s + k.ms, 0), dispatches: dispatches.length, byKind };
  } finally {
    model.dispose();
    data.dispose();
  }
}

// ---------------------------------------------------------------------------
// 4. Models, beside TensorFlow.js

interface ModelRow {
  id: string;
  batch: number;
  /** Medians over the rounds. */
  shaderprop: { train: number; infer: number };
  /** The same, on a runtime without Dawn's bounds checks (absent where one cannot be made). */
  unchecked?: { train: number; infer: number };
  tfjs: Record<string, { train: number | null; infer: number | null; reason?: string }>;
  /** Every round's training samples/s, shaderprop's and each backend's, in the order measured. */
  trainRounds: Record<string, (number | null)[]>;
  /** From the first round: seconds from fit to the first step, dispatches per step, the kernel variants chosen. */
  startupSeconds: number;
  tuningSeconds: number;
  dispatchesPerStep: number;
  variants: { family: string; shape: string; variant: string; how: string }[];
}

/** The median of the numbers among `values` (null when there are none). */
function median(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = known.length >> 1;
  return known.length % 2 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
}

const MODEL_IDS = values.models ? values.models.split(',') : quick ? ['s001-softmax', 's001-dense'] : ['s001-softmax', 's001-dense', 's001-cnn', 's004-t4'];
const BATCHES = quick ? [32] : [32, 128];
/** TensorFlow.js's cpu backend takes tens of seconds per conv training step: its dense models only. */
const TFJS_CPU_IDS = new Set(['s001-softmax', 's001-dense']);

async function modelRows(): Promise<{ rows: ModelRow[]; tfjsVersion: string | null; tfjsBackends: Record<string, string> }> {
  let tfjs: typeof import('./tfjs.js') | null = null;
  if (!values['no-tfjs']) {
    try {
      tfjs = await import('./tfjs.js');
    } catch (error) {
      // The GPU kit (bench/gpu) carries the runtime dependencies only.
      say(`TensorFlow.js is not installed here (a development dependency): shaderprop alone. (${String(error).split('\n')[0]})`);
    }
  }
  const backends: Record<string, string> = {};
  if (tfjs) {
    for (const b of tfjsBackends(tfjs)) {
      const status = await tfjs.tfjsBackend(b);
      backends[b] = status.ok ? status.detail : `unavailable: ${status.reason}`;
    }
  }
  let unchecked: Runtime | null = null;
  if (!values['no-unchecked']) {
    try {
      unchecked = await createRuntime({ boundsChecks: false });
    } catch (error) {
      say(`no runtime without bounds checks here: ${String(error).split('\n')[0]}`);
    }
  }
  const rows: ModelRow[] = [];
  for (const id of MODEL_IDS) {
    for (const batch of BATCHES) {
      const train: Record<string, (number | null)[]> = { shaderprop: [], ...(unchecked ? { unchecked: [] } : {}) };
      const infer: Record<string, (number | null)[]> = { shaderprop: [], ...(unchecked ? { unchecked: [] } : {}) };
      const reasons: Record<string, Set<string>> = {};
      let first: Awaited<ReturnType<typeof measureThroughput>> | undefined;
      for (let round = 0; round < rounds; round++) {
        const ours = await measureThroughput(rt, id, { batch, seconds });
        first ??= ours;
        train.shaderprop!.push(ours.train);
        infer.shaderprop!.push(ours.infer);
        if (unchecked) {
          const fast = await measureThroughput(unchecked, id, { batch, seconds });
          train.unchecked!.push(fast.train);
          infer.unchecked!.push(fast.infer);
        }
        for (const b of tfjs ? tfjsBackends(tfjs) : []) {
          if (b === 'cpu' && !TFJS_CPU_IDS.has(id)) {
            (reasons[b] ??= new Set()).add('not run: conv training on this backend takes tens of seconds per step');
            continue;
          }
          const t = await tfjs!.tfjsMeasure('train', id, b, batch, seconds);
          const i = await tfjs!.tfjsMeasure('infer', id, b, batch, seconds);
          (train[b] ??= []).push(t.samplesPerSecond);
          (infer[b] ??= []).push(i.samplesPerSecond);
          for (const m of [t, i]) if (m.samplesPerSecond === null && m.reason) (reasons[b] ??= new Set()).add(m.reason);
        }
      }
      const row: ModelRow = {
        id, batch, shaderprop: { train: median(train.shaderprop!)!, infer: median(infer.shaderprop!)! }, tfjs: {}, trainRounds: train,
        startupSeconds: first!.startupSeconds, tuningSeconds: first!.tuningSeconds, dispatchesPerStep: first!.dispatchesPerStep, variants: first!.variants,
      };
      if (unchecked) row.unchecked = { train: median(train.unchecked!)!, infer: median(infer.unchecked!)! };
      for (const b of tfjs ? tfjsBackends(tfjs) : []) {
        const reason = [...(reasons[b] ?? [])].join('; ');
        row.tfjs[b] = { train: median(train[b] ?? []), infer: median(infer[b] ?? []), ...(reason ? { reason } : {}) };
      }
      rows.push(row);
      results.models = rows;
      await save(); // a run stopped from outside keeps the rows it finished
      say(`${id} batch ${batch}: train ${fmt(row.shaderprop.train)}, infer ${fmt(row.shaderprop.infer)} samples/s ` +
        `(start-up ${row.startupSeconds.toFixed(2)} s, of it tuning ${row.tuningSeconds.toFixed(2)} s; ${row.dispatchesPerStep} dispatches per step)` +
        (row.unchecked ? `; without bounds checks ${fmt(row.unchecked.train)} / ${fmt(row.unchecked.infer)}` : '') +
        Object.entries(row.tfjs).map(([b, m]) => `; tfjs-${b} ${fmt(m.train)} / ${fmt(m.infer)}`).join(''));
    }
  }
  unchecked?.destroy();
  return { rows, tfjsVersion: tfjs ? tfjs.TFJS_VERSION : null, tfjsBackends: backends };
}

/** The TensorFlow.js backends to measure: --tfjs-backends, else all. */
function tfjsBackends(tfjs: typeof import('./tfjs.js')): typeof tfjs.TFJS_BACKENDS {
  if (!values['tfjs-backends']) return tfjs.TFJS_BACKENDS;
  const wanted = values['tfjs-backends'].split(',').map((b) => b.trim());
  return tfjs.TFJS_BACKENDS.filter((b) => wanted.includes(b));
}

// ---------------------------------------------------------------------------
// Run, then print

const fmt = formatRate;

function ratio(a: number, b: number | null | undefined): string {
  return b ? `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}×` : '—';
}

const results = {
  date: new Date().toISOString().slice(0, 10),
  adapter: rt.adapter.name,
  adapterDescription: rt.adapter.description,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, os: `${platform()} ${osRelease()}`, node: process.version },
  quick,
  secondsPerPass: seconds,
  rounds,
  peakGflops: 0,
  dispatchMicroseconds: 0,
  kernels: [] as KernelRate[],
  profiles: [] as StepProfile[],
  models: [] as ModelRow[],
  tfjs: { version: null as string | null, backends: {} as Record<string, string> },
  /** false until the end: the file is also written after each part. */
  complete: false,
};
const out = values.out ?? `bench/results-${results.adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-')}${quick ? '-quick' : ''}.json`;
async function save(): Promise<void> {
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
}

results.peakGflops = await peakGflops();
results.dispatchMicroseconds = await dispatchMicros();
say(`adapter ${results.adapter}: ceiling ${results.peakGflops.toFixed(2)} GFLOP/s (register-only FMA loop), ${results.dispatchMicroseconds.toFixed(1)} µs per dispatch`);

const denseShapes: [number, number, number][] = quick ? [[32, 784, 128]] : [[32, 784, 128], [128, 784, 128], [32, 128, 64], [1024, 1024, 1024]];
// 4096³ takes minutes per variant on a CPU emulation: GPUs only.
if (!quick && !isCpuAdapter(rt)) denseShapes.push([4096, 4096, 4096]);
for (const [m, k, n] of denseShapes) results.kernels.push(...(await denseRates(m, k, n)));
const convShapes: [string, Conv2dShape][] = [
  ['s001-cnn conv 2', { batch: 32, inH: 13, inW: 13, inC: 32, outC: 64, kH: 3, kW: 3, strideH: 1, strideW: 1, padding: 'valid' }],
  ['s001-cnn conv 1', { batch: 32, inH: 28, inW: 28, inC: 1, outC: 32, kH: 3, kW: 3, strideH: 1, strideW: 1, padding: 'valid' }],
  ['s004-t4 conv 2', { batch: 32, inH: 24, inW: 24, inC: 32, outC: 32, kH: 5, kW: 5, strideH: 1, strideW: 1, padding: 'valid' }],
];
for (const [name, s] of quick ? convShapes.slice(0, 1) : convShapes) results.kernels.push(...(await convRates(name, s)));
await save();
for (const r of results.kernels) say(`${r.kernel} ${r.shape} [${r.variant}]: ${r.gflops.toFixed(2)} GFLOP/s, ${((100 * r.gflops) / results.peakGflops).toFixed(0)}% of the ceiling`);

for (const [id, batch] of (values['no-profile'] ? [] : quick ? [['s001-dense', 32]] : [['s001-dense', 32], ['s001-cnn', 32], ['s004-t4', 32]]) as [string, number][]) {
  const profile = await profileStep(id, batch);
  if (profile) results.profiles.push(profile);
}

const models = await modelRows();
results.models = models.rows;
results.tfjs = { version: models.tfjsVersion, backends: models.tfjsBackends };
results.complete = true;
await save();

// Markdown: what docs/benchmarks.md shows.
const lines: string[] = [];
lines.push(`Measured ${results.date} on ${results.adapter} (${results.adapterDescription}), ${results.machine.cores} × ${results.machine.cpu}, Node ${results.machine.node}` +
  (results.tfjs.version ? `, TensorFlow.js ${results.tfjs.version}` : '') + `; passes of at least ${seconds} s; models: the median of ${rounds} interleaved round${rounds === 1 ? '' : 's'}.`, '');
const backends = Object.keys(results.models[0]?.tfjs ?? {});
lines.push(`| model | batch | shaderprop train | ${backends.map((b) => `tfjs-${b} train`).join(' | ')} | ${backends.map((b) => `× tfjs-${b}`).join(' | ')} |`);
lines.push(`|---|---:|---:|${backends.map(() => '---:').join('|')}|${backends.map(() => '---:').join('|')}|`);
for (const r of results.models) {
  lines.push(`| ${r.id} | ${r.batch} | ${fmt(r.shaderprop.train)} | ${backends.map((b) => fmt(r.tfjs[b]?.train)).join(' | ')} | ${backends.map((b) => ratio(r.shaderprop.train, r.tfjs[b]?.train)).join(' | ')} |`);
}
lines.push('', `| model | batch | shaderprop infer | ${backends.map((b) => `tfjs-${b} infer`).join(' | ')} | ${backends.map((b) => `× tfjs-${b}`).join(' | ')} |`);
lines.push(`|---|---:|---:|${backends.map(() => '---:').join('|')}|${backends.map(() => '---:').join('|')}|`);
for (const r of results.models) {
  lines.push(`| ${r.id} | ${r.batch} | ${fmt(r.shaderprop.infer)} | ${backends.map((b) => fmt(r.tfjs[b]?.infer)).join(' | ')} | ${backends.map((b) => ratio(r.shaderprop.infer, r.tfjs[b]?.infer)).join(' | ')} |`);
}
const withoutChecks = results.models.filter((r) => r.unchecked);
if (withoutChecks.length > 0) {
  lines.push('', 'shaderprop on shaders compiled without Dawn\'s bounds checks (`boundsChecks: false`), training, in the same rounds:', '');
  lines.push(`| model | batch | train samples/s | × with checks | ${backends.map((b) => `× tfjs-${b}`).join(' | ')} |`);
  lines.push(`|---|---:|---:|---:|${backends.map(() => '---:').join('|')}|`);
  for (const r of withoutChecks) {
    const t = r.unchecked!.train;
    lines.push(`| ${r.id} | ${r.batch} | ${fmt(t)} | ${ratio(t, r.shaderprop.train)} | ${backends.map((b) => ratio(t, r.tfjs[b]?.train)).join(' | ')} |`);
  }
}
lines.push('', `Ceiling: ${results.peakGflops.toFixed(2)} GFLOP/s (register-only FMA loop); ${results.dispatchMicroseconds.toFixed(1)} µs per empty dispatch.`, '');
lines.push('| kernel | shape | variant | GFLOP/s | of ceiling |', '|---|---|---|---:|---:|');
for (const r of results.kernels) lines.push(`| ${r.kernel} | ${r.shape} | ${r.variant} | ${r.gflops.toFixed(2)} | ${((100 * r.gflops) / results.peakGflops).toFixed(0)}% |`);
for (const p of results.profiles) {
  lines.push('', `One training step of ${p.id} at batch ${p.batch}: ${p.totalMs.toFixed(1)} ms of GPU time in ${p.dispatches} dispatches (timestamp queries, one pass per dispatch).`, '');
  lines.push('| kernels | dispatches | ms | share |', '|---|---:|---:|---:|');
  for (const k of p.byKind) lines.push(`| ${k.kind} | ${k.count} | ${k.ms.toFixed(2)} | ${((100 * k.ms) / p.totalMs).toFixed(0)}% |`);
}
if (values.json) console.log(JSON.stringify(results));
else console.log(`\n${lines.join('\n')}\n\nresults: ${out}`);
rt.destroy();

/**
 * Batch assembly kernels (shaders/batch.wgsl): gather_inputs from u8 (four to a
 * u32, little-endian) and f32 sources through a shuffled index list, with the
 * affine and L2 normalisations compared to preprocessCpu (src/data/preprocess.ts),
 * gather_targets of widths 1 and 10 (alone, and inside gather_batch, which also
 * gathers the inputs in the same dispatch), a short last batch whose padding
 * rows are zero, and advance_step moving state.step (not iteration) between batches.
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime.js';
import { affineFor, featureStats, preprocessCpu } from '../../src/data/preprocess.js';
import { advanceStep, gatherInputs, gatherTargets, type GatherShape } from '../../src/ops/batch.js';
import { createStepState, readStepState, resetStepState } from '../../src/ops/step.js';
import { assertClose } from '../../src/reference/compare.js';
import { expectNoGpuErrors, makeRng, outputF32, TOL, useRuntime } from './gpu.js';
import type { TestRng as Rng } from '../../src/reference/test-rng.js';

const rt = useRuntime();

/** Bytes four to a u32, byte k of a word in bits 8k .. 8k+7 (little-endian); the tail padded with 0. */
function packU8(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  for (let i = 0; i < bytes.length; i++) words[i >> 2] = (words[i >> 2]! | (bytes[i]! << (8 * (i & 3)))) >>> 0;
  return words;
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(256);
  return a;
}

/** A shuffled list of `count` distinct sample indices out of `n`. */
function shuffledIndices(rng: Rng, n: number, count: number): Uint32Array {
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return Uint32Array.from(all.slice(0, count));
}

/** The expected batch: rows `indices[step·B + b]` of `perSample` (D values each), zero past the end. */
function expectedBatch(perSample: ArrayLike<number>, D: number, indices: Uint32Array, B: number, step: number): Float32Array {
  const x = new Float32Array(B * D);
  for (let b = 0; b < B; b++) {
    const at = step * B + b;
    if (at >= indices.length) continue;
    const sample = indices[at]!;
    for (let f = 0; f < D; f++) x[b * D + f] = perSample[sample * D + f]!;
  }
  return x;
}

interface GatherCase {
  shape: GatherShape;
  images: Uint32Array;
  indices: Uint32Array;
  shift: Float32Array;
  scale: Float32Array;
  /** All samples preprocessed on the CPU, (N, D). */
  want: Float32Array;
  tolerance: { atol: number; rtol: number };
  label: string;
}

/** Runs every batch of the pass (gather, advance) and checks each against the CPU rows. */
async function runPass(r: Runtime, c: GatherCase): Promise<void> {
  const { batch: B, features: D } = c.shape;
  const images = r.storage(c.images, 'images');
  const indices = r.storage(c.indices, 'indices');
  const shift = r.storage(c.shift, 'shift');
  const scale = r.storage(c.scale, 'scale');
  const x = outputF32(r, B * D, 'x');
  const state = createStepState(r, 'state');
  resetStepState(r, state, c.indices.length, 5);
  const gather = await gatherInputs(r, c.shape, { images, indices, state, shift, scale, x });
  const advance = await advanceStep(r, false, state);
  const steps = Math.ceil(c.indices.length / B);
  for (let step = 0; step < steps; step++) {
    r.write(x, new Float32Array(B * D).fill(Number.NaN));
    r.submit([gather, advance]);
    const got = await r.readF32(x, B * D);
    const want = expectedBatch(c.want, D, c.indices, B, step);
    const valid = Math.min(B, c.indices.length - step * B);
    assertClose(got.subarray(0, valid * D), want.subarray(0, valid * D), { ...c.tolerance, label: `${c.label}, batch ${step}` });
    // Padding rows of the short last batch: exactly 0.
    expect(Array.from(got.subarray(valid * D)).every((v) => v === 0), `${c.label}, batch ${step} padding rows are 0`).toBe(true);
  }
  const end = await readStepState(r, state);
  expect(end.step).toBe(steps);
  expect(end.iteration).toBe(5); // advance_step(training = false) leaves it
  expectNoGpuErrors(r);
  for (const buffer of [images, indices, shift, scale, x, state]) r.pool.release(buffer);
}

const EXACT = { atol: 0, rtol: 0 };

describe('gather_inputs', () => {
  it('u8 source, 5x7 images (D 35, samples straddle words), standardize shift/scale, short last batch', async () => {
    const rng = makeRng(11_000);
    const rows = 5;
    const cols = 7;
    const D = rows * cols;
    const n = 13;
    const bytes = randomBytes(rng, n * D);
    const stats = featureStats(bytes, n, D);
    const { shift, scale } = affineFor({ kind: 'standardize' }, stats, D);
    const indices = shuffledIndices(rng, n, 10); // batches of 4: 4, 4, 2 + 2 padding rows
    await runPass(rt(), {
      shape: { batch: 4, features: D, rows, cols, sourceU8: true, normalize: 0 },
      images: packU8(bytes),
      indices,
      shift,
      scale,
      want: preprocessCpu({ kind: 'standardize' }, bytes, n, rows, cols, stats),
      tolerance: EXACT,
      label: 'u8 standardize',
    });
  });

  it('u8 source, 28x28 images, x / 255, B 3 over 7 samples', async () => {
    const rng = makeRng(11_100);
    const D = 784;
    const n = 9;
    const bytes = randomBytes(rng, n * D);
    const { shift, scale } = affineFor({ kind: 'scale', scale: 1 / 255 }, undefined, D);
    await runPass(rt(), {
      shape: { batch: 3, features: D, rows: 28, cols: 28, sourceU8: true, normalize: 0 },
      images: packU8(bytes),
      indices: shuffledIndices(rng, n, 7),
      shift,
      scale,
      want: preprocessCpu({ kind: 'scale', scale: 1 / 255 }, bytes, n, 28, 28),
      tolerance: EXACT,
      label: 'u8 /255',
    });
  });

  it('u8 source, x / 255 given as uniform constants: the same batches, the shift and scale buffers never read', async () => {
    const rng = makeRng(11_150);
    const D = 784;
    const n = 9;
    const bytes = randomBytes(rng, n * D);
    await runPass(rt(), {
      shape: { batch: 3, features: D, rows: 28, cols: 28, sourceU8: true, normalize: 0, uniformAffine: { shift: 0, scale: 1 / 255 } },
      images: packU8(bytes),
      indices: shuffledIndices(rng, n, 7),
      shift: new Float32Array(D).fill(Number.NaN),
      scale: new Float32Array(D).fill(Number.NaN),
      want: preprocessCpu({ kind: 'scale', scale: 1 / 255 }, bytes, n, 28, 28),
      tolerance: EXACT,
      label: 'u8 /255, uniform',
    });
  });

  it('u8 source, 4x6 images (D 24: whole words per sample), standardize shift/scale per feature', async () => {
    const rng = makeRng(11_160);
    const rows = 4;
    const cols = 6;
    const D = rows * cols;
    const n = 11;
    const bytes = randomBytes(rng, n * D);
    const stats = featureStats(bytes, n, D);
    const { shift, scale } = affineFor({ kind: 'standardize' }, stats, D);
    await runPass(rt(), {
      shape: { batch: 4, features: D, rows, cols, sourceU8: true, normalize: 0 },
      images: packU8(bytes),
      indices: shuffledIndices(rng, n, 9),
      shift,
      scale,
      want: preprocessCpu({ kind: 'standardize' }, bytes, n, rows, cols, stats),
      tolerance: EXACT,
      label: 'u8 standardize, whole words',
    });
  });

  for (const axis of [1, 2] as const) {
    it(`u8 source, 28x28 images, L2 normalisation along axis ${axis} (zero image and zero lines included)`, async () => {
      const rng = makeRng(11_200 + axis);
      const rows = 28;
      const cols = 28;
      const D = rows * cols;
      const n = 6;
      const bytes = randomBytes(rng, n * D);
      // Sparse like MNIST: most pixels 0, so whole rows and columns are 0.
      for (let i = 0; i < bytes.length; i++) if (rng.next() < 0.7) bytes[i] = 0;
      bytes.fill(0, 2 * D, 3 * D); // sample 2: an all-zero image (norm 0 → 1)
      for (let i = 0; i < rows; i++) bytes[4 * D + i * cols + 3] = 0; // sample 4: column 3 zero
      bytes.fill(0, 5 * D + 10 * cols, 5 * D + 11 * cols); // sample 5: row 10 zero
      await runPass(rt(), {
        shape: { batch: 4, features: D, rows, cols, sourceU8: true, normalize: axis },
        images: packU8(bytes),
        indices: Uint32Array.from([5, 2, 0, 4, 1, 3]),
        shift: new Float32Array(D),
        scale: new Float32Array(D).fill(1),
        // f32 sum of squares and sqrt against the f64 reference, rounded once.
        want: preprocessCpu({ kind: 'l2Normalize', axis }, bytes, n, rows, cols),
        tolerance: TOL,
        label: `L2 axis ${axis}`,
      });
    });
  }

  it('f32 source (sourceU8 false), per-feature shift and scale, B 5 over 12 samples', async () => {
    const rng = makeRng(11_300);
    const D = 17;
    const n = 15;
    const values = new Float32Array(n * D);
    for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-10, 10);
    const shift = new Float32Array(D);
    const scale = new Float32Array(D);
    for (let f = 0; f < D; f++) {
      shift[f] = rng.uniform(-1, 1);
      scale[f] = rng.uniform(0.1, 2);
    }
    const want = new Float32Array(n * D);
    for (let i = 0; i < want.length; i++) want[i] = Math.fround(values[i]! - shift[i % D]!) * scale[i % D]!;
    await runPass(rt(), {
      shape: { batch: 5, features: D, rows: 1, cols: D, sourceU8: false, normalize: 0 },
      images: new Uint32Array(values.buffer),
      indices: shuffledIndices(rng, n, 12),
      shift,
      scale,
      want,
      tolerance: EXACT,
      label: 'f32 affine',
    });
  });
});

describe.each(['gather_targets', 'gather_batch'] as const)('%s', (kernel) => {
  async function runTargets(B: number, width: number, labels: Uint32Array, indices: Uint32Array): Promise<void> {
    const r = rt();
    const labelBuffer = r.storage(labels, 'labels');
    const indexBuffer = r.storage(indices, 'indices');
    const targets = r.storage(new Uint32Array(B * width).fill(0xdeadbeef), 'targets');
    const state = createStepState(r, 'state');
    resetStepState(r, state, indices.length);
    // gather_batch: the inputs too, 7 f32 features a sample copied as they are (shift 0, scale 1).
    const D = 7;
    const samples = labels.length / width;
    const values = Float32Array.from({ length: samples * D }, (_, i) => i * 0.5 - 3);
    const inputs = kernel === 'gather_batch'
      ? { images: r.storage(new Uint32Array(values.buffer), 'images'), shift: r.storage(new Float32Array(D), 'shift'),
        scale: r.storage(new Float32Array(D).fill(1), 'scale'), x: outputF32(r, B * D, 'x') }
      : null;
    const gather = inputs
      ? await gatherInputs(r, { batch: B, features: D, rows: 1, cols: D, sourceU8: false, normalize: 0 },
        { ...inputs, indices: indexBuffer, state, targets: { labels: labelBuffer, targets, targetWidth: width } })
      : await gatherTargets(r, { batch: B, targetWidth: width }, { labels: labelBuffer, indices: indexBuffer, state, targets });
    expect(gather.kernel.spec.name).toBe(kernel);
    const advance = await advanceStep(r, false, state);
    const steps = Math.ceil(indices.length / B);
    for (let step = 0; step < steps; step++) {
      r.submit([gather, advance]);
      if (inputs) expect(Array.from(await r.readF32(inputs.x, B * D)), `inputs, batch ${step}`).toEqual(Array.from(expectedBatch(values, D, indices, B, step)));
      const got = await r.readU32(targets, B * width);
      const want = new Uint32Array(B * width);
      for (let b = 0; b < B; b++) {
        const at = step * B + b;
        if (at >= indices.length) continue; // padding rows: 0
        for (let t = 0; t < width; t++) want[b * width + t] = labels[indices[at]! * width + t]!;
      }
      expect(Array.from(got), `width ${width}, batch ${step}`).toEqual(Array.from(want));
    }
    expectNoGpuErrors(r);
    for (const buffer of [labelBuffer, indexBuffer, targets, state, ...(inputs ? Object.values(inputs) : [])]) r.pool.release(buffer);
  }

  it('width 1 (class indices), B 4 over 10 of 13 samples', async () => {
    const rng = makeRng(12_000);
    const labels = new Uint32Array(13);
    for (let i = 0; i < 13; i++) labels[i] = rng.int(10);
    await runTargets(4, 1, labels, shuffledIndices(rng, 13, 10));
  });

  it('width 10 (one-hot f32 bits), B 3 over 8 of 11 samples', async () => {
    const rng = makeRng(12_100);
    const oneHot = new Float32Array(11 * 10);
    for (let i = 0; i < 11; i++) oneHot[i * 10 + rng.int(10)] = 1;
    oneHot[5 * 10 + 2] = 0.25; // a soft value, copied bit for bit
    await runTargets(3, 10, new Uint32Array(oneHot.buffer), shuffledIndices(rng, 11, 8));
  });

  it('width 1, B 70 (more rows than one workgroup), 100 samples', async () => {
    const rng = makeRng(12_200);
    const labels = new Uint32Array(120);
    for (let i = 0; i < 120; i++) labels[i] = rng.int(1000);
    await runTargets(70, 1, labels, shuffledIndices(rng, 120, 100));
  });
});

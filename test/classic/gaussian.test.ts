/**
 * The Gaussian generative classifier (shaders/classic/gaussian.wgsl,
 * src/classic/gaussian.ts, src/classic/linalg.ts) against independent
 * references: Gram matrices against plain integer sums (equal, not close),
 * means, covariances, log-determinants, quadratic forms and scores against the
 * f64 twin in src/reference/gaussian.ts, and 1-D and 2-D Gaussians whose log
 * densities are worked out by hand.
 *
 * Tolerances. Counts, sums and Gram matrices are exact integers. Means equal
 * the twin's bit for bit (the same integer sum divided by the same count).
 * Covariances and log-determinants differ from the twin's two-pass f64 loops
 * by f64 rounding only (relative 1e-9 is far above it). The quadratic forms
 * q = ‖A(x − μ)‖² are summed in f32 on the GPU: |Δq| ≤ 1e-5·q + 1e-4 (measured
 * on 784-pixel MNIST, where q reaches 1,500: 2e-7·q), so a score (−½·q plus
 * f64 terms) is within ½·(1e-5·q + 1e-4) of the twin's.
 */
import { describe, expect, it } from 'vitest';
import {
  classMoments,
  fitGaussian,
  MAX_BLOCK_EXAMPLES,
  scoreGaussian,
  squaredMahalanobis,
  type GaussianModel,
  type MomentsOptions,
} from '../../src/classic/gaussian.js';
import { cholesky, choleskyLogDet, invertLower, NotPositiveDefiniteError, solveLower } from '../../src/classic/linalg.js';
import { firstImages as head, imageFeatures, imageSet, type ImageSet } from '../../src/data/images.js';
import { loadMnist } from '../../src/data/mnist.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { assertClose } from '../../src/reference/compare.js';
import { fitGaussianCpu, scoreGaussianCpu, type GaussianCpuModel } from '../../src/reference/gaussian.js';
import type { TestRng as Rng } from '../../src/reference/test-rng.js';
import { mnistDir } from '../helpers.js';
import { expectNoGpuErrors, makeRng, useRuntime } from '../kernels/gpu.js';
import { hasPackedDot } from '../../src/gpu/features.js';

const rt = useRuntime();

const Q_TOL = { atol: 1e-4, rtol: 1e-5 } as const;

/** `count` examples of `features` random bytes, labels drawn from `classes`. */
function randomSet(rng: Rng, count: number, features: number, classes: number): ImageSet {
  const images = new Uint8Array(count * features);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Uint8Array.from({ length: count }, (_, n) => (n < classes ? n : rng.int(classes)));
  return { images, labels, count, rows: 1, cols: features };
}

/** Σ x xᵀ, Σ x and N per class, as plain integer sums in JS numbers (exact below 2⁵³). */
function integerMoments(set: ImageSet, classes: number) {
  const D = imageFeatures(set);
  const counts = new Float64Array(classes);
  const sums = new Float64Array(classes * D);
  const gram = new Float64Array(classes * D * D);
  for (let n = 0; n < set.count; n++) {
    const c = set.labels[n]!;
    counts[c]!++;
    for (let i = 0; i < D; i++) {
      const xi = set.images[n * D + i]!;
      sums[c * D + i]! += xi;
      for (let j = 0; j < D; j++) gram[(c * D + i) * D + j]! += xi * set.images[n * D + j]!;
    }
  }
  return { counts, sums, gram };
}

function expectEqualArrays(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i] && bad.length < 8) bad.push(`[${i}] got ${got[i]}, want ${want[i]}`);
  }
  if (bad.length) throw new Error(`${label} differ:\n  ${bad.join('\n  ')}`);
}

/**
 * Fits and scores on the GPU and with the twin, and compares every stage.
 * Returns the number of test images whose predictions differ and the number
 * whose twin scores have their top two within the tolerance (a near tie).
 */
async function compareWithTwin(
  r: Runtime,
  train: ImageSet,
  test: ImageSet,
  regularization: number,
  options: MomentsOptions & { chunkImages?: number } = {},
): Promise<{ model: GaussianModel; twin: GaussianCpuModel; differ: number; nearTies: number }> {
  const model = await fitGaussian(r, train, { ...options, regularization });
  const twin = fitGaussianCpu(train, { regularization, ...(options.classes ? { classes: options.classes } : {}) });
  const { classes: K, features: D } = twin;
  expect(model.classes).toBe(K);
  expectEqualArrays(model.counts, twin.counts, 'counts');
  expectEqualArrays(model.mean, twin.mean, 'means');
  assertClose(model.covariance, twin.covariance, { atol: 1e-9, rtol: 1e-9, label: 'covariances' });
  assertClose(model.logDet, twin.logDet, { atol: 1e-9, rtol: 1e-12, label: 'log-determinants' });
  assertClose(model.logPrior, twin.logPrior, { atol: 1e-15, rtol: 1e-15, label: 'log priors' });
  // A_c L_c = I, with L_c the twin's factor.
  for (let c = 0; c < K; c++) {
    const a = model.inverseFactor.subarray(c * D * D, (c + 1) * D * D);
    const l = twin.cholesky.subarray(c * D * D, (c + 1) * D * D);
    const product = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) product[i * D + j]! += a[i * D + k]! * l[k * D + j]!;
    assertClose(product, Float64Array.from({ length: D * D }, (_, e) => (e % (D + 1) === 0 ? 1 : 0)), { atol: 1e-12, rtol: 0, label: `A·L, class ${c}` });
  }

  const q = await squaredMahalanobis(r, model, test, options.chunkImages ? { chunkImages: options.chunkImages } : {});
  const want = scoreGaussianCpu(twin, test);
  assertClose(q, want.q, { ...Q_TOL, label: 'q = ‖A(x − μ)‖²' });
  const got = await scoreGaussian(r, model, test, options.chunkImages ? { chunkImages: options.chunkImages } : {});
  const scoreTol = (n: number, c: number) => 0.5 * (Q_TOL.rtol * want.q[n * K + c]! + Q_TOL.atol);
  let differ = 0;
  let nearTies = 0;
  for (let n = 0; n < test.count; n++) {
    for (let c = 0; c < K; c++) {
      const e = Math.abs(got.scores[n * K + c]! - want.scores[n * K + c]!);
      if (!(e <= scoreTol(n, c))) throw new Error(`score [${n}, ${c}]: GPU ${got.scores[n * K + c]}, twin ${want.scores[n * K + c]}`);
    }
    const row = Array.from(want.scores.subarray(n * K, (n + 1) * K)).sort((x, y) => y - x);
    const tie = K > 1 && row[0]! - row[1]! <= 2 * scoreTol(n, 0) + 2 * scoreTol(n, 1);
    if (tie) nearTies++;
    if (got.predictions[n] !== want.predictions[n]) {
      differ++;
      if (!tie) throw new Error(`test image ${n}: GPU predicts ${got.predictions[n]}, twin ${want.predictions[n]}, and their scores are no near tie.`);
    }
  }
  expectNoGpuErrors(r);
  return { model, twin, differ, nearTies };
}

describe('linalg (f64 Cholesky, inverse, solve)', () => {
  it('factorises, inverts and solves a random SPD matrix', () => {
    const rng = makeRng(11);
    const n = 23;
    const b = Float64Array.from({ length: n * n }, () => rng.normal());
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) m[i * n + j]! += b[i * n + k]! * b[j * n + k]!;
      if (i === j) m[i * n + j]! += 0.5;
    }
    const l = cholesky(m, n);
    const back = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) back[i * n + j]! += l[i * n + k]! * l[j * n + k]!;
    assertClose(back, m, { atol: 1e-11, rtol: 1e-12, label: 'L·Lᵀ' });
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
    const a = invertLower(l, n);
    const identity = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) identity[i * n + j]! += a[i * n + k]! * l[k * n + j]!;
    assertClose(identity, Float64Array.from({ length: n * n }, (_, e) => (e % (n + 1) === 0 ? 1 : 0)), { atol: 1e-11, rtol: 0, label: 'L⁻¹·L' });
    const rhs = Float64Array.from({ length: n }, () => rng.normal());
    const z = solveLower(l, n, rhs);
    const lz = Float64Array.from({ length: n }, (_, i) => l.subarray(i * n, i * n + n).reduce((s, v, k) => s + v * z[k]!, 0));
    assertClose(lz, rhs, { atol: 1e-12, rtol: 1e-12, label: 'L·z' });
  });

  it('log-determinant of a 3 × 3 matrix equals the cofactor expansion', () => {
    const m = Float64Array.from([4, 2, 0.6, 2, 5, 1.5, 0.6, 1.5, 3]);
    const det = 4 * (5 * 3 - 1.5 * 1.5) - 2 * (2 * 3 - 1.5 * 0.6) + 0.6 * (2 * 1.5 - 5 * 0.6);
    expect(choleskyLogDet(cholesky(m, 3), 3)).toBeCloseTo(Math.log(det), 13);
  });

  it('names the failing pivot of an indefinite or singular matrix', () => {
    try {
      cholesky(Float64Array.from([1, 2, 2, 1]), 2);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NotPositiveDefiniteError);
      expect((error as NotPositiveDefiniteError).pivot).toBe(1);
      expect((error as NotPositiveDefiniteError).value).toBeCloseTo(-3, 12);
    }
    // Singular: the second row is twice the first.
    expect(() => cholesky(Float64Array.from([1, 2, 2, 4]), 2)).toThrow(/pivot 1 of 2/);
    expect(() => cholesky(new Float64Array(5), 2)).toThrow(/n × n matrix/);
  });
});

describe('known answers: log densities worked out by hand', () => {
  it('1-D: two classes on a line', async () => {
    // Class 0: 0, 2, 4, 6 → mean 3, variance (9 + 1 + 1 + 9)/4 = 5. Class 1: 10, 12 → mean 11, variance 1.
    // λ = 1: σ² = 6 and 2; priors 4/6 and 2/6.
    const train: ImageSet = { images: Uint8Array.from([0, 2, 4, 6, 10, 12]), labels: Uint8Array.from([0, 0, 0, 0, 1, 1]), count: 6, rows: 1, cols: 1 };
    const test: ImageSet = { images: Uint8Array.from([3, 8, 9, 255]), labels: new Uint8Array(4), count: 4, rows: 1, cols: 1 };
    const model = await fitGaussian(rt(), train, { regularization: 1 });
    expect(Array.from(model.mean)).toEqual([3, 11]);
    expect(Array.from(model.covariance)).toEqual([5, 1]);
    const logN = (x: number, mu: number, v: number) => -0.5 * Math.log(2 * Math.PI * v) - (x - mu) ** 2 / (2 * v);
    const { scores, predictions } = await scoreGaussian(rt(), model, test);
    const want = [3, 8, 9, 255].flatMap((x) => [Math.log(4 / 6) + logN(x, 3, 6), Math.log(2 / 6) + logN(x, 11, 2)]);
    assertClose(scores, want, { atol: 1e-4, rtol: 1e-6, label: '1-D scores' });
    // x = 8: class 0 has log(2/3) − ½·log(12π) − 25/12 ≈ −4.30, class 1 log(1/3) − ½·log(4π) − 9/4 ≈ −4.61;
    // x = 255 is far from both, and class 0's wider variance wins.
    expect(Array.from(predictions)).toEqual([0, 0, 1, 0]);
  });

  it('2-D: a correlated class against a round one', async () => {
    // Class 0: (0,0), (2,2), (1,3), (3,1): mean (1.5, 1.5); variances 1.25, covariance 0.25.
    // With λ = 0.5: Σ = [[1.75, 0.25], [0.25, 1.75]], det 3, Σ⁻¹ = [[1.75, −0.25], [−0.25, 1.75]] / 3.
    // Class 1: (10,10), (12,10), (10,12), (12,12): mean (11, 11), Σ = I + 0.5·I = 1.5·I, det 2.25.
    const images = Uint8Array.from([0, 0, 2, 2, 1, 3, 3, 1, 10, 10, 12, 10, 10, 12, 12, 12]);
    const train: ImageSet = { images, labels: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]), count: 8, rows: 1, cols: 2 };
    const points = [[4, 0], [6, 6], [7, 7], [11, 9]] as const;
    const test: ImageSet = { images: Uint8Array.from(points.flat()), labels: new Uint8Array(4), count: 4, rows: 1, cols: 2 };
    const model = await fitGaussian(rt(), train, { regularization: 0.5 });
    expect(Array.from(model.mean)).toEqual([1.5, 1.5, 11, 11]);
    expect(Array.from(model.covariance.subarray(0, 4))).toEqual([1.25, 0.25, 0.25, 1.25]);
    expect(model.logDet[0]).toBeCloseTo(Math.log(3), 13);
    expect(model.logDet[1]).toBeCloseTo(Math.log(2.25), 13);
    const { scores, predictions } = await scoreGaussian(rt(), model, test);
    const want: number[] = [];
    for (const [x, y] of points) {
      const [dx, dy] = [x - 1.5, y - 1.5];
      const q0 = (1.75 * dx * dx - 0.5 * dx * dy + 1.75 * dy * dy) / 3;
      const q1 = ((x - 11) ** 2 + (y - 11) ** 2) / 1.5;
      want.push(Math.log(0.5) - 0.5 * Math.log(3) - Math.log(2 * Math.PI) - 0.5 * q0);
      want.push(Math.log(0.5) - 0.5 * Math.log(2.25) - Math.log(2 * Math.PI) - 0.5 * q1);
    }
    assertClose(scores, want, { atol: 1e-4, rtol: 1e-6, label: '2-D scores' });
    const argmax = points.map((_, n) => (want[2 * n]! >= want[2 * n + 1]! ? 0 : 1));
    expect(Array.from(predictions)).toEqual(argmax);
    expect(argmax).toEqual([0, 0, 1, 1]);
  });
});

describe('exact class moments on the GPU', () => {
  it('counts, sums and Gram matrices equal plain integer sums, on both dot-product paths and split into blocks', async () => {
    const r = rt();
    const rng = makeRng(21);
    const train = randomSet(rng, 301, 37, 3);
    const want = integerMoments(train, 3);
    const paths = (await hasPackedDot(r)) ? [false, true] : [false];
    for (const packedDot of paths) {
      for (const blockExamples of [MAX_BLOCK_EXAMPLES, 40]) {
        const got = await classMoments(r, train, { packedDot, blockExamples });
        const label = `packedDot ${packedDot}, blocks of ${blockExamples}`;
        expectEqualArrays(got.counts, want.counts, `${label}: counts`);
        expectEqualArrays(got.sums, want.sums, `${label}: sums`);
        expectEqualArrays(got.gram, want.gram, `${label}: Gram`);
      }
    }
    expectNoGpuErrors(r);
  });

  it('all bytes 255 in a class past the u32 bound: N·255² > 2³², exact through the split into blocks', async () => {
    const count = MAX_BLOCK_EXAMPLES + 5;
    expect(count * 255 * 255).toBeGreaterThan(2 ** 32); // one u32 sum would wrap
    const train: ImageSet = { images: new Uint8Array(count * 5).fill(255), labels: new Uint8Array(count), count, rows: 1, cols: 5 };
    const got = await classMoments(rt(), train);
    expect(Array.from(got.counts)).toEqual([count]);
    expect(Array.from(got.gram)).toEqual(new Array(25).fill(count * 255 * 255));
    expect(Array.from(got.sums)).toEqual(new Array(5).fill(count * 255));
  });
});

describe('GPU fit and score against the f64 twin', () => {
  it('random bytes, D = 37, 3 classes, λ = 100, scored in chunks of 32', async () => {
    const rng = makeRng(31);
    const train = randomSet(rng, 301, 37, 3);
    const test = randomSet(rng, 77, 37, 3);
    const { differ, nearTies } = await compareWithTwin(rt(), train, test, 100, { blockExamples: 64, chunkImages: 32 });
    expect(differ).toBeLessThanOrEqual(nearTies);
  });

  it('random bytes, D = 66 (not a multiple of 4 or 32), 5 classes, λ = 4000', async () => {
    const rng = makeRng(32);
    const train = randomSet(rng, 250, 66, 5);
    const test = randomSet(rng, 45, 66, 5);
    const { differ, nearTies } = await compareWithTwin(rt(), train, test, 4000);
    expect(differ).toBeLessThanOrEqual(nearTies);
  });

  it.skipIf(!mnistDir())('MNIST downsampled to 7 × 7, 600 train and 300 test images, λ = 4000', async () => {
    const mnist = await loadMnist({ dir: mnistDir()! });
    const train = downsample(head(imageSet(mnist.train), 600));
    const test = downsample(head(imageSet(mnist.test), 300));
    const { differ, nearTies } = await compareWithTwin(rt(), train, test, 4000);
    expect(differ).toBeLessThanOrEqual(nearTies);
    const { predictions } = scoreGaussianCpu(fitGaussianCpu(train), test);
    let right = 0;
    for (let n = 0; n < test.count; n++) if (predictions[n] === test.labels[n]) right++;
    expect(right / test.count).toBeGreaterThan(0.75); // a working model; chance is 0.1
  });
});

/** 28 × 28 → 7 × 7 by the mean of each 4 × 4 block, rounded: 49 features that all vary. */
function downsample(set: ImageSet): ImageSet {
  const images = new Uint8Array(set.count * 49);
  for (let n = 0; n < set.count; n++) {
    for (let by = 0; by < 7; by++) for (let bx = 0; bx < 7; bx++) {
      let sum = 0;
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += set.images[n * 784 + (4 * by + y) * 28 + 4 * bx + x]!;
      images[n * 49 + by * 7 + bx] = Math.round(sum / 16);
    }
  }
  return { images, labels: set.labels.slice(0, set.count), count: set.count, rows: 7, cols: 7 };
}

describe('bad input', () => {
  const rng = makeRng(41);
  const train = randomSet(rng, 60, 9, 3);

  it('a covariance that is not positive definite names the class and pivot', async () => {
    const flat = { ...train, images: train.images.slice() };
    for (let n = 0; n < flat.count; n++) if (flat.labels[n] === 2) flat.images[n * 9 + 4] = 17; // pixel 4 constant in class 2
    await expect(fitGaussian(rt(), flat, { regularization: 0 })).rejects.toThrow(
      /class 2: its covariance \+ 0·I is not positive definite: Cholesky pivot 4 of 9 .*increase the regularisation/,
    );
    // Any λ > 0 repairs it.
    const model = await fitGaussian(rt(), flat, { regularization: 1 });
    expect(model.covariance[2 * 81 + 4 * 9 + 4]).toBe(0);
  });

  it('a class with no examples, a label past classes, a bad λ or block size', async () => {
    await expect(fitGaussian(rt(), train, { classes: 4 })).rejects.toThrow(/class 3 has no training examples/);
    await expect(fitGaussian(rt(), train, { classes: 2 })).rejects.toThrow(/has label 2, but classes is 2/);
    await expect(fitGaussian(rt(), train, { regularization: -1 })).rejects.toThrow(/regularization must be a finite number ≥ 0/);
    await expect(fitGaussian(rt(), train, { regularization: Number.NaN })).rejects.toThrow(/regularization/);
    await expect(fitGaussian(rt(), train, { blockExamples: 6 })).rejects.toThrow(/multiple of 4/);
    await expect(fitGaussian(rt(), train, { blockExamples: MAX_BLOCK_EXAMPLES + 4 })).rejects.toThrow(/cannot overflow/);
    await expect(fitGaussian(rt(), { ...train, count: 61 })).rejects.toThrow(/fewer than count × features/);
  });

  it('test images of another size, a damaged model', async () => {
    const model = await fitGaussian(rt(), train);
    const other = randomSet(rng, 5, 10, 3);
    await expect(scoreGaussian(rt(), model, other)).rejects.toThrow(/test images have 10 features, the model was fitted on 9/);
    await expect(scoreGaussian(rt(), { ...model, inverseFactor: new Float64Array(3) }, randomSet(rng, 5, 9, 3))).rejects.toThrow(
      /model.inverseFactor has 3 entries, expected 243/,
    );
    await expect(scoreGaussian(rt(), model, randomSet(rng, 5, 9, 3), { chunkImages: 40 })).rejects.toThrow(/multiple of 32/);
  });

  it('sizes over the adapter\'s storage buffer limit', async () => {
    const r = rt();
    const small = Object.create(r, { limits: { value: { maxStorageBufferBindingSize: 256, maxBufferSize: r.limits.maxBufferSize } } }) as Runtime;
    const big = randomSet(rng, 300, 9, 3);
    await expect(fitGaussian(small, big)).rejects.toThrow(/the training images need 2.6 KiB, more than this adapter's storage buffer limit of 256 B/);
    const model = await fitGaussian(r, train);
    await expect(scoreGaussian(small, model, big)).rejects.toThrow(/the test images need .* storage buffer limit of 256 B\. Score the test set in parts/);
  });
});

describe('GPU buffers', () => {
  it('fit and score free every buffer they create', async () => {
    const r = rt();
    const rng = makeRng(51);
    const train = randomSet(rng, 100, 20, 4);
    r.pool.trim();
    const before = r.pool.live;
    const model = await fitGaussian(r, train);
    expect(r.pool.inUse).toBe(before);
    await scoreGaussian(r, model, train, { chunkImages: 32, onProgress: () => undefined });
    expect(r.pool.inUse).toBe(before);
    r.pool.trim(); // the read-back staging buffers the runtime pooled
    expect(r.pool.live).toBe(before);
    expectNoGpuErrors(r);
  });
});

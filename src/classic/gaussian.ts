/**
 * The Gaussian generative classifier (seeds/003): per class c the mean μ_c,
 * the full covariance Σ_c (divided by N_c, as numpy's `cov(..., bias=1)`)
 * plus λ·I, and the prior π_c = N_c / N; an image x goes to the class with
 * the largest
 *
 *   log π_c + log N(x; μ_c, Σ_c + λI)
 *     = log π_c − ½·log det(Σ_c + λI) − (D/2)·log 2π − ½·‖A_c (x − μ_c)‖²
 *
 * with Σ_c + λI = L_c L_cᵀ and A_c = L_c⁻¹. The work splits in three:
 *
 * 1. On the GPU (shaders/classic/gaussian.wgsl), the per-class Gram matrices
 *    S_c = Σ x̃ x̃ᵀ of x̃ = (x, 1) as one integer GEMM per class: u32 sums of
 *    byte products, four examples per word, upper-triangle tiles only. The
 *    extra constant feature makes the same product yield N_c and Σx. Every
 *    entry is an exact integer; a class with more than 66,048 examples is cut
 *    into blocks that each stay below 2³², added up in f64 on the CPU.
 * 2. On the CPU, in f64: Σ_c = (N_c·S_c − s sᵀ) / N_c² from those exact
 *    integers (the numerator is exact while N_c²·255² < 2⁵³, so only the
 *    final division rounds and there is no cancellation), then the Cholesky
 *    factor L_c of Σ_c + λI, log det = 2 Σ log L_c[i, i], and A_c = L_c⁻¹.
 *    These stay on the CPU because they are sequential (each pivot depends on
 *    all before it: D steps with little parallel work each), small
 *    (10 × 784³/3 flops ≈ 2 GFLOP in all, about a second in JS) and want f64:
 *    the log-determinant is a sum of 784 logarithms whose differences between
 *    classes decide close calls, and WGSL has no f64.
 * 3. On the GPU again, the quadratic forms q[n, c] = ‖A_c (x_n − μ_c)‖² of
 *    every test image as a triangular GEMM per class (x − μ_c formed while the
 *    bytes are loaded; the all-zero tiles right of A_c's diagonal skipped),
 *    read back once as an (N, K) f32 array; the scores are then assembled in
 *    f64 on the CPU.
 *
 * The CPU twin is src/reference/gaussian.ts (two-pass moments, Cholesky and a
 * forward substitution per test image, no Gram matrices and no inverse). The
 * GPU steps are the kernel families gaussian.pack, gaussian.gram and
 * gaussian.score of src/ops/classic/gaussian.ts.
 */
import { formatBytes } from '../gpu/buffers.js';
import type { Runtime } from '../gpu/runtime.js';
import { runFamily } from '../ops/family.js';
import { GAUSSIAN_GRAM, GAUSSIAN_PACK, GAUSSIAN_SCORE, GAUSSIAN_TILE } from '../ops/classic/gaussian.js';
import { cholesky, choleskyLogDet, invertLower, NotPositiveDefiniteError } from './linalg.js';
import type { ImageSet } from '../data/images.js';
import { checkImageSet } from './types.js';
import { hasPackedDot, isCpuAdapter } from '../gpu/features.js';

/** The notebook's λ: 4000·I added to every covariance (pixel values are 0–255). */
export const DEFAULT_REGULARIZATION = 4000;

/** The most examples one Gram block may hold: every entry, at most examples · 255², stays below 2³² (a multiple of 4). */
export const MAX_BLOCK_EXAMPLES = Math.floor((2 ** 32 - 1) / (255 * 255) / 4) * 4;

/** Output tile of gaussian_gram, and images / rows of A_c per tile of gaussian_score (see the WGSL). */
const TILE = GAUSSIAN_TILE;
/** Multiply-adds per gaussian_score dispatch: about a second on a CPU driver, so no submit runs for minutes. */
const SCORE_WORK_PER_DISPATCH = 2 ** 30;

export interface GaussianModel {
  /** K */
  classes: number;
  /** D: pixels per image. */
  features: number;
  /** (K) training examples per class. */
  counts: Float64Array;
  /** (K) log(N_c / N). */
  logPrior: Float64Array;
  /** (K, D): the class means, the "mean images". */
  mean: Float64Array;
  /** (K, D, D): the covariances, divided by N_c, without the regularisation. */
  covariance: Float64Array;
  /** λ, added to every covariance's diagonal before factorising. */
  regularization: number;
  /** (K) log det(Σ_c + λI). */
  logDet: Float64Array;
  /** (K, D, D): A_c = L_c⁻¹ where Σ_c + λI = L_c L_cᵀ; lower triangular, row-major. */
  inverseFactor: Float64Array;
}

/** Per-class moments as exact integers (held in f64). */
export interface ClassMoments {
  classes: number;
  features: number;
  /** (K) N_c */
  counts: Float64Array;
  /** (K, D) Σ_{n in c} x_n */
  sums: Float64Array;
  /** (K, D, D) Σ_{n in c} x_n x_nᵀ, both triangles. */
  gram: Float64Array;
}

export interface MomentsOptions {
  /** Classes K; by default the largest label + 1. Every class needs at least one example. */
  classes?: number;
  /**
   * Use WGSL's dot4U8Packed (language feature `packed_4x8_integer_dot_product`).
   * By default it is used where the device has it, except on SwiftShader,
   * which emulates the instruction: there unpacking each word once and reusing
   * it measured about 20% faster. `true` on a device without it is an error.
   */
  packedDot?: boolean;
  /** Examples per Gram block (a multiple of 4, at most MAX_BLOCK_EXAMPLES); smaller only to test the splitting. */
  blockExamples?: number;
}

export interface FitOptions extends MomentsOptions {
  /** λ added to every covariance's diagonal; default 4000 (the notebook's). */
  regularization?: number;
}

export interface ScoreOptions {
  /** Test images per dispatch (a multiple of 32); by default about 2³⁰ multiply-adds' worth. */
  chunkImages?: number;
  /** Called after each chunk of test images has been scored on the GPU. */
  onProgress?: (doneImages: number, totalImages: number) => void;
}

export interface GaussianScores {
  /** (N, K): log π_c + log N(x_n; μ_c, Σ_c + λI), the log posterior up to a per-image constant. */
  scores: Float64Array;
  /** argmax over classes of each row of scores (the lowest class on ties). */
  predictions: Uint8Array;
}

/** Fits the classifier: class moments on the GPU, then covariances and factors on the CPU. */
export async function fitGaussian(rt: Runtime, train: ImageSet, options: FitOptions = {}): Promise<GaussianModel> {
  const regularization = options.regularization ?? DEFAULT_REGULARIZATION;
  checkRegularization(regularization);
  const moments = await classMoments(rt, train, options);
  return gaussianFromMoments(moments, regularization);
}

/** Log posterior scores (up to a per-image constant) and predictions for a test set. */
export async function scoreGaussian(rt: Runtime, model: GaussianModel, test: ImageSet, options: ScoreOptions = {}): Promise<GaussianScores> {
  const q = await squaredMahalanobis(rt, model, test, options);
  return scoresFromMahalanobis(model, q, test.count);
}

// ---------------------------------------------------------------------------
// Fitting

/**
 * Counts, sums and Gram matrices of every class, computed exactly on the GPU.
 * Uploads the images once, packs them there (class by class, four examples
 * per word), runs one Gram dispatch per block and reads the results back once.
 */
export async function classMoments(rt: Runtime, trainSet: ImageSet, options: MomentsOptions = {}): Promise<ClassMoments> {
  const train = checkImageSet('fitGaussian: train', trainSet);
  const { count, features: D } = train;
  const labels = train.labels.subarray(0, count);
  let K = options.classes ?? 0;
  if (options.classes === undefined) for (let n = 0; n < count; n++) K = Math.max(K, labels[n]! + 1);
  if (!Number.isInteger(K) || K < 1 || K > 256) {
    throw new RangeError(`fitGaussian: classes must be an integer from 1 to 256 (labels are bytes), got ${options.classes}.`);
  }
  const counts = new Float64Array(K);
  for (let n = 0; n < count; n++) {
    const label = labels[n]!;
    if (label >= K) {
      throw new RangeError(`fitGaussian: example ${n} has label ${label}, but classes is ${K}. Pass classes: ${label + 1} or more, or fix the labels.`);
    }
    counts[label]!++;
  }
  for (let c = 0; c < K; c++) {
    if (counts[c] === 0) {
      throw new RangeError(
        `fitGaussian: class ${c} has no training examples, so it has no mean or covariance. ` +
          `Train on a set that holds every class, or pass a smaller classes.`,
      );
    }
  }
  const blockExamples = options.blockExamples ?? MAX_BLOCK_EXAMPLES;
  if (!Number.isInteger(blockExamples) || blockExamples < 4 || blockExamples % 4 !== 0 || blockExamples > MAX_BLOCK_EXAMPLES) {
    throw new RangeError(
      `fitGaussian: blockExamples must be a multiple of 4 from 4 to ${MAX_BLOCK_EXAMPLES} (so that u32 sums of ` +
        `examples · 255² cannot overflow), got ${blockExamples}.`,
    );
  }
  const packedDot = await choosePackedDot(rt, options.packedDot);

  // The examples, class by class, cut into blocks, each padded to whole groups of 4.
  const byClass: number[][] = Array.from({ length: K }, () => []);
  for (let n = 0; n < count; n++) byClass[labels[n]!]!.push(n);
  const blocks: { classIndex: number; firstGroup: number; groups: number }[] = [];
  const slots: number[] = [];
  for (let c = 0; c < K; c++) {
    const members = byClass[c]!;
    for (let first = 0; first < members.length; first += blockExamples) {
      const part = members.slice(first, first + blockExamples);
      const groups = Math.ceil(part.length / 4);
      blocks.push({ classIndex: c, firstGroup: slots.length / 4, groups });
      for (const n of part) slots.push(n);
      while (slots.length % 4 !== 0) slots.push(EMPTY);
    }
  }
  const groups = slots.length / 4;
  const DP = Math.ceil((D + 1) / 4) * 4; // x̃ = (x, 1), rounded up to whole words
  const imageBytes = count * D;
  checkBinding(rt, imageBytes, 'the training images', 'Fit on a subset of the examples or of the pixels.');
  checkBinding(rt, groups * DP * 4, 'the packed training images', 'Fit on a subset of the examples or of the pixels.');
  checkBinding(rt, blocks.length * DP * DP * 4, 'the Gram matrices', 'Fit on fewer pixels or classes.');

  const owned: GPUBuffer[] = [];
  const keep = (buffer: GPUBuffer) => (owned.push(buffer), buffer);
  try {
    const images = keep(rt.storage(train.images.subarray(0, imageBytes), 'gaussian train images'));
    const order = keep(rt.storage(Uint32Array.from(slots), 'gaussian train order'));
    const packed = keep(rt.storage(groups * DP * 4, 'gaussian packed train'));
    const gramOut = keep(rt.storage(blocks.length * DP * DP * 4, 'gaussian gram'));
    rt.submit(await runFamily(rt, GAUSSIAN_PACK, { D, DP, groups }, { images, order, packed }, 'gaussian pack'));
    for (const [index, block] of blocks.entries()) {
      const uniform = keep(rt.uniform(new Uint32Array([block.firstGroup, block.groups, index, 0]), `gaussian gram block ${index}`));
      // One submit per block (per class on MNIST: about 2 s each on a CPU driver), never one long one.
      rt.submit(await runFamily(rt, GAUSSIAN_GRAM, { DP, packedDot }, { packed, block: uniform, gram: gramOut }, `gaussian gram class ${block.classIndex}`));
    }
    const raw = new Uint32Array(await rt.read(gramOut, blocks.length * DP * DP * 4));
    return assembleMoments(raw, blocks, K, D, DP, counts);
  } finally {
    for (const buffer of owned) rt.pool.destroy(buffer);
  }
}

const EMPTY = 0xffffffff;

/** Adds the blocks' upper triangles into each class's exact counts, sums and symmetric Gram matrix. */
function assembleMoments(
  raw: Uint32Array,
  blocks: readonly { classIndex: number }[],
  K: number,
  D: number,
  DP: number,
  expectedCounts: Float64Array,
): ClassMoments {
  const counts = new Float64Array(K);
  const sums = new Float64Array(K * D);
  const gram = new Float64Array(K * D * D);
  blocks.forEach(({ classIndex: c }, b) => {
    const base = b * DP * DP;
    counts[c]! += raw[base + D * DP + D]!;
    for (let i = 0; i < D; i++) {
      const row = base + i * DP;
      sums[c * D + i]! += raw[row + D]!;
      const out = c * D * D + i * D;
      for (let j = i; j < D; j++) gram[out + j]! += raw[row + j]!;
    }
  });
  for (let c = 0; c < K; c++) {
    if (counts[c] !== expectedCounts[c]) {
      throw new Error(`fitGaussian: the GPU counted ${counts[c]} examples of class ${c}, the labels ${expectedCounts[c]}: the Gram kernel is wrong on this device.`);
    }
    const block = c * D * D;
    for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) gram[block + i * D + j] = gram[block + j * D + i]!;
  }
  return { classes: K, features: D, counts, sums, gram };
}

/**
 * The model from exact moments, in f64 on the CPU: means, covariances
 * (Σ = (N·S − s sᵀ) / N²), and per class the Cholesky factor of Σ + λI, its
 * log-determinant and its inverse. Takes over `moments.gram`: it is
 * overwritten and becomes the model's `covariance`.
 */
export function gaussianFromMoments(moments: ClassMoments, regularization: number): GaussianModel {
  checkRegularization(regularization);
  const { classes: K, features: D, counts, sums } = moments;
  let N = 0;
  for (let c = 0; c < K; c++) N += counts[c]!;
  const mean = new Float64Array(K * D);
  const covariance = moments.gram; // overwritten in place
  const logPrior = new Float64Array(K);
  const logDet = new Float64Array(K);
  const inverseFactor = new Float64Array(K * D * D);
  for (let c = 0; c < K; c++) {
    const n = counts[c]!;
    const s = sums.subarray(c * D, (c + 1) * D);
    for (let i = 0; i < D; i++) mean[c * D + i] = s[i]! / n;
    const block = covariance.subarray(c * D * D, (c + 1) * D * D);
    const squared = n * n;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) block[i * D + j] = (n * block[i * D + j]! - s[i]! * s[j]!) / squared;
    }
    const regularized = block.slice();
    for (let i = 0; i < D; i++) regularized[i * D + i]! += regularization;
    let factor: Float64Array;
    try {
      factor = cholesky(regularized, D);
    } catch (error) {
      if (!(error instanceof NotPositiveDefiniteError)) throw error;
      throw new Error(
        `fitGaussian: class ${c}: its covariance + ${regularization}·I is not positive definite: Cholesky pivot ` +
          `${error.pivot} of ${D} is ${error.value}. Pixels that never vary within a class (an image's border) ` +
          `have zero variance; increase the regularisation (options.regularization, the notebook's is 4000).`,
        { cause: error },
      );
    }
    logDet[c] = choleskyLogDet(factor, D);
    inverseFactor.set(invertLower(factor, D), c * D * D);
    logPrior[c] = Math.log(n / N);
  }
  return { classes: K, features: D, counts: counts.slice(), logPrior, mean, covariance, regularization, logDet, inverseFactor };
}

// ---------------------------------------------------------------------------
// Scoring

/**
 * q[n, c] = ‖A_c (x_n − μ_c)‖², the squared Mahalanobis distance of every
 * test image to every class, (N, K) in f32, computed on the GPU.
 */
export async function squaredMahalanobis(rt: Runtime, model: GaussianModel, testSet: ImageSet, options: ScoreOptions = {}): Promise<Float32Array> {
  checkModel(model);
  const test = checkImageSet('scoreGaussian: test', testSet);
  const { classes: K, features: D } = model;
  if (test.features !== D) {
    throw new RangeError(
      `scoreGaussian: the test images have ${test.features} features, the model was fitted on ${D}. ` +
        'Score images of the same size and pixel selection as the training images.',
    );
  }
  const N = test.count;
  const DQ = Math.ceil(D / 4); // words per test row
  const width = 4 * DQ;        // D rounded up to whole words
  checkBinding(rt, N * width, 'the test images', 'Score the test set in parts.');
  checkBinding(rt, K * width * width * 4, 'the inverse factors', 'Fit on fewer pixels or classes.');
  checkBinding(rt, N * K * 4, 'the scores', 'Score the test set in parts.');
  const perImage = (K * D * (D + 1)) / 2;
  const chunkImages = options.chunkImages ?? Math.max(TILE, Math.floor(SCORE_WORK_PER_DISPATCH / perImage / TILE) * TILE);
  if (!Number.isInteger(chunkImages) || chunkImages < TILE || chunkImages % TILE !== 0) {
    throw new RangeError(`scoreGaussian: chunkImages must be a positive multiple of ${TILE}, got ${chunkImages}.`);
  }

  // Test rows padded to whole words (no copy when D is a multiple of 4).
  let testBytes: Uint8Array = test.images.subarray(0, N * D);
  if (width !== D) {
    testBytes = new Uint8Array(N * width);
    for (let n = 0; n < N; n++) testBytes.set(test.images.subarray(n * D, (n + 1) * D), n * width);
  }
  // Means (K, width) and Aᵀ (K, width, width) in f32, zero past D.
  const means = new Float32Array(K * width);
  const factorT = new Float32Array(K * width * width);
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < D; i++) means[c * width + i] = model.mean[c * D + i]!;
    const a = model.inverseFactor.subarray(c * D * D, (c + 1) * D * D);
    const out = c * width * width;
    for (let i = 0; i < D; i++) {
      for (let j = 0; j <= i; j++) factorT[out + j * width + i] = a[i * D + j]!;
    }
  }

  const owned: GPUBuffer[] = [];
  const keep = (buffer: GPUBuffer) => (owned.push(buffer), buffer);
  try {
    const testBuffer = keep(rt.storage(testBytes, 'gaussian test images'));
    const meanBuffer = keep(rt.storage(means, 'gaussian means'));
    const factorBuffer = keep(rt.storage(factorT, 'gaussian inverse factors'));
    const q = keep(rt.storage(N * K * 4, 'gaussian q'));
    for (let first = 0; first < N; first += chunkImages) {
      const end = Math.min(N, first + chunkImages);
      const chunk = keep(rt.uniform(new Uint32Array([first, end, 0, 0]), `gaussian score images ${first}–${end - 1}`));
      rt.submit(await runFamily(rt, GAUSSIAN_SCORE, { D, K, images: end - first },
        { test: testBuffer, means: meanBuffer, factorT: factorBuffer, chunk, q }, `gaussian score images ${first}–${end - 1}`));
      if (options.onProgress) {
        await rt.sync();
        options.onProgress(end, N);
      }
    }
    return await rt.readF32(q, N * K);
  } finally {
    for (const buffer of owned) rt.pool.destroy(buffer);
  }
}

/** score[n, c] = log π_c − ½·log det_c − (D/2)·log 2π − ½·q[n, c], in f64, and the argmax of each row. */
export function scoresFromMahalanobis(model: GaussianModel, q: ArrayLike<number>, count: number): GaussianScores {
  const { classes: K, features: D } = model;
  if (q.length !== count * K) throw new RangeError(`scoresFromMahalanobis: q has ${q.length} entries, expected ${count} × ${K}.`);
  const constant = new Float64Array(K);
  for (let c = 0; c < K; c++) constant[c] = model.logPrior[c]! - 0.5 * model.logDet[c]! - 0.5 * D * Math.log(2 * Math.PI);
  const scores = new Float64Array(count * K);
  const predictions = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    let best = 0;
    for (let c = 0; c < K; c++) {
      const score = constant[c]! - 0.5 * q[n * K + c]!;
      scores[n * K + c] = score;
      if (score > scores[n * K + best]!) best = c;
    }
    predictions[n] = best;
  }
  return { scores, predictions };
}

// ---------------------------------------------------------------------------
// Checks and device features

function checkRegularization(value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`fitGaussian: regularization must be a finite number ≥ 0 (the notebook's is 4000), got ${value}.`);
  }
}

function checkModel(model: GaussianModel): void {
  const { classes: K, features: D } = model;
  const expect = (what: string, array: ArrayLike<number>, length: number) => {
    if (array.length !== length) {
      throw new RangeError(`scoreGaussian: model.${what} has ${array.length} entries, expected ${length} for ${K} classes and ${D} features.`);
    }
  };
  expect('mean', model.mean, K * D);
  expect('logPrior', model.logPrior, K);
  expect('logDet', model.logDet, K);
  expect('inverseFactor', model.inverseFactor, K * D * D);
}

function checkBinding(rt: Runtime, bytes: number, what: string, advice: string): void {
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize, 2 ** 32 - 4);
  if (bytes > limit) {
    throw new RangeError(
      `Gaussian classifier: ${what} need ${formatBytes(bytes)}, more than this adapter's storage buffer limit of ${formatBytes(limit)}. ${advice}`,
    );
  }
}

async function choosePackedDot(rt: Runtime, requested: boolean | undefined): Promise<boolean> {
  const available = await hasPackedDot(rt);
  if (requested === true && !available) {
    throw new Error(
      'fitGaussian: packedDot: true, but this device\'s WGSL has no packed_4x8_integer_dot_product. ' +
        'Leave packedDot unset to use the portable path.',
    );
  }
  return requested ?? (available && !isCpuAdapter(rt));
}

/**
 * Exact 1-nearest-neighbour classification in squared Euclidean distance on
 * raw pixels (shaders/classic/knn.wgsl).
 *
 * The train set is packed four pixels to a u32 word and uploaded once, with
 * its squared norms. A query packs and uploads the test rows chunk by chunk;
 * per chunk three dispatches run: the test norms, the tiled test × train GEMM
 * with a fused argmin (one best pair per test row and train slice, never a
 * distance matrix), and the reduction over slices. Distances are u32 and exact,
 * and equal distances go to the lowest train index, so the result is the same
 * on every adapter and equals the CPU twin's (src/reference/knn.ts). The three
 * kernels are the families knn.norms, knn.nearest ('direct' or 'tiled', chosen
 * here and named) and knn.reduce of src/ops/classic/knn.ts.
 */
import { formatBytes } from '../gpu/buffers.js';
import type { Runtime } from '../gpu/runtime.js';
import type { ImageSet } from '../data/images.js';
import { checkImageSet } from './types.js';
import { hasPackedDot, isCpuAdapter } from '../gpu/features.js';
import { runFamily } from '../ops/family.js';
import { KNN_NEAREST, KNN_NORMS, KNN_REDUCE, KNN_ROW_THREADS, nearestSharedBytes, type NearestTile } from '../ops/classic/knn.js';

export type { NearestTile };

export interface NearestResult {
  /** Train index of each test row's nearest neighbour (the lowest one on ties). */
  index: Uint32Array;
  /** The exact squared Euclidean distance to it. */
  distance: Uint32Array;
  /** The train label of the neighbour: the 1-NN prediction. */
  predictions: Uint8Array;
}

/**
 * Which GEMM kernel finds the nearest rows: 'direct' (kernel 1) reads every
 * thread's rows straight from storage; 'tiled' (kernel 2) stages them through
 * workgroup memory.
 */
export type NearestKernel = 'direct' | 'tiled';

export interface NearestNeighbourOptions {
  /**
   * Use WGSL's dot4U8Packed (the `packed_4x8_integer_dot_product` language
   * feature). By default it is used when the device's WGSL has it; `false`
   * selects the path that unpacks bytes by hand, which every device runs.
   * `true` on a device without the feature is an error.
   */
  packedDot?: boolean;
  /** The GEMM kernel; by default 'direct' on CPU adapters and 'tiled' elsewhere. */
  kernel?: NearestKernel;
  /** Tile shape; by default `GPU_TILE` for 'tiled' and `CPU_TILE` for 'direct'. */
  tile?: NearestTile;
}

export interface QueryOptions {
  /**
   * Test rows per submit, a multiple of 64. By default about 2²⁶ test × train
   * pairs, which bounds how long one submit keeps the GPU busy.
   */
  chunkRows?: number;
  /**
   * Slices the train set is cut into, each searched by its own workgroups and
   * then merged. By default enough for about 1,024 workgroups per dispatch, so
   * that a GPU with many cores has work for all of them; at most one per train tile.
   */
  slices?: number;
  /** Called after each chunk of test rows has finished on the GPU. */
  onProgress?: (doneRows: number, totalRows: number) => void;
}

/** 64 × 64 rows per workgroup (16 × 16 threads, 4 × 4 results each), 16 words (64 pixels) per step. */
export const GPU_TILE: NearestTile = { test: 64, train: 64, words: 16 };
/**
 * 16 × 32 rows per workgroup (8 × 4 threads). On SwiftShader small workgroups
 * were faster (fewer invocations to switch between); shapes from 8 × 8 to
 * 32 × 32 measured within 15% of each other.
 */
export const CPU_TILE: NearestTile = { test: 16, train: 32, words: 16 };

/** ‖x‖² + ‖y‖² ≤ 2·features·255² must stay below 2³². */
export const MAX_FEATURES = Math.floor((2 ** 32 - 1) / (2 * 255 * 255));

/** Test × train pairs per submit: bounds one submit's time (and a browser's GPU watchdog). */
const PAIRS_PER_CHUNK = 2 ** 26;
/** Workgroups per nearest-kernel dispatch to aim for; the train set is cut into slices to reach it. */
const TARGET_WORKGROUPS = 1024;
/** Threads per workgroup of knn_norms and knn_reduce. */
const ROW_THREADS = KNN_ROW_THREADS;

/** Exact 1-NN against one train set, kept on the GPU until `destroy()`. */
export class NearestNeighbour {
  private destroyed = false;

  private constructor(
    private readonly rt: Runtime,
    /** Train rows. */
    readonly count: number,
    /** Pixels per row. */
    readonly features: number,
    /** u32 words per packed row. */
    readonly words: number,
    readonly kernel: NearestKernel,
    readonly tile: NearestTile,
    /** Whether the kernels use dot4U8Packed. */
    readonly packedDot: boolean,
    private readonly labels: Uint8Array,
    private readonly trainWords: GPUBuffer,
    private readonly trainNorms: GPUBuffer,
  ) {}

  /**
   * Checks the train set (once: a CheckedImageSet is taken as it is), uploads it packed and computes its norms;
   * the search's pipelines are built at the first query.
   */
  static async create(rt: Runtime, trainSet: ImageSet, options: NearestNeighbourOptions = {}): Promise<NearestNeighbour> {
    const train = checkImageSet('NearestNeighbour train set', trainSet);
    const { count, features } = train;
    if (features > MAX_FEATURES) {
      throw new RangeError(
        `NearestNeighbour: ${features} features per row is more than ${MAX_FEATURES}, above which exact u32 ` +
          'distances could overflow. Downsample the images or reduce the features first.',
      );
    }
    const words = Math.ceil(features / 4);
    const trainBytes = count * words * 4;
    const bindingLimit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
    if (trainBytes > bindingLimit) {
      const fits = Math.floor(bindingLimit / (words * 4));
      throw new RangeError(
        `NearestNeighbour: the packed train set (${count} rows × ${words * 4} bytes) needs ${formatBytes(trainBytes)}, ` +
          `more than this adapter's maxStorageBufferBindingSize of ${formatBytes(bindingLimit)}. Use at most ` +
          `${fits} train rows per NearestNeighbour, and for a larger set query each part and keep the nearer answer ` +
          '(the lower index on equal distances).',
      );
    }
    const cpu = isCpuAdapter(rt);
    const kernel = options.kernel ?? (cpu ? 'direct' : 'tiled');
    const tile = options.tile ?? (kernel === 'direct' ? CPU_TILE : GPU_TILE);
    checkTile(rt, kernel, tile);
    const available = await hasPackedDot(rt);
    if (options.packedDot === true && !available) {
      throw new Error(
        'NearestNeighbour: packedDot was requested but this device\'s WGSL lacks the packed_4x8_integer_dot_product ' +
          'language feature. Leave packedDot unset to use the path that unpacks bytes by hand.',
      );
    }
    // On SwiftShader dot4U8Packed is emulated, and unpacking each word once per load measured faster.
    const packedDot = options.packedDot ?? (available && !cpu);
    const trainWords = rt.storage(packRows(train.images, count, features, words), 'knn train words');
    let trainNorms: GPUBuffer;
    try {
      trainNorms = rt.storage(count * 4, 'knn train norms');
    } catch (error) {
      rt.pool.destroy(trainWords);
      throw error;
    }
    try {
      rt.submit(await normsDispatches(rt, trainWords, trainNorms, count, words, packedDot, 'knn train norms'));
    } catch (error) {
      rt.pool.destroy(trainWords);
      rt.pool.destroy(trainNorms);
      throw error;
    }
    const labels = Uint8Array.from(train.labels.subarray(0, count));
    return new NearestNeighbour(rt, count, features, words, kernel, tile, packedDot, labels, trainWords, trainNorms);
  }

  /** The nearest train row of every test row. */
  async query(testSet: ImageSet, options: QueryOptions = {}): Promise<NearestResult> {
    if (this.destroyed) throw new Error('NearestNeighbour.query: this instance was destroyed; create a new one.');
    const test = checkImageSet('NearestNeighbour.query test set', testSet);
    if (test.features !== this.features) {
      throw new RangeError(
        `NearestNeighbour.query: test rows have ${test.features} features but the train rows have ${this.features}. ` +
          'Both sets must hold images of the same size.',
      );
    }
    const { rt, words, tile } = this;
    const trainTiles = Math.ceil(this.count / tile.train);
    const chunkRows = this.chunkRows(test.count, options.chunkRows);
    if (options.slices !== undefined && (!Number.isInteger(options.slices) || options.slices < 1)) {
      throw new RangeError(`NearestNeighbour.query: slices must be an integer ≥ 1, got ${options.slices}.`);
    }
    const slicesFor = (rows: number) =>
      Math.min(
        trainTiles,
        rt.limits.maxComputeWorkgroupsPerDimension,
        options.slices ?? Math.ceil(TARGET_WORKGROUPS / Math.ceil(rows / tile.test)),
      );

    const packed = new Uint32Array(chunkRows * words);
    const testWords = rt.storage(packed.byteLength, 'knn test words');
    const testNorms = rt.storage(chunkRows * 4, 'knn test norms');
    // Chunks are chunkRows long except perhaps the last; the slice bests buffer fits either.
    const lastRows = test.count - Math.floor((test.count - 1) / chunkRows) * chunkRows;
    const partialPairs = Math.max(chunkRows * slicesFor(chunkRows), lastRows * slicesFor(lastRows));
    const partial = rt.storage(partialPairs * 8, 'knn slice bests');
    const nearest = rt.storage(test.count * 8, 'knn nearest');
    try {
      for (let first = 0; first < test.count; first += chunkRows) {
        const rows = Math.min(chunkRows, test.count - first);
        const slices = slicesFor(rows);
        packRows(test.images.subarray(first * test.features), rows, test.features, words, packed);
        rt.write(testWords, packed.subarray(0, rows * words));
        const { packedDot } = this;
        const dispatches = (await Promise.all([
          normsDispatches(rt, testWords, testNorms, rows, words, packedDot, 'knn test norms'),
          // The kernel chosen at create (both give the same exact distances).
          runFamily(rt, KNN_NEAREST, { rows, train: this.count, words, slices, tile, packedDot }, {
            testWords: { buffer: testWords, size: rows * words * 4, shape: [rows, words] },
            testNorms: { buffer: testNorms, size: rows * 4, shape: [rows] },
            trainWords: { buffer: this.trainWords, size: this.count * words * 4, shape: [this.count, words] },
            trainNorms: { buffer: this.trainNorms, size: this.count * 4, shape: [this.count] },
            partial: { buffer: partial, size: rows * slices * 8, shape: [rows, slices, 2] },
          }, 'knn nearest', { variant: this.kernel }),
          runFamily(rt, KNN_REDUCE, { rows, slices, packedDot }, {
            partial: { buffer: partial, size: rows * slices * 8, shape: [rows, slices, 2] },
            nearest: { buffer: nearest, offset: first * 8, size: rows * 8, shape: [rows, 2] },
          }, 'knn reduce'),
        ])).flat();
        rt.submit(dispatches);
        if (options.onProgress) {
          await rt.sync();
          options.onProgress(first + rows, test.count);
        }
      }
      const pairs = await rt.readU32(nearest, test.count * 2);
      const index = new Uint32Array(test.count);
      const distance = new Uint32Array(test.count);
      const predictions = new Uint8Array(test.count);
      for (let t = 0; t < test.count; t++) {
        distance[t] = pairs[2 * t]!;
        index[t] = pairs[2 * t + 1]!;
        predictions[t] = this.labels[index[t]!]!;
      }
      return { index, distance, predictions };
    } finally {
      for (const buffer of [testWords, testNorms, partial, nearest]) rt.pool.destroy(buffer);
    }
  }

  /** Frees the train set's GPU buffers. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.rt.pool.destroy(this.trainWords);
    this.rt.pool.destroy(this.trainNorms);
  }

  /**
   * Test rows per submit: about PAIRS_PER_CHUNK pairs, a multiple of 64 (so
   * each chunk's slice of the result buffer starts at a 512-byte boundary,
   * which every adapter's storage offset alignment divides), within the
   * workgroup-count and binding-size limits.
   */
  private chunkRows(testCount: number, requested?: number): number {
    const { limits } = this.rt;
    if (requested !== undefined && (!Number.isInteger(requested) || requested < 64 || requested % 64 !== 0)) {
      throw new RangeError(`NearestNeighbour.query: chunkRows must be a multiple of 64 (≥ 64), got ${requested}.`);
    }
    const byPairs = requested ?? Math.floor(PAIRS_PER_CHUNK / this.count / 64) * 64;
    // The nearest kernel and knn_reduce take min(tile.test, ROW_THREADS) rows per workgroup along x.
    const byGroups = Math.floor((limits.maxComputeWorkgroupsPerDimension * Math.min(this.tile.test, ROW_THREADS)) / 64) * 64;
    const byBytes = Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (this.words * 4) / 64) * 64;
    const rows = Math.max(64, Math.min(byPairs, byGroups, byBytes));
    return Math.min(rows, Math.ceil(testCount / 64) * 64);
  }
}

/** Finds each test row's nearest train row: create, query, destroy. */
export async function nearestNeighbour(
  rt: Runtime,
  train: ImageSet,
  test: ImageSet,
  options: NearestNeighbourOptions & QueryOptions = {},
): Promise<NearestResult> {
  const model = await NearestNeighbour.create(rt, train, options);
  try {
    return await model.query(test, options);
  } finally {
    model.destroy();
  }
}

/**
 * Packs `count` rows of `features` bytes into `words` u32 words each (four
 * pixels a word, zero bytes after the last pixel). The byte order inside a
 * word does not matter: both sides of every dot product are packed alike.
 */
function packRows(
  images: Uint8Array,
  count: number,
  features: number,
  words: number,
  out = new Uint32Array(count * words),
): Uint32Array {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, count * words * 4);
  if (features === words * 4) {
    bytes.set(images.subarray(0, count * features));
  } else {
    bytes.fill(0);
    for (let r = 0; r < count; r++) bytes.set(images.subarray(r * features, (r + 1) * features), r * words * 4);
  }
  return out;
}

function checkTile(rt: Runtime, kernel: NearestKernel, tile: NearestTile): void {
  const { test, train, words } = tile;
  const limits = rt.limits;
  const problem = (what: string) =>
    new RangeError(
      `NearestNeighbour tile ${test}×${train}×${words} (test rows × train rows × words): ${what}. ` +
        `The default tiles are ${GPU_TILE.test}×${GPU_TILE.train}×${GPU_TILE.words} and ${CPU_TILE.test}×${CPU_TILE.train}×${CPU_TILE.words}.`,
    );
  for (const [name, value] of [['test', test], ['train', train]] as const) {
    if (!Number.isInteger(value) || value < 4 || value % 4 !== 0) throw problem(`${name} rows must be a multiple of 4, ≥ 4`);
  }
  if (!Number.isInteger(words) || words < 1) throw problem('words must be an integer ≥ 1');
  const threadsX = train / 4;
  const threadsY = test / 4;
  if (threadsX > limits.maxComputeWorkgroupSizeX || threadsY > limits.maxComputeWorkgroupSizeY) {
    throw problem(
      `${threadsX}×${threadsY} threads exceed this adapter's workgroup size limits ` +
        `(${limits.maxComputeWorkgroupSizeX}×${limits.maxComputeWorkgroupSizeY})`,
    );
  }
  if (threadsX * threadsY > limits.maxComputeInvocationsPerWorkgroup) {
    throw problem(
      `${threadsX * threadsY} threads per workgroup exceed this adapter's ${limits.maxComputeInvocationsPerWorkgroup}`,
    );
  }
  const shared = nearestSharedBytes(kernel, tile);
  if (shared > limits.maxComputeWorkgroupStorageSize) {
    throw problem(
      `it needs ${shared} bytes of workgroup memory, more than this adapter's ${limits.maxComputeWorkgroupStorageSize}`,
    );
  }
}

/** knn.norms over `rows` packed rows. */
function normsDispatches(rt: Runtime, words: GPUBuffer, norms: GPUBuffer, rows: number, wordsPerRow: number, packedDot: boolean, label: string) {
  return runFamily(rt, KNN_NORMS, { rows, words: wordsPerRow, packedDot }, {
    words: { buffer: words, size: rows * wordsPerRow * 4, shape: [rows, wordsPerRow] },
    norms: { buffer: norms, size: rows * 4, shape: [rows] },
  }, label);
}

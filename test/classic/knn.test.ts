/**
 * Exact 1-nearest-neighbour (shaders/classic/knn.wgsl, src/classic/knn.ts)
 * against the CPU twin in src/reference/knn.ts: indices and squared distances
 * must be equal, not close. Sizes are chosen so that rows, tiles, slices and
 * chunks all end part-way, and duplicated rows sit on both sides of every
 * boundary, where a wrong tie-break would show.
 */
import { describe, expect, it } from 'vitest';
import { firstImages as head, imageSet, pick, type ImageSet } from '../../src/data/images.js';
import {
  CPU_TILE,
  GPU_TILE,
  MAX_FEATURES,
  NearestNeighbour,
  nearestNeighbour,
  type NearestNeighbourOptions,
  type NearestResult,
} from '../../src/classic/knn.js';
import { loadMnist } from '../../src/data/mnist.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { nearestNeighbourCpu } from '../../src/reference/knn.js';
import type { TestRng as Rng } from '../../src/reference/test-rng.js';
import { mnistDir } from '../helpers.js';
import { expectNoGpuErrors, makeRng, useRuntime } from '../kernels/gpu.js';
import { hasPackedDot } from '../../src/gpu/features.js';

const rt = useRuntime();

/** `count` rows of `features` random bytes; labels are the row index mod 10. */
function randomSet(rng: Rng, count: number, features: number): ImageSet {
  const images = new Uint8Array(count * features);
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, rows: 1, cols: features };
}

/** Throws unless the GPU result equals the twin's, naming the first mismatching test rows. */
function expectSameAsTwin(got: NearestResult, train: ImageSet, test: ImageSet, label: string): void {
  const want = nearestNeighbourCpu(train, test);
  const bad: string[] = [];
  for (let t = 0; t < test.count; t++) {
    if (got.index[t] !== want.index[t] || got.distance[t] !== want.distance[t]) {
      bad.push(`row ${t}: GPU (index ${got.index[t]}, distance ${got.distance[t]}), twin (index ${want.index[t]}, distance ${want.distance[t]})`);
    }
    expect(got.predictions[t]).toBe(train.labels[want.index[t]!]);
  }
  if (bad.length) throw new Error(`${label}: ${bad.length} of ${test.count} rows differ:\n  ${bad.slice(0, 8).join('\n  ')}`);
}

/**
 * The kernels, tile shapes and dot-product paths every comparison runs with:
 * each kernel with its default tile and with 8 × 8 tiles (many tiles and
 * slices; 3 words per step, which does not divide the rows' words), each
 * dot-product path at least once. Pipelines are cached by shape, so the tests
 * share one train shape (TRAIN_ROWS × FEATURES) to build each pipeline once.
 */
async function variants(r: Runtime): Promise<{ name: string; options: NearestNeighbourOptions }[]> {
  const packedDot = await hasPackedDot(r);
  const dot = packedDot ? 'dot4U8Packed' : 'unpacked bytes';
  const small = { test: 8, train: 8, words: 3 };
  return [
    { name: 'direct, CPU tile, unpacked bytes', options: { kernel: 'direct', tile: CPU_TILE, packedDot: false } },
    { name: `direct, tile 8×8, ${dot}`, options: { kernel: 'direct', tile: small, packedDot } },
    { name: `tiled, GPU tile, ${dot}`, options: { kernel: 'tiled', tile: GPU_TILE, packedDot } },
    { name: 'tiled, tile 8×8×3, unpacked bytes', options: { kernel: 'tiled', tile: small, packedDot: false } },
  ];
}

const TRAIN_ROWS = 203;
const FEATURES = 37;

describe('nearestNeighbourCpu (the twin)', () => {
  it('finds the nearest row by hand-checked distances, the lower index on ties', () => {
    const train: ImageSet = { images: Uint8Array.from([0, 0, 10, 0, 20, 0, 12, 2]), labels: Uint8Array.from([0, 1, 2, 3]), count: 4, rows: 1, cols: 2 };
    const test: ImageSet = { images: Uint8Array.from([14, 0, 11, 1, 255, 255]), labels: new Uint8Array(3), count: 3, rows: 1, cols: 2 };
    // (14, 0): to (10, 0) 16, to (12, 2) 4 + 4 = 8 → row 3.  (11, 1): 1 + 1 = 2 to both rows 1 and 3 → row 1.
    // (255, 255): to (20, 0) 235² + 255² = 120250, to (12, 2) 243² + 253² = 123058 → row 2.
    const { index, distance } = nearestNeighbourCpu(train, test);
    expect([...index]).toEqual([3, 1, 2]);
    expect([...distance]).toEqual([8, 2, 120250]);
  });
});

describe('NearestNeighbour on the GPU equals the twin exactly', () => {
  it(`random bytes: ${FEATURES} features, ${TRAIN_ROWS} train rows, 71 test rows, in chunks and slices`, async () => {
    const r = rt();
    const rng = makeRng(3);
    const train = randomSet(rng, TRAIN_ROWS, FEATURES);
    const test = randomSet(rng, 71, FEATURES);
    for (const { name, options } of await variants(r)) {
      const model = await NearestNeighbour.create(r, train, options);
      expectSameAsTwin(await model.query(test), train, test, name);
      expectSameAsTwin(await model.query(test, { chunkRows: 64 }), train, test, `${name}, chunks of 64`);
      expectSameAsTwin(await model.query(test, { slices: 1 }), train, test, `${name}, one slice`);
      expectSameAsTwin(await model.query(test, { slices: 3 }), train, test, `${name}, three slices`);
      model.destroy();
    }
    expectNoGpuErrors(r);
  });

  it('one train row, one test row, one feature', async () => {
    const train: ImageSet = { images: Uint8Array.from([200]), labels: Uint8Array.from([7]), count: 1, rows: 1, cols: 1 };
    const test: ImageSet = { images: Uint8Array.from([3]), labels: Uint8Array.from([0]), count: 1, rows: 1, cols: 1 };
    const got = await nearestNeighbour(rt(), train, test);
    expect([got.index[0], got.distance[0], got.predictions[0]]).toEqual([0, 197 * 197, 7]);
  });

  it.skipIf(!mnistDir())('MNIST: 300 train × 100 test images', async () => {
    const mnist = await loadMnist({ dir: mnistDir()! });
    const train = head(imageSet(mnist.train), 300);
    const test = head(imageSet(mnist.test), 100);
    const got = await nearestNeighbour(rt(), train, test);
    expectSameAsTwin(got, train, test, 'MNIST 300 × 100');
    let correct = 0;
    for (let t = 0; t < test.count; t++) if (got.predictions[t] === test.labels[t]) correct++;
    expect(correct).toBeGreaterThan(60); // 1-NN on 300 MNIST images is right about 3 times in 4
    expectNoGpuErrors(rt());
  });
});

describe('ties go to the lowest train index', () => {
  // One image copied to train rows in the same thread's columns, in neighbouring
  // threads, in later tiles and in later slices, for tiles of 8, 32 and 64 rows
  // (25 and 29 share a thread of a tile of 8 rows, 21 and 29 of 32 rows, 21 and 37 of 64).
  const COPIES = [21, 22, 25, 29, 37, 63, 64, 65, 130, 200];

  function tieSets(): { train: ImageSet; test: ImageSet } {
    const rng = makeRng(11);
    // Background rows are random bytes, about 37 · 6,000 away from the constant rows below.
    const train = randomSet(rng, TRAIN_ROWS, FEATURES);
    const target = new Uint8Array(FEATURES).fill(100);
    for (const n of COPIES) train.images.set(target, n * FEATURES);
    // Two more rows 10² = 100 from `target`: row 40 differs in pixel 5, row 150 in pixel 0.
    const minus = target.slice();
    minus[5] = 90;
    const plus = target.slice();
    plus[0] = 110;
    train.images.set(minus, 40 * FEATURES);
    train.images.set(plus, 150 * FEATURES);
    // Test rows: `target` itself (0 from every copy); `target` with pixel 3 at 103 (9 from
    // every copy); and `target` with pixels 0 and 5 at 105 and 95, which is 5² + 5² = 50
    // from every copy and from rows 40 and 150 alike.
    const near = target.slice();
    near[3] = 103;
    const between = target.slice();
    between[0] = 105;
    between[5] = 95;
    const rows = [target, near, between];
    const test: ImageSet = {
      images: new Uint8Array(rows.length * FEATURES),
      labels: new Uint8Array(rows.length),
      count: rows.length,
      rows: 1,
      cols: FEATURES,
    };
    rows.forEach((row, i) => test.images.set(row, i * FEATURES));
    return { train, test };
  }

  it('duplicated train rows across threads, tiles and slices, and equidistant rows', async () => {
    const r = rt();
    const { train, test } = tieSets();
    const twin = nearestNeighbourCpu(train, test);
    // The twin's answers, checked by hand first.
    expect([...twin.index]).toEqual([21, 21, 21]);
    expect([...twin.distance]).toEqual([0, 9, 50]);
    for (const { name, options } of await variants(r)) {
      const model = await NearestNeighbour.create(r, train, options);
      for (const slices of [1, 2, 1000]) {
        expectSameAsTwin(await model.query(test, { slices }), train, test, `${name}, ${slices} slices`);
      }
      model.destroy();
    }
    // With the copies below row 64 gone, the third test row ties between rows 40, 64, 65,
    // 130, 150 and 200, spread over several tiles and slices.
    const later = { ...train, images: train.images.slice() };
    const rng = makeRng(5);
    for (const n of COPIES.filter((n) => n < 64)) {
      for (let p = 0; p < FEATURES; p++) later.images[n * FEATURES + p] = rng.int(256);
    }
    const lastTest = pick(test, [2]);
    expect([...nearestNeighbourCpu(later, lastTest).index]).toEqual([40]);
    for (const { name, options } of await variants(r)) {
      expectSameAsTwin(await nearestNeighbour(r, later, lastTest, options), later, lastTest, `${name}, rows 40 and 150`);
    }
    expectNoGpuErrors(r);
  });

  it('every test row that is a train row finds it at distance 0', async () => {
    const r = rt();
    const rng = makeRng(17);
    const train = randomSet(rng, TRAIN_ROWS, FEATURES);
    const rows = [0, 1, 63, 64, 100, 202];
    const test = pick(train, rows);
    const got = await nearestNeighbour(r, train, test);
    expect([...got.index]).toEqual(rows);
    expect([...got.distance]).toEqual(rows.map(() => 0));
    expect([...got.predictions]).toEqual(rows.map((n) => n % 10));
  });
});

describe('bad input', () => {
  const set = (count: number, features: number): ImageSet => ({
    images: new Uint8Array(count * features),
    labels: new Uint8Array(count),
    count,
    rows: 1,
    cols: features,
  });

  it('names the problem', async () => {
    const r = rt();
    const train = set(TRAIN_ROWS, FEATURES);
    await expect(nearestNeighbour(r, train, set(3, 6))).rejects.toThrow(/6 features but the train rows have 37/);
    await expect(nearestNeighbour(r, set(0, 5), set(3, 5))).rejects.toThrow(/count \(0\).*must be integers ≥ 1/);
    await expect(nearestNeighbour(r, train, set(0, FEATURES))).rejects.toThrow(/test set: count \(0\)/);
    await expect(NearestNeighbour.create(r, set(2, MAX_FEATURES + 1))).rejects.toThrow(/could overflow/);
    await expect(NearestNeighbour.create(r, set(10, 5), { tile: { test: 6, train: 8, words: 4 } })).rejects.toThrow(
      /test rows must be a multiple of 4/,
    );
    await expect(NearestNeighbour.create(r, set(10, 5), { kernel: 'tiled', tile: { test: 64, train: 64, words: 100_000 } })).rejects.toThrow(
      /bytes of workgroup memory/,
    );
    const model = await NearestNeighbour.create(r, train);
    await expect(model.query(set(3, FEATURES), { chunkRows: 100 })).rejects.toThrow(/multiple of 64/);
    await expect(model.query(set(3, FEATURES), { slices: 0 })).rejects.toThrow(/slices must be an integer ≥ 1/);
    model.destroy();
    await expect(model.query(set(3, FEATURES))).rejects.toThrow(/destroyed/);
  });

  it('a train set larger than the storage binding limit says the size, the limit and what to do', async () => {
    const r = rt();
    // The same runtime seen with a 64 KiB binding limit: 1,000 rows of 100 bytes need 97.7 KiB.
    const limits = { maxStorageBufferBindingSize: 65_536, maxBufferSize: r.limits.maxBufferSize };
    const small = Object.create(r, { limits: { value: limits } }) as Runtime;
    await expect(NearestNeighbour.create(small, set(1000, 100))).rejects.toThrow(
      /needs 97\.7 KiB, more than this adapter's maxStorageBufferBindingSize of 64\.0 KiB\. Use at most 655 train rows/,
    );
  });
});

describe('GPU buffers', () => {
  it('are all freed by destroy()', async () => {
    const r = rt();
    const rng = makeRng(23);
    const train = randomSet(rng, TRAIN_ROWS, FEATURES);
    const test = randomSet(rng, 70, FEATURES);
    r.pool.trim();
    const before = r.pool.live;
    const model = await NearestNeighbour.create(r, train);
    expect(r.pool.live).toBe(before + 2); // the packed train set and its norms
    await model.query(test, { chunkRows: 64 });
    expect(r.pool.inUse).toBe(before + 2); // a query frees what it allocates
    model.destroy();
    r.pool.trim(); // the read-back staging buffer the runtime pooled
    expect(r.pool.live).toBe(before);
  });
});

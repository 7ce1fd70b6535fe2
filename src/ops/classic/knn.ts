/**
 * Exact 1-nearest-neighbour search's kernels (shaders/classic/knn.wgsl) as
 * kernel families (src/ops/family.ts), called by src/classic/knn.ts:
 * - `knn.norms`: ‖x‖² of packed byte rows (variant 'rows');
 * - `knn.nearest`: the test × train GEMM with a fused argmin, one best pair
 *   per test row and train slice: 'direct' (each thread reads its rows from
 *   storage) or 'tiled' (rows staged through workgroup memory). Both give
 *   the same exact u32 distances; the caller names the one it wants;
 * - `knn.reduce`: the best pair over the slices, lowest train index on ties
 *   (variant 'in-order').
 */
import type { BindingSpec, ProgramSpec } from '../../gpu/program.js';
import type { Dispatch, Runtime } from '../../gpu/runtime.js';
import { defineFamily } from '../family.js';
import { WGSL } from '../sources.js';
import { foldedGroups, singleFamily } from './common.js';
import type { Resource } from '../common.js';

/** Threads per workgroup of knn_norms and knn_reduce. */
export const KNN_ROW_THREADS = 64;

/** The shape of the work one workgroup of knn.nearest does. */
export interface NearestTile {
  /** Test rows per workgroup, a multiple of 4 (each thread takes 4). */
  test: number;
  /** Train rows per workgroup and tile, a multiple of 4. */
  train: number;
  /** 'tiled' only: words (4 pixels each) of every row staged in workgroup memory per step. */
  words: number;
}

function spec(name: string, packedDot: boolean, bindings: BindingSpec[], overrides: Record<string, number>, workgroupSize: [number, number?]): ProgramSpec {
  return { name, sources: [WGSL.classicKnn], entryPoint: name, bindings, overrides, defines: { PACKED_DOT: packedDot }, workgroupSize };
}

/** Rows of `words` u32 words (four bytes each), and whether the kernels use dot4U8Packed. */
export interface KnnRows { rows: number; words: number; packedDot: boolean }

export const KNN_NORMS = singleFamily<KnnRows, { words: Resource; norms: Resource }>({
  name: 'knn.norms',
  summary: 'norms[r] = ‖row r‖², exact in u32',
  variant: 'rows',
  files: ['classicKnn'],
  shapeKey: (s) => `${s.rows}x${s.words}${s.packedDot ? ' packed' : ''}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec('knn_norms', s.packedDot, [
      { name: 'rows_words', kind: 'read-only-storage' },
      { name: 'rows_norms', kind: 'storage' },
    ], { WORDS: s.words }, [KNN_ROW_THREADS]));
    return [rt.dispatch(kernel, [r.words, r.norms], foldedGroups(rt, Math.ceil(s.rows / KNN_ROW_THREADS)), label)];
  },
});

/** One nearest search: `rows` test rows against `train` train rows, the train set cut into `slices`. */
export interface NearestCall { rows: number; train: number; words: number; slices: number; tile: NearestTile; packedDot: boolean }
export interface NearestOperands { testWords: Resource; testNorms: Resource; trainWords: Resource; trainNorms: Resource; partial: Resource }

/** Bytes of workgroup memory a variant needs for a tile. */
export function nearestSharedBytes(variant: 'direct' | 'tiled', tile: NearestTile): number {
  return (variant === 'tiled' ? (tile.test + 1 + tile.train + 1) * tile.words * 4 : 0) + tile.test * 8;
}

function nearestVariant(variant: 'direct' | 'tiled') {
  return {
    name: variant,
    files: ['classicKnn'] as const,
    applies: (rt: Runtime, s: NearestCall) => {
      const shared = nearestSharedBytes(variant, s.tile);
      return shared <= rt.limits.maxComputeWorkgroupStorageSize ||
        `it needs ${shared} bytes of workgroup memory, more than this adapter's ${rt.limits.maxComputeWorkgroupStorageSize}`;
    },
    record: async (rt: Runtime, s: NearestCall, r: NearestOperands, label: string): Promise<Dispatch[]> => {
      const kernel = await rt.kernel(spec(`knn_nearest_${variant}`, s.packedDot, [
        { name: 'test_words', kind: 'read-only-storage' },
        { name: 'test_norms', kind: 'read-only-storage' },
        { name: 'train_words', kind: 'read-only-storage' },
        { name: 'train_norms', kind: 'read-only-storage' },
        { name: 'partial', kind: 'storage' },
      ], { TRAIN: s.train, WORDS: s.words, K_STEP: s.tile.words }, [s.tile.train / 4, s.tile.test / 4]));
      return [rt.dispatch(kernel, [r.testWords, r.testNorms, r.trainWords, r.trainNorms, r.partial], [Math.ceil(s.rows / s.tile.test), s.slices, 1], label)];
    },
  };
}

export const KNN_NEAREST = defineFamily<NearestCall, NearestOperands>({
  name: 'knn.nearest',
  summary: 'partial[t, slice] = (min over the slice of ‖t − x‖², its train index), exact in u32',
  shapeKey: (s) => `${s.rows}x${s.train}x${s.words}/${s.slices} tile ${s.tile.test}x${s.tile.train}x${s.tile.words}${s.packedDot ? ' packed' : ''}`,
  variants: [nearestVariant('tiled'), nearestVariant('direct')],
  order: { cpu: ['direct', 'tiled'], gpu: ['tiled', 'direct'] },
});

export const KNN_REDUCE = singleFamily<{ rows: number; slices: number; packedDot: boolean }, { partial: Resource; nearest: Resource }>({
  name: 'knn.reduce',
  summary: 'nearest[t] = the least (distance, index) pair over the slices',
  variant: 'in-order',
  files: ['classicKnn'],
  shapeKey: (s) => `${s.rows}/${s.slices}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec('knn_reduce', s.packedDot, [
      { name: 'slice_best', kind: 'read-only-storage' },
      { name: 'nearest', kind: 'storage' },
    ], {}, [KNN_ROW_THREADS]));
    return [rt.dispatch(kernel, [r.partial, r.nearest], [Math.ceil(s.rows / KNN_ROW_THREADS), 1, 1], label)];
  },
});

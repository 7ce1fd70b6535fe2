/**
 * The Gaussian classifier's kernels (shaders/classic/gaussian.wgsl) as kernel
 * families (src/ops/family.ts), called by src/classic/gaussian.ts; one
 * variant each:
 * - `gaussian.pack`: the training bytes, class by class, four examples to a
 *   u32 word, x̃ = (x, 1) (variant 'words');
 * - `gaussian.gram`: one block's Gram matrix S = Σ x̃ x̃ᵀ, exact u32 sums,
 *   upper-triangle tiles only (variant 'upper-tiles');
 * - `gaussian.score`: q[n, c] = ‖A_c (x_n − μ_c)‖² for a chunk of test
 *   images, a triangular GEMM per class (variant 'triangular').
 */
import { grid1d, type Resource } from '../common.js';
import { WGSL } from '../sources.js';
import { singleFamily } from './common.js';

/** Output tile of gaussian_gram, and images / rows of A_c per tile of gaussian_score (see the WGSL). */
export const GAUSSIAN_TILE = 32;
/** Threads per workgroup of gaussian_pack. */
const PACK_THREADS = 64;

export const GAUSSIAN_PACK = singleFamily<{ D: number; DP: number; groups: number }, { images: Resource; order: Resource; packed: Resource }>({
  name: 'gaussian.pack',
  summary: 'packed[g, i] = x̃ᵢ of the four examples of group g, one byte each',
  variant: 'words',
  files: ['classicGaussian'],
  shapeKey: (s) => `${s.groups}x${s.D}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel({
      name: 'gaussian_pack',
      sources: [WGSL.classicGaussian],
      entryPoint: 'gaussian_pack',
      bindings: [
        { name: 'images', kind: 'read-only-storage' },
        { name: 'order', kind: 'read-only-storage' },
        { name: 'packed_out', kind: 'storage' },
      ],
      overrides: { D: s.D, DP: s.DP, GROUPS: s.groups },
      defines: { PACKED_DOT: false },
      workgroupSize: [PACK_THREADS],
    });
    return [rt.dispatch(kernel, [r.images, r.order, r.packed], grid1d(s.groups * s.DP, PACK_THREADS), label)];
  },
});

export const GAUSSIAN_GRAM = singleFamily<{ DP: number; packedDot: boolean }, { packed: Resource; block: Resource; gram: Resource }>({
  name: 'gaussian.gram',
  summary: 'gram[block] = Σ x̃ x̃ᵀ over the block\'s examples, exact u32, upper triangle',
  variant: 'upper-tiles',
  files: ['classicGaussian'],
  shapeKey: (s) => `${s.DP}${s.packedDot ? ' packed' : ''}`,
  record: async (rt, s, r, label) => {
    const tiles = Math.ceil(s.DP / GAUSSIAN_TILE);
    const kernel = await rt.kernel({
      name: 'gaussian_gram',
      sources: [WGSL.classicGaussian],
      entryPoint: 'gaussian_gram',
      bindings: [
        { name: 'packed_in', kind: 'read-only-storage' },
        { name: 'block', kind: 'uniform' },
        { name: 'gram', kind: 'storage' },
      ],
      overrides: { DP: s.DP, TILES: tiles },
      defines: { PACKED_DOT: s.packedDot },
      workgroupSize: [8, 8],
    });
    return [rt.dispatch(kernel, [r.packed, r.block, r.gram], [(tiles * (tiles + 1)) / 2, 1, 1], label)];
  },
});

/** A chunk of `images` test images (its range in the `chunk` uniform) against K classes of D features. */
export interface GaussianScoreCall { D: number; K: number; images: number }
export interface GaussianScoreOperands { test: Resource; means: Resource; factorT: Resource; chunk: Resource; q: Resource }

export const GAUSSIAN_SCORE = singleFamily<GaussianScoreCall, GaussianScoreOperands>({
  name: 'gaussian.score',
  summary: 'q[n, c] = ‖A_c (x_n − μ_c)‖², A_c lower triangular',
  variant: 'triangular',
  files: ['classicGaussian'],
  shapeKey: (s) => `${s.images}x${s.D}x${s.K}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel({
      name: 'gaussian_score',
      sources: [WGSL.classicGaussian],
      entryPoint: 'gaussian_score',
      bindings: [
        { name: 'test', kind: 'read-only-storage' },
        { name: 'means', kind: 'read-only-storage' },
        { name: 'factor_t', kind: 'read-only-storage' },
        { name: 'chunk', kind: 'uniform' },
        { name: 'q', kind: 'storage' },
      ],
      overrides: { D: s.D, K: s.K, DQ: Math.ceil(s.D / 4) },
      defines: { PACKED_DOT: false },
      workgroupSize: [8, 8],
    });
    return [rt.dispatch(kernel, [r.test, r.means, r.factorT, r.chunk, r.q], [Math.ceil(s.images / GAUSSIAN_TILE), s.K, 1], label)];
  },
});

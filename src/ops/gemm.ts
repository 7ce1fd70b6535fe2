/**
 * The workgroup-memory GEMM (shaders/gemm.wgsl) for any product whose
 * operands a file of shaders/lib/ can load: the dense products (strided) and
 * the conv products (implicit GEMM). One tile machinery, one split-K pass
 * (shaders/gemm_reduce.wgsl), one bias-gradient row.
 */
import type { BoundResource, Dispatch, Runtime } from '../gpu/runtime.js';
import type { ScratchAlloc } from '../gpu/tuner.js';
import { activationOverrides, grid1d, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

const TILE = 64;
const STEP = 16;

export interface GemmCall {
  M: number;
  N: number;
  K: number;
  /** The file of shaders/lib/ that defines load_a and load_b, its overrides, and which axis of each operand is contiguous. */
  operands: { source: string; overrides: Record<string, number>; aAlongK: boolean; bAlongN: boolean };
  a: BoundResource;
  b: BoundResource;
  c: BoundResource;
  /** The forward epilogue: c = act(a · b + bias). */
  bias?: Resource;
  activation?: ActivationSpec;
  /**
   * The input-gradient epilogue: c = (a · b) ⊙ act'(y), y (M, N) the output of
   * the layer before (a dense input gradient carrying that layer's activation derivative).
   */
  activationGrad?: { activation: ActivationSpec; y: Resource };
  /** The ones row: dbias[n] = Σ_k b[k, n] (a layer's bias gradient beside its weight gradient). */
  dbias?: Resource;
  /** Prefix of the pipeline names (default none: 'gemm', 'gemm_bias_act', ...). */
  name?: string;
  /** Outputs per thread along each axis: 4 (64×64 tiles, the default) or 8 (128×128 tiles, for large products). */
  block?: 4 | 8;
}

/**
 * Slices of K for split K: enough workgroups to fill a large GPU (about 128),
 * each slice at least two steps of 16 long. 1 when the product already has
 * many tiles or a short K.
 */
export function gemmSplit(p: { M: number; N: number; K: number }): number {
  const tiles = Math.ceil(p.N / TILE) * Math.ceil(p.M / TILE);
  if (tiles >= 64 || p.K < 4 * STEP) return 1;
  return Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(p.K / (2 * STEP))));
}

/** The dispatches of c = a · b cut into `split` slices of K (1: one dispatch; more: the slices, then their ordered sum). */
export async function gemmDispatches(rt: Runtime, g: GemmCall, label: string, split: number, alloc: ScratchAlloc): Promise<Dispatch[]> {
  const block = g.block ?? 4;
  const tile = 16 * block;
  const withBias = g.bias !== undefined;
  const biasRow = g.dbias !== undefined;
  const rows = g.M + (biasRow ? 1 : 0);
  const kSlice = Math.ceil(Math.ceil(g.K / split) / STEP) * STEP;
  const slices = Math.ceil(g.K / kSlice);
  const fused = withBias && slices === 1;
  const biasInline = biasRow && slices === 1;
  const actGrad = g.activationGrad;
  if (actGrad && (withBias || biasRow)) throw new Error(`${label}: the activation-gradient epilogue goes with neither a bias nor a bias gradient.`);
  const actGradInline = actGrad !== undefined && slices === 1;
  const entry = fused ? 'gemm_bias_act' : biasInline ? 'gemm_bias_grad' : actGradInline ? 'gemm_act_grad' : 'gemm';
  const kernel = await rt.kernel({
    name: `${g.name ?? ''}${entry}`,
    sources: [WGSL.activationFn, WGSL.grid, WGSL.gemm, g.operands.source],
    foldY: true,
    entryPoint: entry,
    workgroupSize: [16, 16],
    bindings: [
      { name: 'a_mat', kind: 'read-only-storage' },
      { name: 'b_mat', kind: 'read-only-storage' },
      { name: 'c_mat', kind: 'storage' },
      ...(fused ? [{ name: 'bias', kind: 'read-only-storage' } as const] : []),
      ...(biasInline ? [{ name: 'bias_grad', kind: 'storage' } as const] : []),
      ...(actGradInline ? [{ name: 'act_y', kind: 'read-only-storage' } as const] : []),
    ],
    overrides: {
      M: g.M, N: g.N, K: g.K, ...g.operands.overrides, BLOCK: block,
      A_ALONG_K: g.operands.aAlongK ? 1 : 0, B_ALONG_N: g.operands.bAlongN ? 1 : 0,
      BIAS_ROW: biasRow ? 1 : 0, SPLIT: slices, K_SLICE: kSlice,
      ...(fused && g.activation ? activationOverrides(g.activation) : {}),
      ...(actGradInline ? activationOverrides(actGrad.activation) : {}),
    },
  });
  const target = slices > 1 ? alloc(slices * rows * g.N, `${label} partial sums`) : g.c.buffer;
  const resources = [g.a, g.b, slices > 1 ? shaped(target, [slices, rows, g.N]) : g.c];
  if (fused) resources.push(shaped(g.bias!, [g.N]));
  if (biasInline) resources.push(shaped(g.dbias!, [g.N]));
  if (actGradInline) resources.push(shaped(actGrad.y, [g.M, g.N]));
  // x over column tiles and slices of K, y over row tiles (folded into z by the runtime past the limit).
  const grid: [number, number, number] = [Math.ceil(g.N / tile) * slices, Math.ceil(rows / tile), 1];
  const main = rt.dispatch(kernel, resources, grid, slices > 1 ? `${label} (${slices} slices of K)` : label);
  if (slices === 1) return [main];
  const reduceEntry = withBias ? 'gemm_reduce_bias_act' : biasRow ? 'gemm_reduce_bias_grad' : actGrad ? 'gemm_reduce_act_grad' : 'gemm_reduce';
  const reduce = await rt.kernel({
    name: reduceEntry,
    sources: [WGSL.activationFn, WGSL.gemmReduce],
    entryPoint: reduceEntry,
    workgroupSize: [256],
    bindings: [
      { name: 'partial', kind: 'read-only-storage' },
      { name: 'c_sum', kind: 'storage' },
      ...(withBias ? [{ name: 'bias_r', kind: 'read-only-storage' } as const] : []),
      ...(biasRow ? [{ name: 'bias_g', kind: 'storage' } as const] : []),
      ...(actGrad ? [{ name: 'y_r', kind: 'read-only-storage' } as const] : []),
    ],
    overrides: {
      M: g.M, N: g.N, SPLIT: slices, ROWS: rows,
      ...(withBias && g.activation ? activationOverrides(g.activation) : {}),
      ...(actGrad ? activationOverrides(actGrad.activation) : {}),
    },
  });
  const reduceResources = [shaped(target, [slices, rows, g.N]), g.c];
  if (withBias) reduceResources.push(shaped(g.bias!, [g.N]));
  if (biasRow) reduceResources.push(shaped(g.dbias!, [g.N]));
  if (actGrad) reduceResources.push(shaped(actGrad.y, [g.M, g.N]));
  return [main, rt.dispatch(reduce, reduceResources, grid1d(rows * g.N, 256), `${label} (sum of slices)`)];
}

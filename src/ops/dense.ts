/**
 * Dense layer kernels: forward, backward input, backward weight, each a kernel
 * family (src/ops/family.ts) with these variants:
 * - 'gemm' (shaders/gemm.wgsl): 64×64 tiles in workgroup memory, 4×4 outputs
 *   per thread, any shape; the GPU's choice;
 * - 'gemm128': 128×128 tiles, 8×8 outputs per thread, for products of at
 *   least 128 rows and columns;
 * - 'gemm-splitk': the 64×64 tiles with K cut into slices whose partial sums
 *   shaders/gemm_reduce.wgsl adds in order, for skinny products (few output
 *   tiles, long K); needs scratch;
 * - 'quad' (shaders/dense_quad.wgsl): one strided product for all three, any
 *   shape, on devices with the `subgroups` feature (quads share the loads of
 *   the rows every thread needs); the choice on CPU emulations;
 * - 'tiled' (shaders/dense_tiled.wgsl, vec4) for shapes whose batch, inputs
 *   and units are all multiples of 4;
 * - 'general' (shaders/dense.wgsl) for any shape on any device.
 * The input gradient may carry the previous layer's activation derivative in
 * its epilogue, dinp = (dout · weightᵀ) ⊙ act'(y) (every variant has it: an
 * `_act_grad` entry point, or split K's reduce pass); the tuner keys that
 * product apart (' act-grad').
 * By default ('auto') the runtime's tuner times the variants that apply on
 * the adapter in use and keeps the fastest; `variant` picks one by hand.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { ScratchAlloc } from '../gpu/tuner.js';
import { biasBackward } from './bias.js';
import { activationOverrides, shaped, type ActivationGrad, type ActivationSpec, type Resource } from './common.js';

export type { ActivationGrad } from './common.js';
import { defineFamily, runFamily, type KernelFamily, type Variant } from './family.js';
import { gemmDispatches, gemmSplit } from './gemm.js';
import { WGSL } from './sources.js';

export interface DenseShape {
  batch: number;
  inputs: number;
  units: number;
}

export type GemmVariant = 'auto' | 'general' | 'tiled' | 'quad' | 'gemm' | 'gemm128' | 'gemm-splitk';

const TILE = 4; // outputs per thread along each axis, both families
const WG_GENERAL: [number, number] = [8, 8];
const WG_TILED: [number, number] = [16, 4];
const QUAD_ROWS = 8; // rows per workgroup of the quad family; each thread QUAD_COLS columns
const QUAD_COLS = 4;

/** True when every axis of the shape is a multiple of 4: the tiled kernels apply. */
export function denseTiledApplies(s: DenseShape): boolean {
  return s.batch % TILE === 0 && s.inputs % TILE === 0 && s.units % TILE === 0;
}

/** True when the device can run the quad family (it has the `subgroups` feature). */
export function denseQuadApplies(rt: Runtime): boolean {
  return rt.features.has('subgroups');
}

/**
 * c = a · b as the quad kernels see it: the (M, K) and (K, N) operands through
 * their strides; the forward one adds the bias and applies the activation.
 */
async function quadProduct(
  rt: Runtime,
  entry: Product,
  p: { M: number; N: number; K: number; A_M: number; A_K: number; B_K: number; B_N: number },
  bindings: { a: Resource; b: Resource; bias?: Resource; c: Resource },
  shapes: { a: number[]; b: number[]; c: number[] },
  activation: ActivationSpec | undefined,
  label: string,
  activationGrad?: ActivationGrad,
): Promise<Dispatch> {
  const forward = entry === 'forward';
  const actGrad = entry === 'backward_input' && activationGrad !== undefined;
  // One thread per 4 columns, in whole quads, at most 16: a narrow c (10 classes) keeps few idle threads.
  const threads = Math.min(16, 4 * Math.ceil(p.N / (4 * QUAD_COLS)));
  const kernel = await rt.kernel({
    name: `dense_quad_${entry}${actGrad ? '_act_grad' : ''}`,
    sources: [WGSL.activationFn, WGSL.grid, WGSL.denseQuad],
    foldY: true,
    entryPoint: `dense_quad_${entry}${actGrad ? '_act_grad' : ''}`,
    workgroupSize: [threads],
    bindings: [
      { name: 'a_mat', kind: 'read-only-storage' },
      { name: 'b_mat', kind: 'read-only-storage' },
      { name: 'c_mat', kind: 'storage' },
      ...(forward ? [{ name: 'bias', kind: 'read-only-storage' } as const] : []),
      ...(actGrad ? [{ name: 'act_y', kind: 'read-only-storage' } as const] : []),
    ],
    overrides: {
      ...p, ...(activation ? activationOverrides(activation) : {}),
      ...(actGrad ? activationOverrides(activationGrad.activation) : {}),
      // A folded grid (Runtime.dispatch) has workgroups past the last row: those need the checks.
      FULL: p.M % QUAD_ROWS === 0 && p.N % (threads * QUAD_COLS) === 0 && Math.ceil(p.M / QUAD_ROWS) <= rt.limits.maxComputeWorkgroupsPerDimension ? 1 : 0,
    },
  });
  const resources = [shaped(bindings.a, shapes.a), shaped(bindings.b, shapes.b), shaped(bindings.c, shapes.c)];
  if (forward) resources.push(shaped(bindings.bias!, [p.N]));
  if (actGrad) resources.push(shaped(activationGrad.y, shapes.c));
  return rt.dispatch(kernel, resources, [Math.ceil(p.N / (threads * QUAD_COLS)), Math.ceil(p.M / QUAD_ROWS), 1], label);
}

function groups(cols: number, rows: number, tiled: boolean): [number, number, number] {
  const wg = tiled ? WG_TILED : WG_GENERAL;
  return [Math.ceil(cols / TILE / wg[0]), Math.ceil(rows / TILE / wg[1]), 1];
}


function program(tiled: boolean, entry: string) {
  return tiled
    ? { name: `dense_tiled_${entry}`, sources: [WGSL.activationFn, WGSL.grid, WGSL.denseTiled], entryPoint: `dense_tiled_${entry}`, workgroupSize: WG_TILED, foldY: true }
    : { name: `dense_${entry}`, sources: [WGSL.activationFn, WGSL.grid, WGSL.dense], entryPoint: `dense_${entry}`, workgroupSize: WG_GENERAL, foldY: true };
}

function dims(s: DenseShape) {
  return { B: s.batch, IN: s.inputs, OUT: s.units };
}


type Product = 'forward' | 'backward_input' | 'backward_weight';

/** A dense product as the strided kernels (quad, gemm) see it: c (M, N) = a (M, K) · b (K, N). */
interface Strided { M: number; N: number; K: number; A_M: number; A_K: number; B_K: number; B_N: number }

function strided(product: Product, s: DenseShape): Strided {
  switch (product) {
    case 'forward': return { M: s.batch, N: s.units, K: s.inputs, A_M: s.inputs, A_K: 1, B_K: s.units, B_N: 1 };
    case 'backward_input': return { M: s.batch, N: s.inputs, K: s.units, A_M: s.units, A_K: 1, B_K: 1, B_N: s.units };
    case 'backward_weight': return { M: s.inputs, N: s.units, K: s.batch, A_M: 1, A_K: s.inputs, B_K: s.units, B_N: 1 };
  }
}

/** The operands of one product: a, b, c (and the bias for the forward one), with their shapes. */
interface Operands {
  a: Resource; b: Resource; c: Resource; bias?: Resource;
  /** The weight gradient's product can also give the bias gradient (Σ over the batch of dout). */
  dbias?: Resource;
  /** The input gradient's epilogue: times act'(y) of the layer before. */
  activationGrad?: ActivationGrad;
  shapes: { a: number[]; b: number[]; c: number[] };
}

/** c = a · b on shaders/gemm.wgsl's tiles, the dense operands read through strides (shaders/lib/gemm_strided.wgsl). */
function gemmProduct(rt: Runtime, product: Product, s: DenseShape, o: Operands, activation: ActivationSpec | undefined,
  label: string, split: number, alloc: ScratchAlloc, block: 4 | 8 = 4): Promise<Dispatch[]> {
  const p = strided(product, s);
  return gemmDispatches(rt, {
    M: p.M, N: p.N, K: p.K,
    operands: { source: WGSL.gemmStrided, overrides: { A_M: p.A_M, A_K: p.A_K, B_K: p.B_K, B_N: p.B_N }, aAlongK: p.A_K === 1, bAlongN: p.B_N === 1 },
    a: shaped(o.a, o.shapes.a), b: shaped(o.b, o.shapes.b), c: shaped(o.c, o.shapes.c),
    ...(product === 'forward' ? { bias: o.bias!, activation: activation ?? { name: 'linear' } } : {}),
    ...(o.dbias ? { dbias: o.dbias } : {}),
    ...(product === 'backward_input' && o.activationGrad ? { activationGrad: o.activationGrad } : {}),
    block,
  }, label, split, alloc);
}

/** The plain families' (tiled, general) kernels of one product. */
async function plainProduct(rt: Runtime, product: Product, s: DenseShape, o: Operands, activation: ActivationSpec | undefined,
  label: string, tiled: boolean): Promise<Dispatch> {
  const names: Record<Product, string[]> = {
    forward: ['inp', 'weight', 'bias', 'out'],
    backward_input: ['dout', 'weight_t', 'dinp'],
    backward_weight: ['inp_t', 'dout_w', 'dweight'],
  };
  const actGrad = product === 'backward_input' ? o.activationGrad : undefined;
  const entry = actGrad ? `${product}_act_grad` : product;
  const kernel = await rt.kernel({
    ...program(tiled, entry),
    bindings: [
      ...names[product].map((name, i, all) => ({ name, kind: i === all.length - 1 ? 'storage' as const : 'read-only-storage' as const })),
      ...(actGrad ? [{ name: 'act_y', kind: 'read-only-storage' } as const] : []),
    ],
    overrides: { ...dims(s), ...(activation ? activationOverrides(activation) : {}), ...(actGrad ? activationOverrides(actGrad.activation) : {}) },
  });
  const p = strided(product, s);
  const resources = product === 'forward'
    ? [shaped(o.a, o.shapes.a), shaped(o.b, o.shapes.b), shaped(o.bias!, [s.units]), shaped(o.c, o.shapes.c)]
    : [shaped(o.a, o.shapes.a), shaped(o.b, o.shapes.b), shaped(o.c, o.shapes.c)];
  if (actGrad) resources.push(shaped(actGrad.y, o.shapes.c));
  // The kernels' rows: the output's rows, except the weight gradient's, whose rows are the inputs.
  return rt.dispatch(kernel, resources, groups(p.N, p.M, tiled), label);
}

/**
 * What a dense family's variants are given: the shape, the activation
 * (forward only), and whether the input gradient's epilogue applies the
 * previous layer's activation derivative (backward input only; its name).
 */
interface DenseCall { shape: DenseShape; activation?: ActivationSpec; activationGrad?: ActivationSpec }

/** A product's dispatch, and the bias gradient's own pass after it where the product does not give it (shaders/bias.wgsl). */
async function withBiasGrad(rt: Runtime, c: DenseCall, o: Operands, label: string, d: Dispatch): Promise<Dispatch[]> {
  if (!o.dbias) return [d];
  return [d, await biasBackward(rt, { rows: c.shape.batch, cols: c.shape.units }, { dout: o.b, dbias: o.dbias }, label.replace(/weight$/, 'bias'))];
}

function denseVariants(product: Product): Variant<DenseCall, Operands>[] {
  const subgroups = (rt: Runtime) => rt.features.has('subgroups') || "it needs a device with the 'subgroups' feature; this one has none";
  return [
    {
      name: 'gemm', files: ['activationFn', 'gemm'], applies: () => true, onCpu: false,
      record: (rt, c, o, label, alloc) => gemmProduct(rt, product, c.shape, o, c.activation, label, 1, alloc),
    },
    {
      name: 'gemm128', files: ['activationFn', 'gemm'], onCpu: false,
      applies: (_rt, c) => {
        const p = strided(product, c.shape);
        return (p.M >= 128 && p.N >= 128) || 'it needs at least 128 rows and 128 columns of output (one 128×128 tile)';
      },
      record: (rt, c, o, label, alloc) => gemmProduct(rt, product, c.shape, o, c.activation, label, 1, alloc, 8),
    },
    {
      name: 'gemm-splitk', files: ['activationFn', 'gemm', 'gemmReduce'], scratch: true, onCpu: false,
      applies: (_rt, c) => gemmSplit(strided(product, c.shape)) > 1 || 'the product has enough output tiles, or too short a K, to gain from slices of K',
      record: (rt, c, o, label, alloc) => gemmProduct(rt, product, c.shape, o, c.activation, label, gemmSplit(strided(product, c.shape)), alloc),
    },
    {
      name: 'quad', files: ['activationFn', 'denseQuad'], applies: (rt) => subgroups(rt),
      record: async (rt, c, o, label) => withBiasGrad(rt, c, o, label, await quadProduct(rt, product, strided(product, c.shape),
        { a: o.a, b: o.b, c: o.c, ...(o.bias ? { bias: o.bias } : {}) }, o.shapes, c.activation, label, o.activationGrad)),
    },
    {
      name: 'tiled', files: ['activationFn', 'denseTiled'],
      applies: (_rt, c) => denseTiledApplies(c.shape) ||
        `it needs batch, inputs and units divisible by 4, got (${c.shape.batch}, ${c.shape.inputs}, ${c.shape.units})`,
      record: async (rt, c, o, label) => withBiasGrad(rt, c, o, label, await plainProduct(rt, product, c.shape, o, c.activation, label, true)),
    },
    {
      name: 'general', files: ['activationFn', 'dense'], applies: () => true,
      record: async (rt, c, o, label) => withBiasGrad(rt, c, o, label, await plainProduct(rt, product, c.shape, o, c.activation, label, false)),
    },
  ];
}

function denseFamilyOf(product: Product, summary: string): KernelFamily<DenseCall, Operands> {
  return defineFamily({
    name: `dense.${product}`,
    summary,
    shapeKey: (c) => `${c.shape.batch}x${c.shape.inputs}x${c.shape.units}${c.activationGrad ? ' act-grad' : ''}`,
    variants: denseVariants(product),
    // CPU emulations: the quad kernels (measured fastest on SwiftShader); GPUs: workgroup-memory tiles.
    order: { cpu: ['quad', 'tiled', 'general', 'gemm', 'gemm128', 'gemm-splitk'], gpu: ['gemm', 'gemm128', 'gemm-splitk', 'tiled', 'general', 'quad'] },
  });
}

export const DENSE_FORWARD = denseFamilyOf('forward', 'out = act(inp · weight + bias)');
export const DENSE_BACKWARD_INPUT = denseFamilyOf('backward_input', 'dinp = dout · weightᵀ');
export const DENSE_BACKWARD_WEIGHT = denseFamilyOf('backward_weight', 'dweight = inpᵀ · dout');

/** Options of the dense products: a variant by name, and scratch for the variants that need it (split K). */
export interface DenseRunOptions {
  variant?: GemmVariant;
  alloc?: ScratchAlloc;
}

function only(list: Dispatch[], label: string): Dispatch {
  if (list.length !== 1) throw new Error(`${label}: expected one dispatch, the variant recorded ${list.length}; use the list form.`);
  return list[0]!;
}

/** out = act(inp · weight + bias), as a list of dispatches (split K records two). */
export function denseForwardList(rt: Runtime, s: DenseShape, activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource }, label = 'dense forward', options: DenseRunOptions = {}): Promise<Dispatch[]> {
  const o: Operands = { a: r.inp, b: r.weight, c: r.out, bias: r.bias, shapes: { a: [s.batch, s.inputs], b: [s.inputs, s.units], c: [s.batch, s.units] } };
  return runFamily(rt, DENSE_FORWARD, { shape: s, activation }, o, label, options);
}

/**
 * dinp = dout · weightᵀ, as a list of dispatches; with `activationGrad`,
 * dinp = (dout · weightᵀ) ⊙ act'(y), y (batch, inputs) the previous layer's
 * output (its activation's backward pass folded into this product).
 */
export async function denseBackwardInputList(rt: Runtime, s: DenseShape,
  r: { dout: Resource; weight: Resource; dinp: Resource; activationGrad?: ActivationGrad },
  label = 'dense backward input', options: DenseRunOptions = {}): Promise<Dispatch[]> {
  if (r.activationGrad?.activation.name === 'softmax') throw new Error(`${label}: softmax's derivative is not elementwise; it cannot ride on the product.`);
  const o: Operands = {
    a: r.dout, b: r.weight, c: r.dinp, ...(r.activationGrad ? { activationGrad: r.activationGrad } : {}),
    shapes: { a: [s.batch, s.units], b: [s.inputs, s.units], c: [s.batch, s.inputs] },
  };
  return runFamily(rt, DENSE_BACKWARD_INPUT, { shape: s, ...(r.activationGrad ? { activationGrad: r.activationGrad.activation } : {}) }, o, label, options);
}

/**
 * dweight = inpᵀ · dout, as a list of dispatches; with `dbias`, also
 * dbias = Σ over the batch of dout (inside the product where the variant can).
 */
export function denseBackwardWeightList(rt: Runtime, s: DenseShape, r: { inp: Resource; dout: Resource; dweight: Resource; dbias?: Resource },
  label = 'dense backward weight', options: DenseRunOptions = {}): Promise<Dispatch[]> {
  const o: Operands = {
    a: r.inp, b: r.dout, c: r.dweight, ...(r.dbias ? { dbias: r.dbias } : {}),
    shapes: { a: [s.batch, s.inputs], b: [s.batch, s.units], c: [s.inputs, s.units] },
  };
  return runFamily(rt, DENSE_BACKWARD_WEIGHT, { shape: s }, o, label, options);
}

/** out = act(inp · weight + bias) in one dispatch (no split-K variant without an allocator). */
export async function denseForward(rt: Runtime, s: DenseShape, activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource }, label = 'dense forward', variant: GemmVariant = 'auto'): Promise<Dispatch> {
  return only(await denseForwardList(rt, s, activation, r, label, { variant }), label);
}

/** dinp = dout · weightᵀ (⊙ act'(y) with `activationGrad`) in one dispatch. */
export async function denseBackwardInput(rt: Runtime, s: DenseShape,
  r: { dout: Resource; weight: Resource; dinp: Resource; activationGrad?: ActivationGrad },
  label = 'dense backward input', variant: GemmVariant = 'auto'): Promise<Dispatch> {
  return only(await denseBackwardInputList(rt, s, r, label, { variant }), label);
}

/** dweight = inpᵀ · dout in one dispatch. */
export async function denseBackwardWeight(rt: Runtime, s: DenseShape, r: { inp: Resource; dout: Resource; dweight: Resource },
  label = 'dense backward weight', variant: GemmVariant = 'auto'): Promise<Dispatch> {
  return only(await denseBackwardWeightList(rt, s, r, label, { variant }), label);
}

export { gemmSplit };

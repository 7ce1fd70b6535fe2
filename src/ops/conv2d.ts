/**
 * Conv2d, NHWC with (KH, KW, CIN, COUT) weights: its three products as kernel
 * families (src/ops/family.ts). The layer calls these; the runtime's tuner
 * picks the variant on the adapter in use. The kernels are in
 * conv2d-kernels.ts, the geometry in conv2d-shape.ts.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { ActivationGrad, ActivationSpec, Resource } from './common.js';
import { shaped } from './common.js';
import { biasBackward } from './bias.js';
import { defineFamily, runFamily, type RunOptions, type Variant } from './family.js';
import { gemmDispatches, gemmSplit } from './gemm.js';
import type { ScratchAlloc } from '../gpu/tuner.js';
import { WGSL } from './sources.js';
import { conv2dGeometry, convOverrides as overrides, convShapes as shapes, type Conv2dShape } from './conv2d-shape.js';
import {
  conv2dBackwardInput, conv2dBackwardInputFlipped, type ConvInputGradOperands, conv2dBackwardInputGemm, conv2dBackwardWeightAuto, conv2dForward,
  conv2dForwardAuto, conv2dGemmApplies, conv2dInputGradPlan, conv2dQuadApplies, conv2dQuadForward, conv2dWeightGradPlan,
} from './conv2d-kernels.js';

export * from './conv2d-shape.js';
export * from './conv2d-kernels.js';

type ConvForwardOperands = { inp: Resource; weight: Resource; bias: Resource; out: Resource };
type ConvWeightOperands = { inp: Resource; dout: Resource; dweight: Resource; dbias?: Resource };
/** A conv product's call: the shape, the forward's activation, and the activation whose derivative the input gradient applies. */
interface ConvCall { shape: Conv2dShape; activation?: ActivationSpec; activationGrad?: ActivationSpec }

/**
 * A conv product on shaders/gemm.wgsl's tiles (the implicit GEMM of
 * shaders/lib/gemm_conv.wgsl): 0 forward, 1 input gradient, 2 weight gradient
 * (with `dbias`, the bias gradient as its ones row). `split` slices of K.
 */
function igemm(rt: Runtime, product: 0 | 1 | 2, s: Conv2dShape,
  r: { a: Resource; b: Resource; c: Resource; bias?: Resource; dbias?: Resource; activationGrad?: ActivationGrad },
  activation: ActivationSpec | undefined, label: string, alloc: ScratchAlloc, splitK: boolean): Promise<Dispatch[]> {
  const sh = shapes(s);
  const taps = s.kH * s.kW;
  const pixelsOut = s.batch * sh.g.outH * sh.g.outW;
  const dims = [
    { M: pixelsOut, N: s.outC, K: taps * s.inC, a: sh.inp, b: sh.weight, c: sh.out, aAlongK: true, bAlongN: true },
    { M: s.batch * s.inH * s.inW, N: s.inC, K: taps * s.outC, a: sh.out, b: sh.weight, c: sh.inp, aAlongK: true, bAlongN: false },
    { M: taps * s.inC, N: s.outC, K: pixelsOut, a: sh.inp, b: sh.out, c: sh.weight, aAlongK: false, bAlongN: true },
  ][product]!;
  return gemmDispatches(rt, {
    M: dims.M, N: dims.N, K: dims.K,
    operands: { source: `${WGSL.convShape}\n${WGSL.gemmConv}`, overrides: { ...overrides(s), PRODUCT: product }, aAlongK: dims.aAlongK, bAlongN: dims.bAlongN },
    a: shaped(r.a, dims.a), b: shaped(r.b, dims.b), c: shaped(r.c, dims.c),
    ...(r.bias ? { bias: r.bias, activation: activation ?? { name: 'linear' } } : {}),
    ...(r.dbias ? { dbias: r.dbias } : {}),
    ...(r.activationGrad ? { activationGrad: r.activationGrad } : {}),
    name: 'conv2d_igemm:',
  }, label, splitK ? gemmSplit(dims) : 1, alloc);
}

/** Whether split K gives an implicit-GEMM conv product more workgroups. */
function igemmSplits(product: 0 | 1 | 2, s: Conv2dShape): boolean {
  const g = conv2dGeometry(s);
  const taps = s.kH * s.kW;
  const pixelsOut = s.batch * g.outH * g.outW;
  const dims = [
    { M: pixelsOut, N: s.outC, K: taps * s.inC },
    { M: s.batch * s.inH * s.inW, N: s.inC, K: taps * s.outC },
    { M: taps * s.inC, N: s.outC, K: pixelsOut },
  ][product]!;
  return gemmSplit(dims) > 1;
}

/** The variants on gemm.wgsl's tiles for one conv product (not auto candidates on CPU emulations: see Variant.onCpu). */
function igemmVariants<R>(product: 0 | 1 | 2,
  operands: (r: R) => { a: Resource; b: Resource; c: Resource; bias?: Resource; dbias?: Resource; activationGrad?: ActivationGrad }) {
  const files = ['activationFn', 'grid', 'gemm', 'convShape', 'gemmConv'];
  return [
    {
      name: 'igemm', files, onCpu: false, applies: () => true as const,
      record: (rt: Runtime, c: ConvCall, r: R, label: string, alloc: ScratchAlloc) => igemm(rt, product, c.shape, operands(r), c.activation, label, alloc, false),
    },
    {
      name: 'igemm-splitk', files: [...files, 'gemmReduce'], onCpu: false, scratch: true,
      applies: (_rt: Runtime, c: ConvCall) => igemmSplits(product, c.shape) || 'the product has enough output tiles, or too short a K, to gain from slices of K',
      record: (rt: Runtime, c: ConvCall, r: R, label: string, alloc: ScratchAlloc) => igemm(rt, product, c.shape, operands(r), c.activation, label, alloc, true),
    },
  ];
}

const convKey = (c: ConvCall) => {
  const s = c.shape;
  return `${s.batch}x${s.inH}x${s.inW}x${s.inC}>${s.outC} k${s.kH}x${s.kW} s${s.strideH}x${s.strideW} ${s.padding}${c.activationGrad ? ' act-grad' : ''}`;
};

export const CONV2D_FORWARD = defineFamily<ConvCall, ConvForwardOperands>({
  name: 'conv2d.forward',
  summary: 'out = act(conv(inp, weight) + bias)',
  shapeKey: convKey,
  variants: [
    {
      name: 'quad', files: ['activationFn', 'convShape', 'conv2dGemm', 'conv2dQuad'],
      applies: (rt, c) => conv2dQuadApplies(rt, c.shape) || "it needs the 'subgroups' feature, 'valid' padding and output channels divisible by 4",
      record: async (rt, c, r, label) => [await conv2dQuadForward(rt, c.shape, c.activation ?? { name: 'linear' }, r, label)],
    },
    {
      name: 'gemm', files: ['activationFn', 'convShape', 'conv2dGemm'],
      applies: (_rt, c) => conv2dGemmApplies(c.shape).forward || 'it needs output channels divisible by 4',
      record: async (rt, c, r, label) => [await conv2dForwardAuto(rt, c.shape, c.activation ?? { name: 'linear' }, r, label, 'gemm')],
    },
    {
      name: 'direct', files: ['activationFn', 'convShape', 'conv2d'], applies: () => true,
      record: async (rt, c, r, label) => [await conv2dForward(rt, c.shape, c.activation ?? { name: 'linear' }, r, label)],
    },
    ...igemmVariants<ConvForwardOperands>(0, (r) => ({ a: r.inp, b: r.weight, c: r.out, bias: r.bias })),
  ],
  order: { cpu: ['quad', 'gemm', 'direct'], gpu: ['igemm', 'igemm-splitk', 'gemm', 'direct', 'quad'] },
});

export const CONV2D_BACKWARD_INPUT = defineFamily<ConvCall, ConvInputGradOperands>({
  name: 'conv2d.backward_input',
  summary: 'dinp = conv2d’s input gradient (a transposed conv of dout with weight), ⊙ act′(y) of the layer before where folded',
  shapeKey: convKey,
  variants: [
    {
      name: 'flipped', files: ['convShape', 'conv2dGemm', 'activationFn', 'activation'], scratch: true,
      applies: (_rt, c) => (conv2dInputGradPlan(c.shape).route === 'flipped') || 'it needs stride 1 and input and output channels divisible by 4',
      record: async (rt, c, r, label, alloc) => {
        const plan = conv2dInputGradPlan(c.shape, 'flipped');
        const zeros = alloc(plan.zeroElements, `${label} zero bias`);
        // Pooled buffers come back holding old data: the bias of the transposed conv must read 0.
        rt.write(zeros, new Float32Array(plan.zeroElements));
        const scratch = { padded: alloc(plan.paddedElements, `${label} padded gradient`), flipped: alloc(plan.flippedElements, `${label} flipped weights`), zeros };
        return conv2dBackwardInputFlipped(rt, c.shape, { ...r, scratch }, label, (t, rr, l) => conv2dForwardList(rt, t, { name: 'linear' }, rr, l));
      },
    },
    {
      name: 'gemm', files: ['activationFn', 'convShape', 'conv2dGemm'],
      applies: (_rt, c) => conv2dGemmApplies(c.shape).backwardInput || 'it needs input and output channels divisible by 4',
      record: async (rt, c, r, label) => [await conv2dBackwardInputGemm(rt, c.shape, r, label)],
    },
    {
      name: 'direct', files: ['activationFn', 'convShape', 'conv2d'], applies: () => true,
      record: async (rt, c, r, label) => [await conv2dBackwardInput(rt, c.shape, r, label)],
    },
    ...igemmVariants<ConvInputGradOperands>(1, (r) => ({ a: r.dout, b: r.weight, c: r.dinp, ...(r.activationGrad ? { activationGrad: r.activationGrad } : {}) })),
  ],
  order: { cpu: ['flipped', 'gemm', 'direct'], gpu: ['igemm', 'igemm-splitk', 'gemm', 'flipped', 'direct'] },
});

export const CONV2D_BACKWARD_WEIGHT = defineFamily<ConvCall, ConvWeightOperands>({
  name: 'conv2d.backward_weight',
  summary: 'dweight = Σ over pixels of inp patches ⊗ dout',
  shapeKey: convKey,
  variants: (['quad', 'gemm', 'direct'] as const).map((variant) => ({
    name: variant,
    files: variant === 'quad' ? ['convShape', 'conv2dGemm', 'conv2dQuad', 'bias'] : variant === 'gemm' ? ['convShape', 'conv2dGemm', 'bias'] : ['convShape', 'conv2d', 'bias'],
    scratch: true,
    applies: (rt: Runtime, c: ConvCall) => {
      try {
        conv2dWeightGradPlan(c.shape, variant, rt);
        return true;
      } catch (error) {
        return (error as Error).message;
      }
    },
    record: async (rt: Runtime, c: ConvCall, r: ConvWeightOperands, label: string, alloc: (elements: number, name: string) => GPUBuffer) => {
      const plan = conv2dWeightGradPlan(c.shape, variant, rt);
      const partial = plan.partialElements > 0 ? alloc(plan.partialElements, `${label} partial sums`) : undefined;
      const list = await conv2dBackwardWeightAuto(rt, c.shape, { ...r, ...(partial ? { partial } : {}) }, label, variant);
      return r.dbias ? [...list, ...(await convBiasGrad(rt, c.shape, r.dout, r.dbias, label, alloc))] : list;
    },
  }) as Variant<ConvCall, ConvWeightOperands>).concat(
    igemmVariants<ConvWeightOperands>(2, (r) => ({ a: r.inp, b: r.dout, c: r.dweight, ...(r.dbias ? { dbias: r.dbias } : {}) }))),
  order: { cpu: ['quad', 'gemm', 'direct'], gpu: ['igemm-splitk', 'igemm', 'direct', 'gemm', 'quad'] },
});

/** The bias gradient in two passes of bias.wgsl: per-sample sums over the pixels, then over the batch. */
async function convBiasGrad(rt: Runtime, s: Conv2dShape, dout: Resource, dbias: Resource, label: string, alloc: ScratchAlloc): Promise<Dispatch[]> {
  const g = conv2dGeometry(s);
  const partial = alloc(s.batch * s.outC, `${label} bias partial`);
  const name = label.replace(/weight$/, 'bias');
  return [
    await biasBackward(rt, { rows: s.batch * g.outH * g.outW, cols: s.outC, groups: s.batch }, { dout, dbias: partial }, `${name} (per sample)`),
    await biasBackward(rt, { rows: s.batch, cols: s.outC }, { dout: partial, dbias }, `${name} (sum over batch)`),
  ];
}

/** The conv products by family, with scratch from `alloc`; `variant` by hand or 'auto'. */
export function conv2dForwardList(rt: Runtime, s: Conv2dShape, activation: ActivationSpec, r: ConvForwardOperands, label = 'conv2d forward', options: RunOptions = {}): Promise<Dispatch[]> {
  return runFamily(rt, CONV2D_FORWARD, { shape: s, activation }, r, label, options);
}

/**
 * dinp = conv2d's input gradient; with `activationGrad`, dinp = (that) ⊙
 * act'(y), y (B, H, W, CIN) the previous layer's output (its activation's
 * backward pass folded in: an epilogue in the igemm, gemm and direct
 * kernels, a pass after the flipped route's forward conv).
 */
export async function conv2dBackwardInputList(rt: Runtime, s: Conv2dShape, r: ConvInputGradOperands, label = 'conv2d backward input', options: RunOptions = {}): Promise<Dispatch[]> {
  if (r.activationGrad?.activation.name === 'softmax') throw new Error(`${label}: softmax's derivative is not elementwise; it cannot ride on the product.`);
  return runFamily(rt, CONV2D_BACKWARD_INPUT, { shape: s, ...(r.activationGrad ? { activationGrad: r.activationGrad.activation } : {}) }, r, label, options);
}

export function conv2dBackwardWeightList(rt: Runtime, s: Conv2dShape, r: ConvWeightOperands, label = 'conv2d backward weight', options: RunOptions = {}): Promise<Dispatch[]> {
  return runFamily(rt, CONV2D_BACKWARD_WEIGHT, { shape: s }, r, label, options);
}

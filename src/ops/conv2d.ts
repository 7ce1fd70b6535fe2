/** Conv2d kernels (shaders/conv2d.wgsl), NHWC with (KH, KW, CIN, COUT) weights. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, grid1d, shaped, type ActivationSpec, type Resource } from './common.js';
import { biasBackward } from './bias.js';
import { defineFamily, runFamily, type RunOptions, type Variant } from './family.js';
import { gemmDispatches, gemmSplit } from './gemm.js';
import type { ScratchAlloc } from '../gpu/tuner.js';
import { WGSL } from './sources.js';

export type Padding = 'valid' | 'same';

export interface Conv2dShape {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

/** Output size and leading padding of one spatial axis, TensorFlow's rule. */
export function windowGeometry(inSize: number, k: number, stride: number, padding: Padding): { out: number; padBefore: number } {
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + k - inSize, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.floor((inSize - k) / stride) + 1, padBefore: 0 };
}

export function conv2dGeometry(s: Conv2dShape) {
  const h = windowGeometry(s.inH, s.kH, s.strideH, s.padding);
  const w = windowGeometry(s.inW, s.kW, s.strideW, s.padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore };
}

function overrides(s: Conv2dShape) {
  const g = conv2dGeometry(s);
  return {
    B: s.batch, H: s.inH, W: s.inW, CIN: s.inC, OH: g.outH, OW: g.outW, COUT: s.outC,
    KH: s.kH, KW: s.kW, SH: s.strideH, SW: s.strideW, PAD_TOP: g.padTop, PAD_LEFT: g.padLeft,
  };
}

const WG = 64;

function shapes(s: Conv2dShape) {
  const g = conv2dGeometry(s);
  return {
    inp: [s.batch, s.inH, s.inW, s.inC],
    out: [s.batch, g.outH, g.outW, s.outC],
    weight: [s.kH, s.kW, s.inC, s.outC],
    g,
  };
}

export async function conv2dForward(
  rt: Runtime,
  s: Conv2dShape,
  activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource },
  label = 'conv2d forward',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'conv2d_forward',
    sources: [WGSL.activationFn, WGSL.convShape, WGSL.conv2d],
    entryPoint: 'conv2d_forward',
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'weight', kind: 'read-only-storage' },
      { name: 'bias', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: { ...overrides(s), ...activationOverrides(activation) },
    workgroupSize: [WG],
  });
  const sh = shapes(s);
  const threads = s.batch * sh.g.outH * sh.g.outW * Math.ceil(s.outC / 4);
  return rt.dispatch(
    kernel,
    [shaped(r.inp, sh.inp), shaped(r.weight, sh.weight), shaped(r.bias, [s.outC]), shaped(r.out, sh.out)],
    grid1d(threads, WG),
    label,
  );
}

export async function conv2dBackwardInput(
  rt: Runtime,
  s: Conv2dShape,
  r: { dout: Resource; weight: Resource; dinp: Resource },
  label = 'conv2d backward input',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'conv2d_backward_input',
    sources: [WGSL.activationFn, WGSL.convShape, WGSL.conv2d],
    entryPoint: 'conv2d_backward_input',
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'weight_b', kind: 'read-only-storage' },
      { name: 'dinp', kind: 'storage' },
    ],
    overrides: overrides(s),
    workgroupSize: [WG],
  });
  const sh = shapes(s);
  const threads = s.batch * s.inH * s.inW * Math.ceil(s.inC / 4);
  return rt.dispatch(
    kernel,
    [shaped(r.dout, sh.out), shaped(r.weight, sh.weight), shaped(r.dinp, sh.inp)],
    grid1d(threads, WG),
    label,
  );
}

export async function conv2dBackwardWeight(
  rt: Runtime,
  s: Conv2dShape,
  r: { inp: Resource; dout: Resource; dweight: Resource },
  label = 'conv2d backward weight',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'conv2d_backward_weight',
    sources: [WGSL.activationFn, WGSL.convShape, WGSL.conv2d],
    entryPoint: 'conv2d_backward_weight',
    bindings: [
      { name: 'inp_w', kind: 'read-only-storage' },
      { name: 'dout_w', kind: 'read-only-storage' },
      { name: 'dweight', kind: 'storage' },
    ],
    overrides: overrides(s),
    workgroupSize: [WG],
  });
  const sh = shapes(s);
  const threads = s.kH * s.kW * s.inC * Math.ceil(s.outC / 4);
  return rt.dispatch(
    kernel,
    [shaped(r.inp, sh.inp), shaped(r.dout, sh.out), shaped(r.dweight, sh.weight)],
    grid1d(threads, WG),
    label,
  );
}

/**
 * dweight in two dispatches (kernel 2): per-sample partial sums, then their
 * sum over the batch. `partial` holds (B, KH, KW, CIN, COUT) floats.
 */
export async function conv2dBackwardWeightSplit(
  rt: Runtime,
  s: Conv2dShape,
  r: { inp: Resource; dout: Resource; partial: Resource; dweight: Resource },
  label = 'conv2d backward weight',
): Promise<Dispatch[]> {
  const kernel = await rt.kernel({
    name: 'conv2d_backward_weight_split',
    sources: [WGSL.activationFn, WGSL.convShape, WGSL.conv2d],
    entryPoint: 'conv2d_backward_weight_split',
    bindings: [
      { name: 'inp_w', kind: 'read-only-storage' },
      { name: 'dout_w', kind: 'read-only-storage' },
      { name: 'dweight_partial', kind: 'storage' },
    ],
    overrides: overrides(s),
    workgroupSize: [WG],
  });
  const sh = shapes(s);
  const taps = s.kH * s.kW * s.inC * s.outC;
  const threads = s.batch * s.kH * s.kW * s.inC * Math.ceil(s.outC / 4);
  return [
    rt.dispatch(kernel, [shaped(r.inp, sh.inp), shaped(r.dout, sh.out), shaped(r.partial, [s.batch, ...sh.weight])],
      grid1d(threads, WG), `${label} (per sample)`),
    await biasBackward(rt, { rows: s.batch, cols: taps }, { dout: r.partial, dbias: r.dweight }, `${label} (sum over batch)`),
  ];
}

// ---------------------------------------------------------------------------
// The implicit-GEMM family (shaders/conv2d_gemm.wgsl). The direct kernels above
// are its oracle and cover the shapes it does not.

/**
 * 'direct': conv2d.wgsl; 'gemm': conv2d_gemm.wgsl; 'quad': conv2d_quad.wgsl
 * (forward and weight gradient); 'auto': quad, then gemm, wherever they apply.
 */
export type ConvVariant = 'auto' | 'direct' | 'gemm' | 'quad';

/**
 * Whether the quad forward kernel applies: a device with subgroups, 'valid'
 * windows at stride 1 or more, and output channels divisible by 4 (input
 * channels in multiples of 4 are read as vec4, others one at a time).
 */
export function conv2dQuadApplies(rt: Runtime, s: Conv2dShape): boolean {
  return rt.features.has('subgroups') && s.padding === 'valid' && s.outC % 4 === 0;
}

/** Which products the implicit-GEMM kernels can compute for a shape. */
export function conv2dGemmApplies(s: Conv2dShape): { forward: boolean; backwardInput: boolean; backwardWeight: boolean } {
  const cout = s.outC % 4 === 0;
  return { forward: cout, backwardInput: cout && s.inC % 4 === 0, backwardWeight: cout };
}

function gemmChosen(s: Conv2dShape, variant: ConvVariant, product: keyof ReturnType<typeof conv2dGemmApplies>): boolean {
  if (variant === 'quad') throw new Error(`conv2d: there is no quad ${product} kernel; use 'auto' or 'gemm'.`);
  const applies = conv2dGemmApplies(s)[product];
  if (variant === 'gemm' && !applies) {
    throw new Error(`conv2d: the implicit-GEMM ${product} kernel needs ${product === 'backwardInput' ? 'input and output' : 'output'} ` +
      `channels divisible by 4, got CIN ${s.inC}, COUT ${s.outC}.`);
  }
  return variant === 'gemm' || (variant === 'auto' && applies);
}

/** Workgroup (x along channel blocks, y along pixel or row blocks) for `channelBlocks` vec4 channel blocks. */
function gemmWorkgroup(channelBlocks: number): [number, number] {
  const x = Math.min(16, Math.max(4, 2 ** Math.ceil(Math.log2(channelBlocks))));
  return [x, 64 / x];
}

function gemmKernel(rt: Runtime, s: Conv2dShape, entry: string, wg: [number, number], bindings: string[], extra: Record<string, number> = {}, vecCin = false, quad = false) {
  return rt.kernel({
    name: quad ? `conv2d_quad_${entry}` : `conv2d_gemm_${entry}`,
    sources: quad ? [WGSL.activationFn, WGSL.convShape, WGSL.grid, WGSL.conv2dGemm, WGSL.conv2dQuad] : [WGSL.activationFn, WGSL.convShape, WGSL.grid, WGSL.conv2dGemm],
    foldY: entry === 'forward' || entry === 'backward_input',
    entryPoint: quad ? `conv2d_quad_${entry}` : `conv2d_gemm_${entry}`,
    bindings: bindings.map((name, i) => ({ name, kind: i === bindings.length - 1 ? 'storage' as const : 'read-only-storage' as const })),
    overrides: { ...overrides(s), VALID: s.padding === 'valid' ? 1 : 0, ...extra },
    defines: { VEC_CIN: vecCin },
    workgroupSize: wg,
  });
}

/**
 * out = act(conv(inp, weight) + bias): the quad kernel where it applies
 * (conv2dQuadApplies), else the implicit GEMM where COUT % 4 == 0, else the
 * direct kernel.
 */
export async function conv2dForwardAuto(
  rt: Runtime,
  s: Conv2dShape,
  activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource },
  label = 'conv2d forward',
  variant: ConvVariant = 'auto',
): Promise<Dispatch> {
  const quadApplies = conv2dQuadApplies(rt, s);
  if (variant === 'quad' && !quadApplies) {
    throw new Error(`conv2d: the quad forward kernel needs a device with the 'subgroups' feature, 'valid' padding and output channels divisible by 4; ` +
      `got padding '${s.padding}', COUT ${s.outC}${rt.features.has('subgroups') ? '' : ', no subgroups'}.`);
  }
  if (variant === 'quad' || (variant === 'auto' && quadApplies)) return conv2dQuadForward(rt, s, activation, r, label);
  if (!gemmChosen(s, variant, 'forward')) return conv2dForward(rt, s, activation, r, label);
  const sh = shapes(s);
  const wg = gemmWorkgroup(s.outC / 4);
  const kernel = await gemmKernel(rt, s, 'forward', wg, ['inp', 'weight', 'bias', 'out'], activationOverrides(activation), s.inC % 4 === 0);
  const pixels = s.batch * sh.g.outH * sh.g.outW;
  return rt.dispatch(
    kernel,
    [shaped(r.inp, sh.inp), shaped(r.weight, sh.weight), shaped(r.bias, [s.outC]), shaped(r.out, sh.out)],
    [Math.ceil(s.outC / 4 / wg[0]), Math.ceil(pixels / 4 / wg[1]), 1],
    label,
  );
}

const QUAD_PIXELS = 8; // output pixels per workgroup of conv2d_quad_forward

/** Threads of a quad kernel's workgroup, one per block of 4 output channels: whole quads, at most 16. */
function quadThreads(outC: number): number {
  return Math.min(16, 4 * Math.ceil(outC / 16));
}

async function conv2dQuadForward(
  rt: Runtime,
  s: Conv2dShape,
  activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource },
  label: string,
): Promise<Dispatch> {
  const sh = shapes(s);
  const threads = quadThreads(s.outC);
  const pixels = s.batch * sh.g.outH * sh.g.outW;
  // Every workgroup's 8 pixels and every thread's 4 channels exist: stores without checks.
  // (A folded grid, past the adapter's limit per dimension, has workgroups past the last pixel: those need the checks.)
  const full = pixels % QUAD_PIXELS === 0 && s.outC % (4 * threads) === 0 && Math.ceil(pixels / QUAD_PIXELS) <= rt.limits.maxComputeWorkgroupsPerDimension;
  const kernel = await gemmKernel(rt, s, 'forward', [threads, 1], ['inp', 'weight', 'bias', 'out'],
    { ...activationOverrides(activation), FULL: full ? 1 : 0 }, s.inC % 4 === 0, true);
  return rt.dispatch(
    kernel,
    [shaped(r.inp, sh.inp), shaped(r.weight, sh.weight), shaped(r.bias, [s.outC]), shaped(r.out, sh.out)],
    [Math.ceil(s.outC / 4 / threads), Math.ceil(pixels / QUAD_PIXELS), 1],
    label,
  );
}

/** How conv2d's input gradient is computed: 'flipped' (stride 1: a forward conv of the padded gradient), 'gemm' or 'direct'. */
export type InputGradRoute = 'flipped' | 'gemm' | 'direct';

/**
 * The route for a shape (and a requested variant), and the scratch the
 * 'flipped' route needs: the padded gradient, the flipped weights and a zero
 * bias, in floats (0 for the other routes).
 */
export function conv2dInputGradPlan(s: Conv2dShape, variant: ConvVariant | 'flipped' = 'auto'): {
  route: InputGradRoute; paddedElements: number; flippedElements: number; zeroElements: number;
} {
  const none = { paddedElements: 0, flippedElements: 0, zeroElements: 0 };
  if (variant === 'direct') return { route: 'direct', ...none };
  const applies = conv2dGemmApplies(s).backwardInput;
  const stride1 = s.strideH === 1 && s.strideW === 1;
  if ((variant === 'gemm' || variant === 'flipped') && !applies) gemmChosen(s, 'gemm', 'backwardInput'); // throws, naming the shape
  if (variant === 'flipped' && !stride1) throw new Error(`conv2d: the flipped input gradient needs stride 1, got ${s.strideH}×${s.strideW}.`);
  if (!applies) return { route: 'direct', ...none };
  if (variant === 'gemm' || !stride1) return { route: 'gemm', ...none };
  return {
    route: 'flipped',
    paddedElements: s.batch * (s.inH + s.kH - 1) * (s.inW + s.kW - 1) * s.outC,
    flippedElements: s.kH * s.kW * s.inC * s.outC,
    zeroElements: s.inC,
  };
}

/**
 * dinp = conv2d's input gradient, by the route of conv2dInputGradPlan; the
 * 'flipped' route needs `scratch` buffers of the plan's sizes (the zero bias
 * must hold zeros).
 */
export async function conv2dBackwardInputAuto(
  rt: Runtime,
  s: Conv2dShape,
  r: { dout: Resource; weight: Resource; dinp: Resource; scratch?: { padded: Resource; flipped: Resource; zeros: Resource } },
  label = 'conv2d backward input',
  variant: ConvVariant | 'flipped' = 'auto',
): Promise<Dispatch[]> {
  const plan = conv2dInputGradPlan(s, variant);
  if (plan.route === 'direct') return [await conv2dBackwardInput(rt, s, r, label)];
  if (plan.route === 'flipped') {
    if (!r.scratch) throw new Error(`${label}: the flipped route needs scratch buffers (see conv2dInputGradPlan).`);
    return conv2dBackwardInputFlipped(rt, s, { ...r, scratch: r.scratch }, label);
  }
  return [await conv2dBackwardInputGemm(rt, s, r, label)];
}

async function conv2dBackwardInputFlipped(
  rt: Runtime,
  s: Conv2dShape,
  r: { dout: Resource; weight: Resource; dinp: Resource; scratch: { padded: Resource; flipped: Resource; zeros: Resource } },
  label: string,
  tuned = false,
): Promise<Dispatch[]> {
  const sh = shapes(s);
  const paddedShape = [s.batch, s.inH + s.kH - 1, s.inW + s.kW - 1, s.outC];
  const pad = await gemmKernel(rt, s, 'pad_gradient', [64, 1], ['dout_p', 'padded']);
  const flip = await gemmKernel(rt, s, 'flip_weights', [64, 1], ['weight_f', 'flipped']);
  const transposed: Conv2dShape = {
    batch: s.batch, inH: paddedShape[1]!, inW: paddedShape[2]!, inC: s.outC, outC: s.inC,
    kH: s.kH, kW: s.kW, strideH: 1, strideW: 1, padding: 'valid',
  };
  return [
    rt.dispatch(pad, [shaped(r.dout, sh.out), shaped(r.scratch.padded, paddedShape)],
      grid1d(Math.ceil((s.batch * paddedShape[1]! * paddedShape[2]! * (s.outC / 4)) / 4), 64), `${label} (pad the gradient)`),
    rt.dispatch(flip, [shaped(r.weight, sh.weight), shaped(r.scratch.flipped, [s.kH, s.kW, s.outC, s.inC])],
      grid1d(s.kH * s.kW * s.inC * s.outC, 64), `${label} (flip the weights)`),
    ...(tuned
      ? await conv2dForwardList(rt, transposed, { name: 'linear' },
        { inp: r.scratch.padded, weight: r.scratch.flipped, bias: r.scratch.zeros, out: r.dinp }, `${label} (forward conv of the padded gradient)`)
      : [await conv2dForwardAuto(rt, transposed, { name: 'linear' },
        { inp: r.scratch.padded, weight: r.scratch.flipped, bias: r.scratch.zeros, out: r.dinp }, `${label} (forward conv of the padded gradient)`, 'auto')]),
  ];
}

async function conv2dBackwardInputGemm(
  rt: Runtime,
  s: Conv2dShape,
  r: { dout: Resource; weight: Resource; dinp: Resource },
  label: string,
): Promise<Dispatch> {
  const sh = shapes(s);
  const wg = gemmWorkgroup(s.inC / 4);
  const kernel = await gemmKernel(rt, s, 'backward_input', wg, ['dout', 'weight_t', 'dinp']);
  const pixels = s.batch * s.inH * s.inW;
  return rt.dispatch(
    kernel,
    [shaped(r.dout, sh.out), shaped(r.weight, sh.weight), shaped(r.dinp, sh.inp)],
    [Math.ceil(s.inC / 4 / wg[0]), Math.ceil(pixels / 4 / wg[1]), 1],
    label,
  );
}

/**
 * How the weight gradient is computed for a shape: the kernel, and into how
 * many slices the B·OH·OW pixels are cut so that enough threads share the sum
 * (`partialElements` floats of scratch for the slices' sums; 0 when none).
 */
export function conv2dWeightGradPlan(
  s: Conv2dShape,
  variant: ConvVariant = 'auto',
  rt?: Runtime,
): { gemm: boolean; quad: boolean; split: number; partialElements: number } {
  const weights = s.kH * s.kW * s.inC * s.outC;
  // Input channels one at a time only for 'valid' windows: with padding, the
  // eight per-row bounds checks take SwiftShader's compiler some 20 s.
  const quadApplies = rt !== undefined && rt.features.has('subgroups') && s.outC % 4 === 0 && (s.inC % 4 === 0 || s.padding === 'valid');
  if (variant === 'quad' && !quadApplies) {
    throw new Error(`conv2d: the quad weight-gradient kernel needs a device with the 'subgroups' feature, output channels divisible by 4, ` +
      `and input channels divisible by 4 or 'valid' padding; got CIN ${s.inC}, COUT ${s.outC}, padding '${s.padding}'` +
      `${rt?.features.has('subgroups') ? '' : ', no subgroups'}.`);
  }
  const quad = variant === 'quad' || (variant === 'auto' && quadApplies);
  if (!quad && !gemmChosen(s, variant, 'backwardWeight')) return { gemm: false, quad: false, split: s.batch, partialElements: s.batch * weights };
  const g = conv2dGeometry(s);
  const pixels = s.batch * g.outH * g.outW;
  const threads = Math.ceil((s.kH * s.kW * s.inC) / 4) * (s.outC / 4);
  // About 4,096 threads in all (of 4 weight rows each), and no slice shorter than 64 pixels.
  const split = Math.max(1, Math.min(Math.ceil(4096 / threads), Math.floor(pixels / 64)));
  return { gemm: true, quad, split, partialElements: split > 1 ? split * weights : 0 };
}

/** dweight, by the plan of conv2dWeightGradPlan; `partial` must hold its partialElements floats. */
export async function conv2dBackwardWeightAuto(
  rt: Runtime,
  s: Conv2dShape,
  r: { inp: Resource; dout: Resource; dweight: Resource; partial?: Resource },
  label = 'conv2d backward weight',
  variant: ConvVariant = 'auto',
): Promise<Dispatch[]> {
  const plan = conv2dWeightGradPlan(s, variant, rt);
  if (plan.partialElements > 0 && !r.partial) throw new Error(`${label}: needs a scratch buffer of ${plan.partialElements} floats for its partial sums.`);
  if (!plan.gemm) return conv2dBackwardWeightSplit(rt, s, { inp: r.inp, dout: r.dout, partial: r.partial!, dweight: r.dweight }, label);
  const sh = shapes(s);
  const target = plan.split > 1 ? r.partial! : r.dweight;
  const resources = [shaped(r.inp, sh.inp), shaped(r.dout, sh.out), shaped(target, plan.split > 1 ? [plan.split, ...sh.weight] : sh.weight)];
  const mainLabel = plan.split > 1 ? `${label} (${plan.split} slices)` : label;
  let main: Dispatch;
  if (plan.quad) {
    const threads = quadThreads(s.outC);
    const kernel = await gemmKernel(rt, s, 'backward_weight', [threads, 1], ['inp_w', 'dout_w', 'dweight'], { SPLIT: plan.split }, s.inC % 4 === 0, true);
    const rowGroups = Math.ceil((s.kH * s.kW * s.inC) / 8);
    main = rt.dispatch(kernel, resources, [Math.ceil(s.outC / 4 / threads), rowGroups * plan.split, 1], mainLabel);
  } else {
    const wg = gemmWorkgroup(s.outC / 4);
    const kernel = await gemmKernel(rt, s, 'backward_weight', wg, ['inp_w', 'dout_w', 'dweight'], { SPLIT: plan.split }, s.inC % 4 === 0);
    const rowBlocks = Math.ceil((s.kH * s.kW * s.inC) / 4);
    main = rt.dispatch(kernel, resources, [Math.ceil(s.outC / 4 / wg[0]), Math.ceil((rowBlocks * plan.split) / wg[1]), 1], mainLabel);
  }
  if (plan.split === 1) return [main];
  const weights = s.kH * s.kW * s.inC * s.outC;
  return [main, await biasBackward(rt, { rows: plan.split, cols: weights }, { dout: r.partial!, dbias: r.dweight }, `${label} (sum of slices)`)];
}

// ---------------------------------------------------------------------------
// The three conv products as kernel families (src/ops/family.ts): the layer
// calls these; the runtime's tuner picks the variant on the adapter in use.

type ConvForwardOperands = { inp: Resource; weight: Resource; bias: Resource; out: Resource };
type ConvInputOperands = { dout: Resource; weight: Resource; dinp: Resource };
type ConvWeightOperands = { inp: Resource; dout: Resource; dweight: Resource; dbias?: Resource };
interface ConvCall { shape: Conv2dShape; activation?: ActivationSpec }

/**
 * A conv product on shaders/gemm.wgsl's tiles (the implicit GEMM of
 * shaders/lib/gemm_conv.wgsl): 0 forward, 1 input gradient, 2 weight gradient
 * (with `dbias`, the bias gradient as its ones row). `split` slices of K.
 */
function igemm(rt: Runtime, product: 0 | 1 | 2, s: Conv2dShape, r: { a: Resource; b: Resource; c: Resource; bias?: Resource; dbias?: Resource },
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
function igemmVariants<R>(product: 0 | 1 | 2, operands: (r: R) => { a: Resource; b: Resource; c: Resource; bias?: Resource; dbias?: Resource }) {
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
  return `${s.batch}x${s.inH}x${s.inW}x${s.inC}>${s.outC} k${s.kH}x${s.kW} s${s.strideH}x${s.strideW} ${s.padding}`;
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

export const CONV2D_BACKWARD_INPUT = defineFamily<ConvCall, ConvInputOperands>({
  name: 'conv2d.backward_input',
  summary: 'dinp = conv2d’s input gradient (a transposed conv of dout with weight)',
  shapeKey: convKey,
  variants: [
    {
      name: 'flipped', files: ['convShape', 'conv2dGemm'], scratch: true,
      applies: (_rt, c) => (conv2dInputGradPlan(c.shape).route === 'flipped') || 'it needs stride 1 and input and output channels divisible by 4',
      record: async (rt, c, r, label, alloc) => {
        const plan = conv2dInputGradPlan(c.shape, 'flipped');
        const zeros = alloc(plan.zeroElements, `${label} zero bias`);
        // Pooled buffers come back holding old data: the bias of the transposed conv must read 0.
        rt.write(zeros, new Float32Array(plan.zeroElements));
        const scratch = { padded: alloc(plan.paddedElements, `${label} padded gradient`), flipped: alloc(plan.flippedElements, `${label} flipped weights`), zeros };
        return conv2dBackwardInputFlipped(rt, c.shape, { ...r, scratch }, label, true);
      },
    },
    {
      name: 'gemm', files: ['convShape', 'conv2dGemm'],
      applies: (_rt, c) => conv2dGemmApplies(c.shape).backwardInput || 'it needs input and output channels divisible by 4',
      record: async (rt, c, r, label) => [await conv2dBackwardInputGemm(rt, c.shape, r, label)],
    },
    {
      name: 'direct', files: ['convShape', 'conv2d'], applies: () => true,
      record: async (rt, c, r, label) => [await conv2dBackwardInput(rt, c.shape, r, label)],
    },
    ...igemmVariants<ConvInputOperands>(1, (r) => ({ a: r.dout, b: r.weight, c: r.dinp })),
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

export function conv2dBackwardInputList(rt: Runtime, s: Conv2dShape, r: ConvInputOperands, label = 'conv2d backward input', options: RunOptions = {}): Promise<Dispatch[]> {
  return runFamily(rt, CONV2D_BACKWARD_INPUT, { shape: s }, r, label, options);
}

export function conv2dBackwardWeightList(rt: Runtime, s: Conv2dShape, r: ConvWeightOperands, label = 'conv2d backward weight', options: RunOptions = {}): Promise<Dispatch[]> {
  return runFamily(rt, CONV2D_BACKWARD_WEIGHT, { shape: s }, r, label, options);
}

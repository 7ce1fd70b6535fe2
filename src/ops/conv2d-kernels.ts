/**
 * The conv2d kernels behind the families in conv2d.ts: the direct kernels
 * (shaders/conv2d.wgsl, the oracle for the rest and the fallback for every
 * shape), the implicit GEMM of shaders/conv2d_gemm.wgsl, and its quad form
 * (shaders/conv2d_quad.wgsl).
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationBackward } from './activation.js';
import { activationOverrides, grid1d, shaped, type ActivationGrad, type ActivationSpec, type Resource } from './common.js';
import { biasBackward } from './bias.js';
import { conv2dGeometry, convOverrides as overrides, convShapes as shapes, type Conv2dShape } from './conv2d-shape.js';
import { WGSL } from './sources.js';

const WG = 64;

/**
 * One direct kernel of shaders/conv2d.wgsl: `entry`, its bindings (the one at
 * `written`, by default the last, written; the others read) with their
 * shapes, one thread per `threads`.
 */
async function direct(
  rt: Runtime, s: Conv2dShape, entry: string, operands: [string, Resource, readonly number[]][], threads: number, label: string,
  extra: Record<string, number> = {}, written = operands.length - 1,
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: entry,
    sources: [WGSL.activationFn, WGSL.convShape, WGSL.conv2d],
    entryPoint: entry,
    bindings: operands.map(([name], i) => ({ name, kind: i === written ? 'storage' as const : 'read-only-storage' as const })),
    overrides: { ...overrides(s), ...extra },
    workgroupSize: [WG],
  });
  return rt.dispatch(kernel, operands.map(([, resource, shape]) => shaped(resource, shape)), grid1d(threads, WG), label);
}

export function conv2dForward(
  rt: Runtime,
  s: Conv2dShape,
  activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource },
  label = 'conv2d forward',
): Promise<Dispatch> {
  const sh = shapes(s);
  return direct(rt, s, 'conv2d_forward',
    [['inp', r.inp, sh.inp], ['weight', r.weight, sh.weight], ['bias', r.bias, [s.outC]], ['out', r.out, sh.out]],
    s.batch * sh.g.outH * sh.g.outW * Math.ceil(s.outC / 4), label, activationOverrides(activation));
}

/** Operands of the input gradient; with `activationGrad`, dinp = (the transposed conv) ⊙ act'(y), y (B, H, W, CIN). */
export interface ConvInputGradOperands {
  dout: Resource;
  weight: Resource;
  dinp: Resource;
  activationGrad?: ActivationGrad;
}

export function conv2dBackwardInput(
  rt: Runtime,
  s: Conv2dShape,
  r: ConvInputGradOperands,
  label = 'conv2d backward input',
): Promise<Dispatch> {
  const sh = shapes(s);
  const g = r.activationGrad;
  return direct(rt, s, g ? 'conv2d_backward_input_act_grad' : 'conv2d_backward_input',
    [['dout', r.dout, sh.out], ['weight_b', r.weight, sh.weight], ['dinp', r.dinp, sh.inp], ...(g ? [['act_y', g.y, sh.inp] as [string, Resource, number[]]] : [])],
    s.batch * s.inH * s.inW * Math.ceil(s.inC / 4), label, g ? activationOverrides(g.activation) : {}, 2);
}

export function conv2dBackwardWeight(
  rt: Runtime,
  s: Conv2dShape,
  r: { inp: Resource; dout: Resource; dweight: Resource },
  label = 'conv2d backward weight',
): Promise<Dispatch> {
  const sh = shapes(s);
  return direct(rt, s, 'conv2d_backward_weight',
    [['inp_w', r.inp, sh.inp], ['dout_w', r.dout, sh.out], ['dweight', r.dweight, sh.weight]],
    s.kH * s.kW * s.inC * Math.ceil(s.outC / 4), label);
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
  const sh = shapes(s);
  const taps = s.kH * s.kW * s.inC * s.outC;
  return [
    await direct(rt, s, 'conv2d_backward_weight_split',
      [['inp_w', r.inp, sh.inp], ['dout_w', r.dout, sh.out], ['dweight_partial', r.partial, [s.batch, ...sh.weight]]],
      s.batch * s.kH * s.kW * s.inC * Math.ceil(s.outC / 4), `${label} (per sample)`),
    await biasBackward(rt, { rows: s.batch, cols: taps }, { dout: r.partial, dbias: r.dweight }, `${label} (sum over batch)`),
  ];
}

// ---------------------------------------------------------------------------
// The implicit GEMM (shaders/conv2d_gemm.wgsl). The direct kernels above are
// its oracle and cover the shapes it does not.

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

function gemmKernel(rt: Runtime, s: Conv2dShape, entry: string, wg: [number, number], bindings: string[], extra: Record<string, number> = {}, vecCin = false, quad = false,
  written = bindings.length - 1) {
  return rt.kernel({
    name: quad ? `conv2d_quad_${entry}` : `conv2d_gemm_${entry}`,
    sources: quad ? [WGSL.activationFn, WGSL.convShape, WGSL.grid, WGSL.conv2dGemm, WGSL.conv2dQuad] : [WGSL.activationFn, WGSL.convShape, WGSL.grid, WGSL.conv2dGemm],
    foldY: entry === 'forward' || entry.startsWith('backward_input'),
    entryPoint: quad ? `conv2d_quad_${entry}` : `conv2d_gemm_${entry}`,
    bindings: bindings.map((name, i) => ({ name, kind: i === written ? 'storage' as const : 'read-only-storage' as const })),
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
export function quadThreads(outC: number): number {
  return Math.min(16, 4 * Math.ceil(outC / 16));
}

export async function conv2dQuadForward(
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
 * must hold zeros). With `activationGrad`, times act'(y).
 */
export async function conv2dBackwardInputAuto(
  rt: Runtime,
  s: Conv2dShape,
  r: ConvInputGradOperands & { scratch?: { padded: Resource; flipped: Resource; zeros: Resource } },
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

/** A linear forward conv (for the flipped route's transposed conv): by hand, or through the forward family. */
export type ConvForward = (s: Conv2dShape, r: { inp: Resource; weight: Resource; bias: Resource; out: Resource }, label: string) => Promise<Dispatch[]>;

/**
 * The 'flipped' route: pad dout, flip the weights, run a forward conv of the
 * two. With `activationGrad`, act'(y) is applied by a fourth dispatch
 * (activation.wgsl's backward pass on dinp): the forward convs have no such epilogue.
 */
export async function conv2dBackwardInputFlipped(
  rt: Runtime,
  s: Conv2dShape,
  r: ConvInputGradOperands & { scratch: { padded: Resource; flipped: Resource; zeros: Resource } },
  label: string,
  forward: ConvForward = async (t, rr, l) => [await conv2dForwardAuto(rt, t, { name: 'linear' }, rr, l, 'auto')],
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
    ...(await forward(transposed, { inp: r.scratch.padded, weight: r.scratch.flipped, bias: r.scratch.zeros, out: r.dinp },
      `${label} (forward conv of the padded gradient)`)),
    ...(r.activationGrad
      ? [await activationBackward(rt, r.activationGrad.activation, { count: s.batch * s.inH * s.inW * s.inC, columns: s.inC },
        { y: r.activationGrad.y, grad: r.dinp }, `${label} (times ${r.activationGrad.activation.name}')`)]
      : []),
  ];
}

export async function conv2dBackwardInputGemm(
  rt: Runtime,
  s: Conv2dShape,
  r: ConvInputGradOperands,
  label: string,
): Promise<Dispatch> {
  const sh = shapes(s);
  const wg = gemmWorkgroup(s.inC / 4);
  const g = r.activationGrad;
  const kernel = g
    ? await gemmKernel(rt, s, 'backward_input_act_grad', wg, ['dout', 'weight_t', 'dinp', 'act_y'], activationOverrides(g.activation), false, false, 2)
    : await gemmKernel(rt, s, 'backward_input', wg, ['dout', 'weight_t', 'dinp']);
  const pixels = s.batch * s.inH * s.inW;
  return rt.dispatch(
    kernel,
    [shaped(r.dout, sh.out), shaped(r.weight, sh.weight), shaped(r.dinp, sh.inp), ...(g ? [shaped(g.y, sh.inp)] : [])],
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


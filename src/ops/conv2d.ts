/** Conv2d kernels (shaders/conv2d.wgsl), NHWC with (KH, KW, CIN, COUT) weights. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, grid1d, shaped, type ActivationSpec, type Resource } from './common.js';
import { biasBackward } from './bias.js';
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
    sources: [WGSL.activationFn, WGSL.conv2d],
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
    sources: [WGSL.activationFn, WGSL.conv2d],
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
    sources: [WGSL.activationFn, WGSL.conv2d],
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
    sources: [WGSL.activationFn, WGSL.conv2d],
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

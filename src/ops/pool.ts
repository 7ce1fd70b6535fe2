/**
 * Max pooling kernels (shaders/pool.wgsl), NHWC, as two kernel families
 * (src/ops/family.ts):
 * - `maxpool2d.forward`: 'vec4' (four channels per thread, where the channels
 *   are a multiple of 4) and 'scalar' (any shape);
 * - `maxpool2d.backward`: 'scatter' (one thread per window, where the windows
 *   tile the image: stride = pool size) and 'gather' (one thread per input
 *   element, any shape), each in vec4 form where the channels allow.
 * Every variant gives the same numbers (maxima and their positions, and one
 * gradient per input); the layer calls the family, the tuner picks.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, shaped, type Resource } from './common.js';
import { windowGeometry, type Padding } from './conv2d.js';
import { defineFamily, runFamily, type RunOptions } from './family.js';
import { WGSL } from './sources.js';

export interface Pool2dShape {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

export function pool2dGeometry(s: Pool2dShape) {
  const h = windowGeometry(s.inH, s.poolH, s.strideH, s.padding);
  const w = windowGeometry(s.inW, s.poolW, s.strideW, s.padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore };
}

const WG = 64;
const vec4Applies = (s: Pool2dShape) => s.channels % 4 === 0 || `it needs channels divisible by 4, got ${s.channels}`;
const shapeKey = (s: Pool2dShape) => `${s.batch}x${s.inH}x${s.inW}x${s.channels} ${s.poolH}x${s.poolW}/${s.strideH}x${s.strideW} ${s.padding}`;

function overrides(s: Pool2dShape, reluGate = false) {
  const g = pool2dGeometry(s);
  return {
    B: s.batch, H: s.inH, W: s.inW, C: s.channels, OH: g.outH, OW: g.outW,
    PH: s.poolH, PW: s.poolW, SH: s.strideH, SW: s.strideW, PAD_TOP: g.padTop, PAD_LEFT: g.padLeft,
    RELU_GATE: reluGate ? 1 : 0,
    VALID: s.padding === 'valid' ? 1 : 0,
  };
}

/** What the forward family's variants take: the shape and whether a relu gate is fused (see maxPool2dForward). */
export interface Pool2dForwardCall { shape: Pool2dShape; reluGate: boolean }
export interface Pool2dForwardOperands { inp: Resource; out: Resource; argmax: Resource }
export interface Pool2dBackwardOperands { dout: Resource; argmax: Resource; dinp: Resource }

async function forwardKernel(rt: Runtime, c: Pool2dForwardCall, r: Pool2dForwardOperands, label: string, vec: 1 | 4): Promise<Dispatch[]> {
  const s = c.shape;
  const kernel = await rt.kernel({
    name: 'maxpool2d_forward',
    sources: [WGSL.pool],
    entryPoint: 'maxpool2d_forward',
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
      { name: 'argmax', kind: 'storage' },
    ],
    overrides: overrides(s, c.reluGate),
    defines: { VEC4: vec === 4 },
    workgroupSize: [WG],
  });
  const g = pool2dGeometry(s);
  const outShape = [s.batch, g.outH, g.outW, s.channels];
  return [rt.dispatch(
    kernel,
    [shaped(r.inp, [s.batch, s.inH, s.inW, s.channels]), shaped(r.out, outShape), shaped(r.argmax, outShape)],
    grid1d(s.batch * g.outH * g.outW * (s.channels / vec), WG),
    label,
  )];
}

async function backwardKernel(rt: Runtime, s: Pool2dShape, r: Pool2dBackwardOperands, label: string, disjoint: boolean): Promise<Dispatch[]> {
  const vec = s.channels % 4 === 0 ? 4 : 1;
  const entry = disjoint ? 'maxpool2d_backward_disjoint' : 'maxpool2d_backward';
  const kernel = await rt.kernel({
    name: entry,
    sources: [WGSL.pool],
    entryPoint: entry,
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'argmax_b', kind: 'read-only-storage' },
      { name: 'dinp', kind: 'storage' },
    ],
    overrides: overrides(s),
    defines: { VEC4: vec === 4 },
    workgroupSize: [WG],
  });
  const g = pool2dGeometry(s);
  const outShape = [s.batch, g.outH, g.outW, s.channels];
  const threads = disjoint ? s.batch * g.outH * g.outW : s.batch * s.inH * s.inW;
  return [rt.dispatch(
    kernel,
    [shaped(r.dout, outShape), shaped(r.argmax, outShape), shaped(r.dinp, [s.batch, s.inH, s.inW, s.channels])],
    grid1d(threads * (s.channels / vec), WG),
    label,
  )];
}

export const MAXPOOL2D_FORWARD = defineFamily<Pool2dForwardCall, Pool2dForwardOperands>({
  name: 'maxpool2d.forward',
  summary: 'out = the maximum of each window, argmax = where it is',
  shapeKey: (c) => `${shapeKey(c.shape)}${c.reluGate ? ' gated' : ''}`,
  variants: [
    { name: 'vec4', files: ['pool'], applies: (_rt, c) => vec4Applies(c.shape), record: (rt, c, r, label) => forwardKernel(rt, c, r, label, 4) },
    { name: 'scalar', files: ['pool'], applies: () => true, record: (rt, c, r, label) => forwardKernel(rt, c, r, label, 1) },
  ],
  order: { cpu: ['vec4', 'scalar'], gpu: ['vec4', 'scalar'] },
});

export const MAXPOOL2D_BACKWARD = defineFamily<Pool2dShape, Pool2dBackwardOperands>({
  name: 'maxpool2d.backward',
  summary: 'dinp = dout routed to the argmax of each window',
  shapeKey,
  variants: [
    {
      name: 'scatter', files: ['pool'],
      applies: (_rt, s) => (s.strideH === s.poolH && s.strideW === s.poolW) || 'it needs windows that tile the image (stride = pool size)',
      record: (rt, s, r, label) => backwardKernel(rt, s, r, label, true),
    },
    { name: 'gather', files: ['pool'], applies: () => true, record: (rt, s, r, label) => backwardKernel(rt, s, r, label, false) },
  ],
  order: { cpu: ['scatter', 'gather'], gpu: ['scatter', 'gather'] },
});

/**
 * out = the window maxima, argmax = where they are. With `reluGate`, a window
 * whose maximum is not > 0 records no argmax, so that maxPool2dBackward also
 * applies the derivative of a relu before the pooling (see pool.wgsl).
 */
export async function maxPool2dForward(
  rt: Runtime,
  s: Pool2dShape,
  r: Pool2dForwardOperands,
  label = 'maxpool2d forward',
  reluGate = false,
  options: RunOptions = {},
): Promise<Dispatch> {
  const [d] = await runFamily(rt, MAXPOOL2D_FORWARD, { shape: s, reluGate }, r, label, options);
  return d!;
}

/** dinp = dout at each window's argmax, zero elsewhere. */
export async function maxPool2dBackward(
  rt: Runtime,
  s: Pool2dShape,
  r: Pool2dBackwardOperands,
  label = 'maxpool2d backward',
  options: RunOptions = {},
): Promise<Dispatch> {
  const [d] = await runFamily(rt, MAXPOOL2D_BACKWARD, s, r, label, options);
  return d!;
}

/** Max pooling kernels (shaders/pool.wgsl), NHWC. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, shaped, type Resource } from './common.js';
import { windowGeometry, type Padding } from './conv2d.js';
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
/** Channels per thread: 4 (as vec4, the VEC4 define of pool.wgsl) where the channels allow, else 1. */
function width(s: Pool2dShape): number {
  return s.channels % 4 === 0 ? 4 : 1;
}

function overrides(s: Pool2dShape, reluGate = false) {
  const g = pool2dGeometry(s);
  return {
    B: s.batch, H: s.inH, W: s.inW, C: s.channels, OH: g.outH, OW: g.outW,
    PH: s.poolH, PW: s.poolW, SH: s.strideH, SW: s.strideW, PAD_TOP: g.padTop, PAD_LEFT: g.padLeft,
    RELU_GATE: reluGate ? 1 : 0,
    VALID: s.padding === 'valid' ? 1 : 0,
  };
}

/**
 * out = the window maxima, argmax = where they are. With `reluGate`, a window
 * whose maximum is not > 0 records no argmax, so that maxPool2dBackward also
 * applies the derivative of a relu before the pooling (see pool.wgsl).
 */
export async function maxPool2dForward(
  rt: Runtime,
  s: Pool2dShape,
  r: { inp: Resource; out: Resource; argmax: Resource },
  label = 'maxpool2d forward',
  reluGate = false,
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'maxpool2d_forward',
    sources: [WGSL.pool],
    entryPoint: 'maxpool2d_forward',
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
      { name: 'argmax', kind: 'storage' },
    ],
    overrides: overrides(s, reluGate),
    defines: { VEC4: width(s) === 4 },
    workgroupSize: [WG],
  });
  const g = pool2dGeometry(s);
  const outShape = [s.batch, g.outH, g.outW, s.channels];
  return rt.dispatch(
    kernel,
    [shaped(r.inp, [s.batch, s.inH, s.inW, s.channels]), shaped(r.out, outShape), shaped(r.argmax, outShape)],
    grid1d(s.batch * g.outH * g.outW * (s.channels / width(s)), WG),
    label,
  );
}

export async function maxPool2dBackward(
  rt: Runtime,
  s: Pool2dShape,
  r: { dout: Resource; argmax: Resource; dinp: Resource },
  label = 'maxpool2d backward',
): Promise<Dispatch> {
  // Windows that tile the image: one thread per window (scatter), else one per input element (gather).
  const disjoint = s.strideH === s.poolH && s.strideW === s.poolW;
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
    defines: { VEC4: width(s) === 4 },
    workgroupSize: [WG],
  });
  const g = pool2dGeometry(s);
  const outShape = [s.batch, g.outH, g.outW, s.channels];
  const threads = disjoint ? s.batch * g.outH * g.outW : s.batch * s.inH * s.inW;
  return rt.dispatch(
    kernel,
    [shaped(r.dout, outShape), shaped(r.argmax, outShape), shaped(r.dinp, [s.batch, s.inH, s.inW, s.channels])],
    grid1d(threads * (s.channels / width(s)), WG),
    label,
  );
}

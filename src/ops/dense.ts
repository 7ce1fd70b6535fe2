/**
 * Dense layer kernels: forward, backward input, backward weight. Three families:
 * - shaders/dense_quad.wgsl: one strided product for all three, any shape, on
 *   devices with the `subgroups` feature (quads share the loads of the rows
 *   every thread needs);
 * - shaders/dense_tiled.wgsl (vec4, no bounds checks) for shapes whose batch,
 *   inputs and units are all multiples of 4;
 * - shaders/dense.wgsl for any shape on any device.
 * `variant` picks one by hand (tests, benchmarks); by default ('auto') the
 * quad family runs where the device has subgroups, else the tiled family where
 * the shape allows, else the general one.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

export interface DenseShape {
  batch: number;
  inputs: number;
  units: number;
}

export type GemmVariant = 'auto' | 'general' | 'tiled' | 'quad';

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

/** The family a variant resolves to on this device, for this shape. */
export function denseFamily(rt: Runtime, s: DenseShape, variant: GemmVariant): 'quad' | 'tiled' | 'general' {
  if (variant === 'quad') {
    if (!denseQuadApplies(rt)) throw new Error("dense: the quad kernels need a device with the 'subgroups' feature; this one has none. Use variant 'auto'.");
    return 'quad';
  }
  if (variant === 'auto' && denseQuadApplies(rt)) return 'quad';
  return useTiled(s, variant) ? 'tiled' : 'general';
}

/**
 * c = a · b as the quad kernels see it: the (M, K) and (K, N) operands through
 * their strides; the forward one adds the bias and applies the activation.
 */
async function quadProduct(
  rt: Runtime,
  entry: 'forward' | 'backward_input' | 'backward_weight',
  p: { M: number; N: number; K: number; A_M: number; A_K: number; B_K: number; B_N: number },
  bindings: { a: Resource; b: Resource; bias?: Resource; c: Resource },
  shapes: { a: number[]; b: number[]; c: number[] },
  activation: ActivationSpec | undefined,
  label: string,
): Promise<Dispatch> {
  const forward = entry === 'forward';
  // One thread per 4 columns, in whole quads, at most 16: a narrow c (10 classes) keeps few idle threads.
  const threads = Math.min(16, 4 * Math.ceil(p.N / (4 * QUAD_COLS)));
  const kernel = await rt.kernel({
    name: `dense_quad_${entry}`,
    sources: [WGSL.activationFn, WGSL.denseQuad],
    entryPoint: `dense_quad_${entry}`,
    workgroupSize: [threads],
    bindings: [
      { name: 'a_mat', kind: 'read-only-storage' },
      { name: 'b_mat', kind: 'read-only-storage' },
      { name: 'c_mat', kind: 'storage' },
      ...(forward ? [{ name: 'bias', kind: 'read-only-storage' } as const] : []),
    ],
    overrides: {
      ...p, ...(activation ? activationOverrides(activation) : {}),
      FULL: p.M % QUAD_ROWS === 0 && p.N % (threads * QUAD_COLS) === 0 ? 1 : 0,
    },
  });
  const resources = [shaped(bindings.a, shapes.a), shaped(bindings.b, shapes.b), shaped(bindings.c, shapes.c)];
  if (forward) resources.push(shaped(bindings.bias!, [p.N]));
  return rt.dispatch(kernel, resources, [Math.ceil(p.N / (threads * QUAD_COLS)), Math.ceil(p.M / QUAD_ROWS), 1], label);
}

function useTiled(s: DenseShape, variant: GemmVariant): boolean {
  if (variant === 'tiled' && !denseTiledApplies(s)) {
    throw new Error(`dense: the tiled kernels need batch, inputs and units divisible by 4, got (${s.batch}, ${s.inputs}, ${s.units}).`);
  }
  return variant === 'tiled' || (variant === 'auto' && denseTiledApplies(s));
}

function groups(cols: number, rows: number, tiled: boolean): [number, number, number] {
  const wg = tiled ? WG_TILED : WG_GENERAL;
  return [Math.ceil(cols / TILE / wg[0]), Math.ceil(rows / TILE / wg[1]), 1];
}

function program(tiled: boolean, entry: string) {
  return tiled
    ? { name: `dense_tiled_${entry}`, sources: [WGSL.activationFn, WGSL.denseTiled], entryPoint: `dense_tiled_${entry}`, workgroupSize: WG_TILED }
    : { name: `dense_${entry}`, sources: [WGSL.activationFn, WGSL.dense], entryPoint: `dense_${entry}`, workgroupSize: WG_GENERAL };
}

function dims(s: DenseShape) {
  return { B: s.batch, IN: s.inputs, OUT: s.units };
}

/** out = act(inp · weight + bias). */
export async function denseForward(
  rt: Runtime,
  s: DenseShape,
  activation: ActivationSpec,
  r: { inp: Resource; weight: Resource; bias: Resource; out: Resource },
  label = 'dense forward',
  variant: GemmVariant = 'auto',
): Promise<Dispatch> {
  const family = denseFamily(rt, s, variant);
  if (family === 'quad') {
    return quadProduct(
      rt,
      'forward',
      { M: s.batch, N: s.units, K: s.inputs, A_M: s.inputs, A_K: 1, B_K: s.units, B_N: 1 },
      { a: r.inp, b: r.weight, bias: r.bias, c: r.out },
      { a: [s.batch, s.inputs], b: [s.inputs, s.units], c: [s.batch, s.units] },
      activation,
      label,
    );
  }
  const tiled = family === 'tiled';
  const kernel = await rt.kernel({
    ...program(tiled, 'forward'),
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'weight', kind: 'read-only-storage' },
      { name: 'bias', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: { ...dims(s), ...activationOverrides(activation) },
  });
  return rt.dispatch(
    kernel,
    [
      shaped(r.inp, [s.batch, s.inputs]),
      shaped(r.weight, [s.inputs, s.units]),
      shaped(r.bias, [s.units]),
      shaped(r.out, [s.batch, s.units]),
    ],
    groups(s.units, s.batch, tiled),
    label,
  );
}

/** dinp = dout · weightᵀ. */
export async function denseBackwardInput(
  rt: Runtime,
  s: DenseShape,
  r: { dout: Resource; weight: Resource; dinp: Resource },
  label = 'dense backward input',
  variant: GemmVariant = 'auto',
): Promise<Dispatch> {
  const family = denseFamily(rt, s, variant);
  if (family === 'quad') {
    return quadProduct(
      rt,
      'backward_input',
      { M: s.batch, N: s.inputs, K: s.units, A_M: s.units, A_K: 1, B_K: 1, B_N: s.units },
      { a: r.dout, b: r.weight, c: r.dinp },
      { a: [s.batch, s.units], b: [s.inputs, s.units], c: [s.batch, s.inputs] },
      undefined,
      label,
    );
  }
  const tiled = family === 'tiled';
  const kernel = await rt.kernel({
    ...program(tiled, 'backward_input'),
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'weight_t', kind: 'read-only-storage' },
      { name: 'dinp', kind: 'storage' },
    ],
    overrides: dims(s),
  });
  return rt.dispatch(
    kernel,
    [shaped(r.dout, [s.batch, s.units]), shaped(r.weight, [s.inputs, s.units]), shaped(r.dinp, [s.batch, s.inputs])],
    groups(s.inputs, s.batch, tiled),
    label,
  );
}

/** dweight = inpᵀ · dout. */
export async function denseBackwardWeight(
  rt: Runtime,
  s: DenseShape,
  r: { inp: Resource; dout: Resource; dweight: Resource },
  label = 'dense backward weight',
  variant: GemmVariant = 'auto',
): Promise<Dispatch> {
  const family = denseFamily(rt, s, variant);
  if (family === 'quad') {
    return quadProduct(
      rt,
      'backward_weight',
      { M: s.inputs, N: s.units, K: s.batch, A_M: 1, A_K: s.inputs, B_K: s.units, B_N: 1 },
      { a: r.inp, b: r.dout, c: r.dweight },
      { a: [s.batch, s.inputs], b: [s.batch, s.units], c: [s.inputs, s.units] },
      undefined,
      label,
    );
  }
  const tiled = family === 'tiled';
  const kernel = await rt.kernel({
    ...program(tiled, 'backward_weight'),
    bindings: [
      { name: 'inp_t', kind: 'read-only-storage' },
      { name: 'dout_w', kind: 'read-only-storage' },
      { name: 'dweight', kind: 'storage' },
    ],
    overrides: dims(s),
  });
  return rt.dispatch(
    kernel,
    [shaped(r.inp, [s.batch, s.inputs]), shaped(r.dout, [s.batch, s.units]), shaped(r.dweight, [s.inputs, s.units])],
    groups(s.units, s.inputs, tiled),
    label,
  );
}

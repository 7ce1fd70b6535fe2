/**
 * Dense layer kernels: forward, backward input, backward weight. Two families:
 * shaders/dense_tiled.wgsl (vec4, no bounds checks) for shapes whose batch,
 * inputs and units are all multiples of 4, and shaders/dense.wgsl for any
 * shape. `variant` picks one by hand (tests, benchmarks); by default the tiled
 * kernels run wherever they apply.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

export interface DenseShape {
  batch: number;
  inputs: number;
  units: number;
}

export type GemmVariant = 'auto' | 'general' | 'tiled';

const TILE = 4; // outputs per thread along each axis, both families
const WG_GENERAL: [number, number] = [8, 8];
const WG_TILED: [number, number] = [16, 4];

/** True when every axis of the shape is a multiple of 4: the tiled kernels apply. */
export function denseTiledApplies(s: DenseShape): boolean {
  return s.batch % TILE === 0 && s.inputs % TILE === 0 && s.units % TILE === 0;
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
  const tiled = useTiled(s, variant);
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
  const tiled = useTiled(s, variant);
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
  const tiled = useTiled(s, variant);
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

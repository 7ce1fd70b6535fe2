/** Dense layer kernels (shaders/dense.wgsl): forward, backward input, backward weight. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

export interface DenseShape {
  batch: number;
  inputs: number;
  units: number;
}

const TILE = 4; // outputs per thread along each axis
const WG: [number, number] = [8, 8];

function groups(cols: number, rows: number): [number, number, number] {
  return [Math.ceil(cols / TILE / WG[0]), Math.ceil(rows / TILE / WG[1]), 1];
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
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'dense_forward',
    sources: [WGSL.activationFn, WGSL.dense],
    entryPoint: 'dense_forward',
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'weight', kind: 'read-only-storage' },
      { name: 'bias', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: { ...dims(s), ...activationOverrides(activation) },
    workgroupSize: WG,
  });
  return rt.dispatch(
    kernel,
    [
      shaped(r.inp, [s.batch, s.inputs]),
      shaped(r.weight, [s.inputs, s.units]),
      shaped(r.bias, [s.units]),
      shaped(r.out, [s.batch, s.units]),
    ],
    groups(s.units, s.batch),
    label,
  );
}

/** dinp = dout · weightᵀ. */
export async function denseBackwardInput(
  rt: Runtime,
  s: DenseShape,
  r: { dout: Resource; weight: Resource; dinp: Resource },
  label = 'dense backward input',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'dense_backward_input',
    sources: [WGSL.activationFn, WGSL.dense],
    entryPoint: 'dense_backward_input',
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'weight_t', kind: 'read-only-storage' },
      { name: 'dinp', kind: 'storage' },
    ],
    overrides: dims(s),
    workgroupSize: WG,
  });
  return rt.dispatch(
    kernel,
    [shaped(r.dout, [s.batch, s.units]), shaped(r.weight, [s.inputs, s.units]), shaped(r.dinp, [s.batch, s.inputs])],
    groups(s.inputs, s.batch),
    label,
  );
}

/** dweight = inpᵀ · dout. */
export async function denseBackwardWeight(
  rt: Runtime,
  s: DenseShape,
  r: { inp: Resource; dout: Resource; dweight: Resource },
  label = 'dense backward weight',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'dense_backward_weight',
    sources: [WGSL.activationFn, WGSL.dense],
    entryPoint: 'dense_backward_weight',
    bindings: [
      { name: 'inp_t', kind: 'read-only-storage' },
      { name: 'dout_w', kind: 'read-only-storage' },
      { name: 'dweight', kind: 'storage' },
    ],
    overrides: dims(s),
    workgroupSize: WG,
  });
  return rt.dispatch(
    kernel,
    [shaped(r.inp, [s.batch, s.inputs]), shaped(r.dout, [s.batch, s.units]), shaped(r.dweight, [s.inputs, s.units])],
    groups(s.units, s.inputs),
    label,
  );
}

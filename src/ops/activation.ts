/** Activation kernels (shaders/activation.wgsl). */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, grid1d, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

const WG = 64;
/** Elements per thread of the elementwise kernels (ELEMENTS_PER_THREAD in activation.wgsl). */
const ELEMENTS_PER_THREAD = 4;

/**
 * out = act(inp). For softmax, `columns` is the size of the last axis and
 * the kernel runs one thread per row.
 */
export async function activationForward(
  rt: Runtime,
  activation: ActivationSpec,
  s: { count: number; columns: number },
  r: { inp: Resource; out: Resource },
  label = `${activation.name} forward`,
): Promise<Dispatch> {
  const softmax = activation.name === 'softmax';
  const rows = s.count / s.columns;
  const kernel = await rt.kernel({
    name: softmax ? 'softmax_forward' : 'activation_forward',
    sources: [WGSL.activationFn, WGSL.activation],
    entryPoint: softmax ? 'softmax_forward' : 'activation_forward',
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: softmax ? { ROWS: rows, COLS: s.columns } : { N: s.count, ...activationOverrides(activation) },
    workgroupSize: [WG],
  });
  const shape = [rows, s.columns];
  return rt.dispatch(kernel, [shaped(r.inp, shape), shaped(r.out, shape)], grid1d(softmax ? rows : Math.ceil(s.count / ELEMENTS_PER_THREAD), WG), label);
}

/** grad ← grad ⊙ act'(y), in place (softmax: its Jacobian-vector product per row). */
export async function activationBackward(
  rt: Runtime,
  activation: ActivationSpec,
  s: { count: number; columns: number },
  r: { y: Resource; grad: Resource },
  label = `${activation.name} backward`,
): Promise<Dispatch> {
  const softmax = activation.name === 'softmax';
  const rows = s.count / s.columns;
  const kernel = await rt.kernel({
    name: softmax ? 'softmax_backward' : 'activation_backward',
    sources: [WGSL.activationFn, WGSL.activation],
    entryPoint: softmax ? 'softmax_backward' : 'activation_backward',
    bindings: [
      { name: 'y', kind: 'read-only-storage' },
      { name: 'grad', kind: 'storage' },
    ],
    overrides: softmax ? { ROWS: rows, COLS: s.columns } : { N: s.count, ...activationOverrides(activation) },
    workgroupSize: [WG],
  });
  const shape = [rows, s.columns];
  return rt.dispatch(kernel, [shaped(r.y, shape), shaped(r.grad, shape)], grid1d(softmax ? rows : Math.ceil(s.count / ELEMENTS_PER_THREAD), WG), label);
}

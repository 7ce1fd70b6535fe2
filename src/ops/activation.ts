/** Activation kernels (shaders/activation.wgsl). */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationOverrides, grid1d, shaped, type ActivationSpec, type Resource } from './common.js';
import { WGSL } from './sources.js';

const WG = 64;
/** Elements per thread of the elementwise kernels (ELEMENTS_PER_THREAD in activation.wgsl). */
const ELEMENTS_PER_THREAD = 4;

/** The vec4 entry point (name + '4') where the count is a multiple of 4: a vec4 costs software adapters about what one f32 does. */
function elementwise(entry: string, count: number): string {
  return count % 4 === 0 ? `${entry}4` : entry;
}

/** Threads of an elementwise kernel: ELEMENTS_PER_THREAD values (f32 or vec4) each. */
function threads(count: number): number {
  return Math.ceil((count % 4 === 0 ? count / 4 : count) / ELEMENTS_PER_THREAD);
}

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
  const entry = softmax ? 'softmax_forward' : elementwise('activation_forward', s.count);
  const kernel = await rt.kernel({
    name: entry,
    sources: [WGSL.activationFn, WGSL.activation],
    entryPoint: entry,
    bindings: [
      { name: 'inp', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: softmax ? { ROWS: rows, COLS: s.columns } : { N: s.count, ...activationOverrides(activation) },
    workgroupSize: [WG],
  });
  const shape = [rows, s.columns];
  return rt.dispatch(kernel, [shaped(r.inp, shape), shaped(r.out, shape)], grid1d(softmax ? rows : threads(s.count), WG), label);
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
  const entry = softmax ? 'softmax_backward' : elementwise('activation_backward', s.count);
  const kernel = await rt.kernel({
    name: entry,
    sources: [WGSL.activationFn, WGSL.activation],
    entryPoint: entry,
    bindings: [
      { name: 'y', kind: 'read-only-storage' },
      { name: 'grad', kind: 'storage' },
    ],
    overrides: softmax ? { ROWS: rows, COLS: s.columns } : { N: s.count, ...activationOverrides(activation) },
    workgroupSize: [WG],
  });
  const shape = [rows, s.columns];
  return rt.dispatch(kernel, [shaped(r.y, shape), shaped(r.grad, shape)], grid1d(softmax ? rows : threads(s.count), WG), label);
}

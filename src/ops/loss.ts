/** Loss kernels (shaders/loss.wgsl), fused with their gradient and metrics. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { shaped, type Resource } from './common.js';
import { WGSL } from './sources.js';

export type LossKernel = 'softmax_cross_entropy' | 'sigmoid_cross_entropy' | 'mean_squared_error';

/**
 * One workgroup takes the whole batch: a thread per row up to 256 rows (a power
 * of two, for the tree reduction). Idle threads would still pay every barrier.
 */
function workgroupSize(batch: number): number {
  return Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(batch))));
}

export async function lossForwardBackward(
  rt: Runtime,
  kind: LossKernel,
  s: { batch: number; classes: number; sparse: boolean },
  r: { z: Resource; targets: Resource; dz: Resource; state: Resource },
  label = kind,
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: kind,
    sources: [WGSL.stepState, WGSL.loss],
    entryPoint: kind,
    bindings: [
      { name: 'z', kind: 'read-only-storage' },
      { name: 'targets', kind: 'read-only-storage' },
      { name: 'dz', kind: 'storage' },
      { name: 'state', kind: 'storage' },
    ],
    overrides: { B: s.batch, C: s.classes, SPARSE: s.sparse ? 1 : 0 },
    workgroupSize: [workgroupSize(s.batch)],
  });
  const shape = [s.batch, s.classes];
  return rt.dispatch(
    kernel,
    [shaped(r.z, shape), shaped(r.targets, s.sparse ? [s.batch] : shape), shaped(r.dz, shape), r.state],
    [1, 1, 1],
    label,
  );
}

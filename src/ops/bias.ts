/** Bias gradient (shaders/bias.wgsl): dbias = Σ over rows of dout. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, shaped, type Resource } from './common.js';
import { WGSL } from './sources.js';

export async function biasBackward(
  rt: Runtime,
  s: { rows: number; cols: number },
  r: { dout: Resource; dbias: Resource },
  label = 'bias backward',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'bias_backward',
    sources: [WGSL.bias],
    entryPoint: 'bias_backward',
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'dbias', kind: 'storage' },
    ],
    overrides: { ROWS: s.rows, COLS: s.cols },
    workgroupSize: [64],
  });
  return rt.dispatch(kernel, [shaped(r.dout, [s.rows, s.cols]), shaped(r.dbias, [s.cols])], grid1d(s.cols, 64), label);
}

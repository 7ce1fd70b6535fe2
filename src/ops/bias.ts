/** Bias gradient (shaders/bias.wgsl): dbias = Σ over rows of dout. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, shaped, type Resource } from './common.js';
import { WGSL } from './sources.js';

/** dbias[g, c] = Σ over group g's rows of dout[r, c]; `groups` (default 1) must divide `rows`. */
export async function biasBackward(
  rt: Runtime,
  s: { rows: number; cols: number; groups?: number },
  r: { dout: Resource; dbias: Resource },
  label = 'bias backward',
): Promise<Dispatch> {
  const groups = s.groups ?? 1;
  if (!Number.isInteger(s.rows / groups)) throw new Error(`biasBackward: ${groups} groups do not divide ${s.rows} rows.`);
  const kernel = await rt.kernel({
    name: 'bias_backward',
    sources: [WGSL.bias],
    entryPoint: 'bias_backward',
    bindings: [
      { name: 'dout', kind: 'read-only-storage' },
      { name: 'dbias', kind: 'storage' },
    ],
    overrides: { ROWS: s.rows, COLS: s.cols, GROUPS: groups },
    workgroupSize: [64],
  });
  return rt.dispatch(kernel, [shaped(r.dout, [s.rows, s.cols]), shaped(r.dbias, groups > 1 ? [groups, s.cols] : [s.cols])],
    grid1d(groups * s.cols, 64), label);
}

/** The adapter's ceilings (shaders/peak.wgsl): register-only FMA throughput and the cost of a dispatch. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, shaped, type Resource } from './common.js';
import { WGSL } from './sources.js';

const WG = 256;

/** Floating-point operations of one thread of `fmaPeak`: four vec4 FMAs (2 flops a lane) per iteration. */
export function peakFlopsPerThread(iterations: number): number {
  return 4 * 4 * 2 * iterations;
}

/** Every thread (one per element of `out`) runs `iterations` rounds of a = fma(a, b, c) with b, c from `coeffs`. */
export async function fmaPeak(rt: Runtime, threads: number, iterations: number, r: { coeffs: Resource; out: Resource }): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'fma_peak',
    sources: [WGSL.peak],
    entryPoint: 'fma_peak',
    bindings: [
      { name: 'coeffs', kind: 'read-only-storage' },
      { name: 'out', kind: 'storage' },
    ],
    overrides: { ITERATIONS: iterations },
    workgroupSize: [WG],
  });
  return rt.dispatch(kernel, [shaped(r.coeffs, [2, 4]), shaped(r.out, [threads])], grid1d(threads, WG), `fma peak ×${iterations}`);
}

/** A dispatch of one thread that does nothing: what a dispatch costs by itself. */
export async function noop(rt: Runtime): Promise<Dispatch> {
  const kernel = await rt.kernel({ name: 'noop', sources: [WGSL.peak], entryPoint: 'noop', bindings: [], overrides: {}, workgroupSize: [1] });
  return rt.dispatch(kernel, [], [1], 'noop');
}

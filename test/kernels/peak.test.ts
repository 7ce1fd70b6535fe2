/**
 * The ceiling benchmarks' kernels (shaders/peak.wgsl) compute what they claim,
 * so the benchmark's GFLOP/s count real work: with b = 1 and c = 0.5 every one
 * of a thread's 16 lanes ends at its start + 0.5·iterations, exactly in f32.
 */
import { describe, expect, it } from 'vitest';
import { fmaPeak, noop, peakFlopsPerThread } from '../../src/ops/peak.js';
import { expectNoGpuErrors, useRuntime } from './gpu.js';

const rt = useRuntime();

describe('peak kernels', () => {
  it('fma_peak runs every iteration of every thread, including a grid folded past 65,535 workgroups', async () => {
    const r = rt();
    for (const [threads, iterations] of [[1000, 3], [300, 1000], [65_536 * 256 + 37, 1]] as const) {
      const coeffs = r.storage(new Float32Array([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]), 'coeffs');
      const out = r.storage(threads * 4, 'out');
      r.submit([await fmaPeak(r, threads, iterations, { coeffs, out })]);
      const got = await r.readF32(out, threads);
      // Thread t starts its accumulators at s … s + 3 (s = t mod 8).
      let wrong = 0;
      for (let t = 0; t < threads; t++) if (got[t] !== 16 * (t % 8) + 24 + 8 * iterations) wrong++;
      expect(wrong, `${threads} threads × ${iterations} iterations`).toBe(0);
      r.pool.release(coeffs);
      r.pool.release(out);
    }
    expect(peakFlopsPerThread(10)).toBe(320);
    expectNoGpuErrors(r);
  });

  it('noop dispatches many times in one pass', async () => {
    const r = rt();
    r.submit([await noop(r)], 1000);
    await r.sync();
    expectNoGpuErrors(r);
  });
});

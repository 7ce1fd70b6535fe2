/**
 * Small helpers shared by the kernel tests: one runtime per file, uploads of
 * seeded random data (rounded to f32 first, so the f64 twin sees exactly what
 * the GPU sees), and read-back.
 */
import { afterAll, beforeAll } from 'vitest';
import { createRuntime } from '../../src/gpu/device.js';
import type { Runtime, RuntimeOptions } from '../../src/gpu/runtime.js';
import { makeRng, type TestRng as Rng } from '../../src/reference/test-rng.js';

/** Default tolerances for f32 GPU results against f64 twins. */
export const TOL = { atol: 1e-5, rtol: 1e-4 } as const;

/**
 * Creates one runtime for the test file (beforeAll) and destroys it (afterAll).
 * Returns a getter, since the runtime exists only once beforeAll ran.
 */
export function useRuntime(options: RuntimeOptions = {}): () => Runtime {
  let rt: Runtime | undefined;
  beforeAll(async () => {
    rt = await createRuntime(options);
  });
  afterAll(() => {
    rt?.destroy();
    rt = undefined;
  });
  return () => {
    if (!rt) throw new Error('runtime not created yet');
    return rt;
  };
}

/** n standard normals times `scale`, rounded to f32. */
export function normalF32(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** n distinct values (a shuffled ramp, scaled), rounded to f32; no two are equal. */
export function distinctF32(rng: Rng, n: number, step = 0.01): Float32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (order[i]! - n / 2) * step;
  return a;
}

/** An output buffer of `count` f32 elements filled with a sentinel (NaN by default) so unwritten cells show. */
export function outputF32(rt: Runtime, count: number, label: string, fill = Number.NaN): GPUBuffer {
  return rt.storage(new Float32Array(count).fill(fill), label);
}

/** Throws if the runtime collected uncaptured WebGPU validation errors. */
export function expectNoGpuErrors(rt: Runtime): void {
  if (rt.errors.length) throw new Error(`WebGPU errors:\n${rt.errors.join('\n')}`);
}

export { makeRng };

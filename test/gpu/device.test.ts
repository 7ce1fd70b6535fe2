/** Device acquisition and the errors a user meets when the GPU side goes wrong. */
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, Dataset, DeviceLostError, dense, sequential } from '../../src/index.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { getPlatform } from '../../src/platform/platform.js';

describe('device', () => {
  it('asks for the adapter\'s real limits, not WebGPU\'s defaults', async () => {
    const rt = await createRuntime();
    const gpu = (await import('../../src/platform/platform.js')).getPlatform;
    const adapter = await (await (await gpu()).gpu()).requestAdapter();
    expect(rt.limits.maxStorageBufferBindingSize).toBe(adapter!.limits.maxStorageBufferBindingSize);
    expect(rt.limits.maxBufferSize).toBe(adapter!.limits.maxBufferSize);
    // MNIST's training images as f32 would be 188 MB, over the 128 MiB default.
    expect(rt.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
    expect(rt.adapter.name.length).toBeGreaterThan(0);
    rt.destroy();
  });

  it('says what to install when there is no adapter', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createRuntime({ gpu: noAdapter })).rejects.toThrow(/No WebGPU adapter found.*apt-get install chromium libvulkan1/);
  });

  it('turns a lost device into a clear error on the next use', async () => {
    const rt = await createRuntime();
    rt.device.destroy();
    const info = await rt.device.lost;
    expect(info.reason).toBe('destroyed');
    await new Promise((resolve) => setTimeout(resolve, 20)); // the runtime's own handler of `lost` runs too
    let error: unknown;
    try {
      rt.checkAlive();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeviceLostError);
    expect(() => rt.storage(16, 'after loss')).toThrow(/device was lost.*Create a new runtime/);
  });

  it('refuses a dataset larger than the storage-buffer limit, saying what to do', async () => {
    const rt = await createRuntime();
    const small = Object.create(rt, { limits: { value: { ...limitsOf(rt), maxStorageBufferBindingSize: 1024 } } });
    const x = new Float32Array(600);
    expect(() => Dataset.create(small, { x, y: new Uint8Array(600), shape: [1], classes: 1, name: 'big' }))
      .toThrow(/Dataset 'big' needs 2.3 KiB.*limit of 1.0 KiB.*subset/);
    rt.destroy();
  });

  it('refuses a buffer over maxBufferSize with its name', async () => {
    const rt = await createRuntime();
    const model = sequential([dense(10, 'softmax')], { runtime: rt, inputShape: [4] });
    expect(() => rt.pool.alloc(rt.limits.maxBufferSize + 16, GPUBufferUsage.STORAGE, 'huge activations')).toThrow(/'huge activations' needs .* maxBufferSize/);
    expect(model.countParams()).toBe(50);
    rt.destroy();
  });
});

// Reads src[i] for an i it finds in dst[0] at run time, so no compiler can
// bound it in advance, and writes it back to dst[0].
const PEEK_WGSL = `
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(1)
fn peek() {
  dst[0] = src[u32(dst[0])];
}
`;

/** What `src[i]` reads through a binding of src's first 4 floats, in a buffer that holds 8 (10, 11, ... 17). */
async function readThroughBinding(rt: Runtime, i: number): Promise<number> {
  const kernel = await rt.kernel({
    name: 'test_peek', sources: [PEEK_WGSL], entryPoint: 'peek', workgroupSize: [1], overrides: {},
    bindings: [{ name: 'src', kind: 'read-only-storage' }, { name: 'dst', kind: 'storage' }],
  });
  const src = rt.storage(new Float32Array([10, 11, 12, 13, 14, 15, 16, 17]), 'src');
  const dst = rt.storage(new Float32Array([i]), 'dst');
  rt.submit([rt.dispatch(kernel, [{ buffer: src, offset: 0, size: 16 }, dst], [1], 'peek')]);
  const [value] = await rt.readF32(dst, 1);
  rt.pool.release(src);
  rt.pool.release(dst);
  return value!;
}

// With checks off, a read past the binding is undefined behaviour: SwiftShader reads on into
// the buffer (14), an NVIDIA driver returned 0, another may clamp. The value is asserted only on
// SwiftShader, where it shows that the checks are really gone; every adapter must read inside
// the binding exactly.
const readsOnWithoutChecks = (rt: Runtime) => rt.adapter.name === 'SwiftShader';

describe('bounds checks', () => {
  it('are on by default: an index past the binding does not reach past it', async () => {
    const rt = await createRuntime({ boundsChecks: true });
    expect(rt.boundsChecks).toBe(true);
    expect(await readThroughBinding(rt, 3)).toBe(13);
    // WebGPU's robust access: a value from inside the binding, or zero; never the 14 beyond it.
    expect([0, 10, 11, 12, 13]).toContain(await readThroughBinding(rt, 4));
    rt.destroy();
  });

  it('boundsChecks: false compiles shaders without them; reads inside the binding are exact', async (ctx) => {
    const rt = await createRuntime({ boundsChecks: false });
    expect(rt.boundsChecks).toBe(false);
    expect(await readThroughBinding(rt, 0)).toBe(10);
    expect(await readThroughBinding(rt, 3)).toBe(13);
    if (!readsOnWithoutChecks(rt)) {
      rt.destroy();
      ctx.skip(`a read past the binding without checks is undefined on ${rt.adapter.name}; its value shows the checks are off only on SwiftShader`);
    }
    expect(await readThroughBinding(rt, 4)).toBe(14);
    rt.destroy();
  });

  it('takes its default from SHADERPROP_BOUNDS_CHECKS (0: off)', async (ctx) => {
    vi.stubEnv('SHADERPROP_BOUNDS_CHECKS', '0');
    try {
      const rt = await createRuntime();
      expect(rt.boundsChecks).toBe(false);
      expect(await readThroughBinding(rt, 3)).toBe(13);
      const readsOn = readsOnWithoutChecks(rt);
      const past = readsOn ? await readThroughBinding(rt, 4) : undefined;
      const name = rt.adapter.name;
      rt.destroy();
      if (!readsOn) ctx.skip(`a read past the binding without checks is undefined on ${name}; its value shows the checks are off only on SwiftShader`);
      expect(past).toBe(14);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('boundsChecks: false with a GPU object of the caller\'s is refused', async () => {
    const gpu = await (await getPlatform()).gpu();
    await expect(createRuntime({ gpu, boundsChecks: false })).rejects.toThrow(/boundsChecks: false needs the GPU object shaderprop creates/);
  });
});

function limitsOf(rt: { limits: GPUSupportedLimits }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupsPerDimension']) {
    out[key] = (rt.limits as unknown as Record<string, number>)[key]!;
  }
  return out;
}

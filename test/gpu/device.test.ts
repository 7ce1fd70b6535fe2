/** Device acquisition and the errors a user meets when the GPU side goes wrong. */
import { describe, expect, it } from 'vitest';
import { createRuntime, Dataset, DeviceLostError, dense, sequential } from '../../src/index.js';

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

function limitsOf(rt: { limits: GPUSupportedLimits }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupsPerDimension']) {
    out[key] = (rt.limits as unknown as Record<string, number>)[key]!;
  }
  return out;
}

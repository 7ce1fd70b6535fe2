/**
 * GPU time of each dispatch of a list, through timestamp queries: every
 * dispatch runs in its own compute pass whose start and end the GPU stamps.
 * For the shader view ("how long does each kernel of one training step take"),
 * not for the training loop, which records many steps into one pass.
 *
 * Needs the adapter's 'timestamp-query' feature (createRuntime asks for it
 * where the adapter has it). Browsers may round the stamps (Chrome to 100 µs
 * unless started with --enable-webgpu-developer-features).
 */
import type { Dispatch, RuntimeCore } from './dispatch.js';

/** True when the runtime's device can stamp passes. */
export function canTimeDispatches(rt: RuntimeCore): boolean {
  return rt.features.has('timestamp-query');
}

/**
 * Runs `dispatches` once, in order, each in its own pass, and returns the GPU
 * time of each in nanoseconds (the same work as `rt.submit(dispatches)`: a
 * training step's list trains one step). Null when the device has no
 * timestamp queries.
 */
export async function timeDispatches(rt: RuntimeCore, dispatches: readonly Dispatch[]): Promise<Float64Array | null> {
  if (!canTimeDispatches(rt)) return null;
  rt.checkAlive();
  const count = dispatches.length;
  if (count === 0) return new Float64Array(0);
  const querySet = rt.device.createQuerySet({ type: 'timestamp', count: 2 * count, label: 'dispatch timestamps' });
  // Two u64 stamps per dispatch; resolveQuerySet writes at 256-byte-aligned offsets, here 0.
  const resolved = rt.pool.alloc(16 * count, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, 'dispatch timestamps');
  try {
    const encoder = rt.device.createCommandEncoder({ label: 'timed dispatches' });
    dispatches.forEach((d, i) => {
      const pass = encoder.beginComputePass({
        label: d.label,
        timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
    });
    encoder.resolveQuerySet(querySet, 0, 2 * count, resolved, 0);
    rt.queue.submit([encoder.finish()]);
    const stamps = new BigUint64Array(await rt.read(resolved, 16 * count));
    const times = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const start = stamps[2 * i]!;
      const end = stamps[2 * i + 1]!;
      // A driver may report a zero or reversed pair for a pass too short to measure.
      times[i] = end > start ? Number(end - start) : 0;
    }
    return times;
  } finally {
    rt.pool.destroy(resolved);
    querySet.destroy();
  }
}

/**
 * Seconds one run of `dispatches` takes on the GPU, from timestamps written at
 * the start and end of one pass that runs them `reps` times; null when the
 * device has no timestamp queries or the stamps cannot be trusted (zero, or
 * longer than the wall-clock time around them: browsers round stamps, and a
 * driver may report a reversed pair). `wall` is the wall-clock seconds of the
 * whole submit, which every adapter has.
 */
export async function timeRepeats(rt: RuntimeCore, dispatches: readonly Dispatch[], reps: number): Promise<{ gpu: number | null; wall: number }> {
  await rt.sync();
  if (!canTimeDispatches(rt)) {
    const start = performance.now();
    rt.submit(dispatches, reps);
    await rt.sync();
    return { gpu: null, wall: (performance.now() - start) / 1000 / reps };
  }
  const querySet = rt.device.createQuerySet({ type: 'timestamp', count: 2, label: 'tuning timestamps' });
  const resolved = rt.pool.alloc(16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, 'tuning timestamps');
  try {
    const encoder = rt.device.createCommandEncoder({ label: 'timed repeats' });
    const pass = encoder.beginComputePass({ label: 'timed repeats', timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    for (let r = 0; r < reps; r++) {
      for (const d of dispatches) {
        pass.setPipeline(d.kernel.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
    }
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
    const start = performance.now();
    rt.queue.submit([encoder.finish()]);
    await rt.sync();
    const wall = (performance.now() - start) / 1000;
    const [begin, end] = new BigUint64Array(await rt.read(resolved, 16));
    const gpu = end! > begin! ? Number(end! - begin!) / 1e9 : 0;
    return { gpu: gpu > 0 && gpu <= wall * 1.05 ? gpu / reps : null, wall: wall / reps };
  } finally {
    rt.pool.destroy(resolved);
    querySet.destroy();
  }
}

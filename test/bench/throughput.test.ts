/**
 * measureThroughput (src/experiments/bench.ts): the data set it times grows in
 * whole batches up to maxSamples, and a pass on the largest set ends the
 * measurement even when it is shorter than `seconds`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/index.js';
import { measureThroughput } from '../../src/experiments/bench.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

describe('measureThroughput', () => {
  it('stops at the largest whole-batch set under maxSamples, however long `seconds` asks for', async () => {
    // maxSamples 100 at batch 32: the largest set is 96 samples (100 is never reached).
    const t = await measureThroughput(rt, 's001-softmax', { batch: 32, seconds: 3600, maxSamples: 100 });
    expect(t.trainSamples).toBe(96);
    expect(t.trainSeconds).toBeLessThan(60);
    expect(t.train).toBeGreaterThan(0);
    expect(t.infer).toBeGreaterThan(0);
  }, 120_000);
});

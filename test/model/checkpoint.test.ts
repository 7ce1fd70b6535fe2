/** Checkpoints: save, load, resume, and damaged or mismatched files. */
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adam, createRuntime, Dataset, dense, Runtime, sequential } from '../../src/index.js';
import { makeRng } from '../../src/reference/index.js';

let rt: Runtime;
let data: Dataset;
let dir: string;
beforeAll(async () => {
  rt = await createRuntime();
  const rng = makeRng(9);
  const x = Float32Array.from({ length: 240 * 12 }, () => rng.next());
  const y = Uint8Array.from({ length: 240 }, (_, i) => i % 4);
  data = Dataset.create(rt, { x, y, shape: [12], classes: 4 });
  dir = await mkdtemp(join(tmpdir(), 'shaderprop-ckpt-'));
});
afterAll(() => rt?.destroy());

function model(units = 8) {
  const m = sequential([dense(units, 'relu'), dense(4, 'softmax')], { runtime: rt, seed: 3 });
  m.compile({ optimizer: adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
  return m;
}

const bits = (arrays: { values: Float32Array }[]) => arrays.map((t) => Buffer.from(t.values.buffer).toString('hex'));

describe('checkpoints', () => {
  it('save then load gives the same weights, optimizer state and iteration; resuming equals an unbroken run', async () => {
    const unbroken = model();
    await unbroken.fit(data, { epochs: 2, batchSize: 16, seed: 5 });

    const first = model();
    await first.fit(data, { epochs: 1, batchSize: 16, seed: 5 });
    const path = join(dir, 'last.ckpt');
    await first.save(path, { epoch: 0 });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);

    const resumed = model();
    const header = await resumed.load(path);
    expect(header.meta).toEqual({ epoch: 0 });
    expect(header.optimizer?.iteration).toBe(15);
    expect(await resumed.iterations()).toBe(15);
    expect(bits(await resumed.getWeights())).toEqual(bits(await first.getWeights()));
    await resumed.fit(data, { epochs: 2, initialEpoch: 1, batchSize: 16, seed: 5 });
    expect(bits(await resumed.getWeights())).toEqual(bits(await unbroken.getWeights()));
    for (const m of [unbroken, first, resumed]) m.dispose();
  });

  it('refuses a truncated file, a file that is not a checkpoint, and a different model', async () => {
    const m = model();
    await m.fit(data, { epochs: 1, batchSize: 32 });
    const bytes = await m.checkpointBytes();
    const truncated = join(dir, 'truncated.ckpt');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
    await expect(model().load(truncated)).rejects.toThrow(/truncated\.ckpt: truncated or damaged checkpoint/);
    const foreign = join(dir, 'foreign.ckpt');
    await writeFile(foreign, 'PK\u0003\u0004 not a checkpoint at all');
    await expect(model().load(foreign)).rejects.toThrow(/foreign\.ckpt is not a shaderprop checkpoint/);
    await expect(model(9).restore(bytes, 'other')).rejects.toThrow(/other holds a different model.*Dense\(8, relu\)/s);
    await expect(model().load(join(dir, 'missing.ckpt'))).rejects.toThrow(/missing\.ckpt: no such file/);
    expect((await readFile(truncated)).length).toBe(bytes.length - 10);
    m.dispose();
  });
});

/** The runner on made-up entries: a diverging sweep cell is a result, not a crash. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/gpu/device.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { loadMnist, type LabeledImages } from '../../src/data/mnist.js';
import { dense, flatten } from '../../src/layers/index.js';
import { sgd } from '../../src/optimizers/optimizers.js';
import type { SweepExperiment, TrainSpec } from '../../src/experiments/registry.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { mnistDir } from '../helpers.js';

describe.skipIf(!mnistDir())('runExperiment', () => {
  let rt: Runtime;
  let mnist: { train: LabeledImages; test: LabeledImages };
  beforeAll(async () => {
    rt = await createRuntime();
    mnist = await loadMnist({ dir: mnistDir()!, subset: { train: 600, test: 200 } });
  });
  afterAll(() => rt.destroy());

  it('records a diverging cell (its kept weights evaluated as they are), and picks a sound cell as best', async () => {
    const train = (lr: number): TrainSpec => ({
      layers: () => [flatten(), dense(32, 'relu'), dense(10, 'softmax')], inputShape: [28, 28],
      optimizer: () => sgd({ learningRate: lr }), loss: 'sparseCategoricalCrossentropy', batchSize: 32, epochs: 2,
      preprocessing: { kind: 'scale', scale: 1 / 255 }, preprocessingText: 'x/255', validation: { kind: 'split', fraction: 0.1 },
    });
    const sweep: SweepExperiment = {
      kind: 'sweep', id: 'test-sweep', notebook: 'test', title: 'two learning rates', reported: null, reportedText: '—',
      axes: ['lr'], cells: [{ name: 'lr=0.1', params: { lr: 0.1 }, train: train(0.1) }, { name: 'lr=1e9', params: { lr: 1e9 }, train: train(1e9) }],
      quick: { train: 600, test: 200, epochs: 2, floor: 0 },
    };
    const lines: string[] = [];
    const result = await runExperiment(sweep, { runtime: rt, mnist, quick: true, log: (l) => lines.push(l) });
    expect(result.kind).toBe('sweep');
    if (result.kind !== 'sweep') return;
    const [sound, wild] = result.cells.map((c) => c.result);
    expect(sound!.diverged).toBeUndefined();
    expect(sound!.test.loss).toBeLessThan(sound!.initial!.loss);
    expect(wild!.diverged).toMatchObject({ epoch: 0 });
    expect(wild!.diverged!.message).toMatch(/Training diverged: the loss of epoch 1, step \d+ was not finite/);
    expect(wild!.test.accuracy).toBeLessThan(0.5);
    expect(wild!.history.epoch).toEqual([]);
    expect(result.best).toBe('lr=0.1');
    expect(lines.some((l) => l.startsWith('test-sweep lr=1e9: Training diverged'))).toBe(true);
  });
});

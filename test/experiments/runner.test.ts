/** The runner on made-up entries: a diverging sweep cell is a result, not a crash. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/gpu/device.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { loadMnist, type ImageSet } from '../../src/data/mnist.js';
import { dense, flatten } from '../../src/layers/index.js';
import { sgd } from '../../src/optimizers/optimizers.js';
import type { NeuralExperiment, SweepExperiment, TrainSpec } from '../../src/experiments/registry.js';
import { ResumeMismatchError, RunInterruptedError, runExperiment } from '../../src/experiments/runner.js';
import { decodeCheckpoint } from '../../src/model/checkpoint.js';
import type { RunResult } from '../../src/experiments/result.js';
import { mnistDir } from '../helpers.js';

describe.skipIf(!mnistDir())('runExperiment', () => {
  let rt: Runtime;
  let mnist: { train: ImageSet; test: ImageSet };
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

  it('an abort stops training mid-epoch; the resume finishes it to the weights and results of an unbroken run', async () => {
    const net: NeuralExperiment = {
      kind: 'neural', id: 'test-net', notebook: 'test', title: 'a small MLP', reported: null, reportedText: '—',
      train: {
        layers: () => [flatten(), dense(16, 'relu'), dense(10, 'softmax')], inputShape: [28, 28],
        optimizer: () => sgd({ learningRate: 0.05, momentum: 0.9 }), loss: 'sparseCategoricalCrossentropy', batchSize: 32, epochs: 3,
        preprocessing: { kind: 'scale', scale: 1 / 255 }, preprocessingText: 'x/255', validation: { kind: 'split', fraction: 0.1 },
      },
      quick: { train: 600, test: 200, epochs: 3, floor: 0 },
    };
    const out = mkdtempSync(join(tmpdir(), 'shaderprop-runner-'));
    const common = { runtime: rt, mnist, quick: true, seed: 4, progressEvery: 4 };
    const unbroken = await runExperiment(net, { ...common, dir: join(out, 'unbroken') }) as RunResult;

    const broken = join(out, 'broken');
    const controller = new AbortController();
    const stopped = await runExperiment(net, {
      ...common, dir: broken, signal: controller.signal,
      callbacks: () => [{ onBatchEnd: (epoch, logs) => { if (epoch === 1 && logs.step >= 4) controller.abort(); } }],
    }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(RunInterruptedError);
    expect((stopped as Error).message).toMatch(/^test-net: interrupted at step (8|12) of epoch 2; .*last\.ckpt holds the run so far\.$/);
    const saved = decodeCheckpoint(new Uint8Array(readFileSync(join(broken, 'last.ckpt'))), 'last.ckpt').header.meta;
    expect(saved).toMatchObject({ epoch: 0, finished: false, quick: true, seed: 4, epochs: 3, partial: { epoch: 1 } });

    // Another seed, fewer epochs, or not quick: refused, the checkpoint untouched.
    await expect(runExperiment(net, { ...common, seed: 5, dir: broken, resume: true })).rejects.toThrow(/test-net: the run to resume has seed 4, not 5; resume it with --seed 4/);
    await expect(runExperiment(net, { ...common, epochs: 2, dir: broken, resume: true })).rejects.toThrow(ResumeMismatchError);
    await expect(runExperiment(net, { ...common, quick: false, dir: broken, resume: true })).rejects.toThrow(/was a quick run \(--quick\); resume it with --quick/);

    const lines: string[] = [];
    const resumed = await runExperiment(net, { ...common, dir: broken, resume: true, log: (l) => lines.push(l) }) as RunResult;
    expect(lines.some((l) => /^test-net: resuming at step (8|12) of epoch 2 of 3/.test(l))).toBe(true);
    const params = (dir: string) => decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'last.ckpt'))), dir).params;
    expect(Array.from(params(broken))).toEqual(Array.from(params(join(out, 'unbroken'))));
    expect(resumed.test).toEqual(unbroken.test);
    expect(resumed.history.epoch).toEqual([0, 1, 2]);
    expect(resumed.history.history.loss).toEqual(unbroken.history.history.loss);
    expect(resumed.history.history.val_loss).toEqual(unbroken.history.history.val_loss);
  });

  it('without a validation set every training image trains, no best checkpoint is kept, and the last epoch is compared', async () => {
    const net: NeuralExperiment = {
      kind: 'neural', id: 'test-noval', notebook: 'test', title: 'no validation', reported: null, reportedText: '—',
      train: {
        layers: () => [flatten(), dense(10, 'softmax')], inputShape: [28, 28],
        optimizer: () => sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy', batchSize: 32, epochs: 2,
        preprocessing: { kind: 'scale', scale: 1 / 255 }, preprocessingText: 'x/255', validation: { kind: 'split', fraction: 0 },
      },
      quick: { train: 600, test: 200, epochs: 2, floor: 0 },
    };
    const dir = mkdtempSync(join(tmpdir(), 'shaderprop-noval-'));
    const result = await runExperiment(net, { runtime: rt, mnist, quick: true, dir }) as RunResult;
    expect(result).toMatchObject({ trainSamples: 600, validationSamples: 0, validation: 'none' });
    expect(result.best).toBeUndefined();
    expect(result.history.history.val_loss).toBeUndefined();
    expect(result.files).toEqual({ lastCheckpoint: 'last.ckpt' });
    expect(existsSync(join(dir, 'best.ckpt'))).toBe(false);
  });
});

/**
 * The command line as a user meets it: list, errors, and a quick run with its
 * report, best-model checkpoint and resume.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXPERIMENTS, getExperiment, type NeuralExperiment } from '../../src/experiments/registry.js';
import { createRuntime } from '../../src/gpu/device.js';
import { loadMnist } from '../../src/data/mnist.js';
import { Dataset } from '../../src/data/dataset.js';
import { sequential } from '../../src/model/sequential.js';
import { mnistDir } from '../helpers.js';
import type { RunReport, RunResult } from '../../src/experiments/result.js';
import { runCli } from './run-cli.js';
import { writeFakeMnist } from '../data/fixtures.js';

const out = mkdtempSync(join(tmpdir(), 'shaderprop-cli-'));

describe('shaderprop list', () => {
  it('lists every id, with the notebook numbers, as text and as JSON', async () => {
    const text = await runCli(['list']);
    expect(text.code).toBe(0);
    for (const e of EXPERIMENTS) expect(text.stdout).toContain(e.id);
    expect(text.stdout).toMatch(/s002-ii\s+0\.9529\s+MLP \[32\] sigmoid/);
    expect(text.stdout).toMatch(/s003-gaussian\s+0\.9569\s+Gaussian generative classifier.*\[classic\]/);
    const json = await runCli(['list', '--json']);
    const rows = JSON.parse(json.stdout) as { id: string; kind: string; reported: number | null }[];
    expect(rows.map((r) => r.id)).toEqual(EXPERIMENTS.map((e) => e.id));
    expect(rows.find((r) => r.id === 's001-softmax')).toMatchObject({ kind: 'neural', reported: 0.92 });
    expect(rows.find((r) => r.id === 's003-1nn')).toMatchObject({ kind: 'classic', reported: 0.954 });
  });
});

describe('shaderprop run: bad input', () => {
  it('names an unknown id and exits 2', async () => {
    const r = await runCli(['run', 's009-nothing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown experiment 's009-nothing'/);
  });

  it('bench: one JSON line per id and batch, in registry order, with samples/s in a sane range', async () => {
    const r = await runCli(['bench', 's001-softmax', 's000-binary', '--batch', '16,32', '--seconds', '0.3', '--rounds', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.map((j) => [j.id, j.batch])).toEqual([['s000-binary', 16], ['s000-binary', 32], ['s001-softmax', 16], ['s001-softmax', 32]]);
    for (const j of r.json) {
      expect(j.adapter).toBeTypeOf('string');
      // A 784-10 model trains faster than 100 samples/s even on a software adapter, and slower than 10 million.
      expect(j.train_samples_per_s as number).toBeGreaterThan(100);
      expect(j.train_samples_per_s as number).toBeLessThan(1e7);
      expect(j.infer_samples_per_s as number).toBeGreaterThan(100);
      expect(j).not.toHaveProperty('tfjs');
      expect(j.bounds_checks).toBe(true);
      // Two rounds, the median reported; the first round's start-up, step size and kernel choices.
      expect(j.rounds).toBe(2);
      const rounds = j.train_rounds as number[];
      expect(rounds).toHaveLength(2);
      expect(j.train_samples_per_s as number).toBeCloseTo((rounds[0]! + rounds[1]!) / 2, -1);
      expect(j.startup_seconds as number).toBeGreaterThanOrEqual(0);
      // gather, forward, loss, weight and bias gradients, optimizer, step: at least 6, and no more than a few dozen
      expect(j.dispatches_per_step as number).toBeGreaterThanOrEqual(6);
      expect(j.dispatches_per_step as number).toBeLessThan(40);
      const variants = j.variants as { family: string; variant: string; how: string }[];
      expect(variants.map((v) => v.family)).toContain('dense.forward');
      for (const v of variants) expect(['measured', 'cached', 'fixed', 'only']).toContain(v.how);
    }
    expect(r.stderr).toMatch(/s001-softmax batch 32: train \d+/);
  });

  it('bench --no-bounds-checks: the same run on shaders compiled without them, and says so', async () => {
    const r = await runCli(['bench', 's001-softmax', '--batch', '32', '--seconds', '0.2', '--rounds', '1', '--json', '--no-bounds-checks']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.map((j) => [j.id, j.bounds_checks])).toEqual([['s001-softmax', false]]);
    expect(r.json[0]!.train_samples_per_s as number).toBeGreaterThan(100);
    expect(r.stderr).toMatch(/adapter: .*, no bounds checks;/);
  });

  it('bench --tfjs: the same model in TensorFlow.js beside it, and why a backend cannot train it', async (ctx) => {
    // A checkout with its development dependencies has TensorFlow.js's wasm backend; a benchmark kit may not.
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    } catch {
      ctx.skip();
    }
    const r = await runCli(['bench', 's001-softmax', 's001-cnn', '--batch', '8', '--seconds', '0.2', '--rounds', '1', '--tfjs', 'wasm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [softmax, cnn] = r.json as { tfjs: Record<string, { train_samples_per_s: number | null; infer_samples_per_s: number | null; reason?: string }> }[];
    expect(softmax!.tfjs.wasm!.train_samples_per_s).toBeGreaterThan(100);
    expect(softmax!.tfjs.wasm!.infer_samples_per_s).toBeGreaterThan(100);
    // TensorFlow.js's wasm backend has no gradient kernel for conv filters.
    expect(cnn!.tfjs.wasm!.train_samples_per_s).toBeNull();
    expect(cnn!.tfjs.wasm!.reason).toMatch(/Conv2DBackpropFilter/);
    expect(cnn!.tfjs.wasm!.infer_samples_per_s).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/tfjs-wasm: train [\d,.]+ \(shaderprop [\d.]+×\)/);
  });

  it('bench: refuses ids that are not one neural model, and unknown TensorFlow.js backends', async () => {
    const classic = await runCli(['bench', 's003-1nn']);
    expect(classic.code).toBe(2);
    expect(classic.stderr).toMatch(/'s003-1nn' is a classic baseline, not one model/);
    const backend = await runCli(['bench', 's001-softmax', '--tfjs', 'webgl']);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/Unknown TensorFlow.js backend 'webgl'/);
  });

  it('refuses a bad --epochs', async () => {
    const r = await runCli(['run', 's001-softmax', '--epochs', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--epochs.*positive integer/);
  });

  it('records an id that fails, goes on with the others, and exits 1', async () => {
    // 300 training images: too few for 1-NN's balanced subset of 100 per class; enough for a softmax.
    const data = join(out, 'tiny-mnist');
    mkdirSync(data);
    writeFakeMnist(data, { trainCount: 300, testCount: 60, rows: 28, cols: 28 });
    const dir = join(out, 'failing');
    const r = await runCli(['run', 's003-1nn', 's001-softmax', '--quick', '--epochs', '1', '--data', data, '--out', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[quick] s003-1nn: --epochs applies to the neural models only; a classic baseline runs whole, with its own settings.');
    expect(r.stdout).toMatch(/\[quick\] s003-1nn: FAILED — balancedSubset: class \d has only \d+ examples, fewer than perClass = 100/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report.skipped.map((s) => s.id)).toEqual(['s003-1nn']);
    expect(report.results.map((x) => x.id)).toEqual(['s001-softmax']);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toMatch(/Could not run[\s\S]*s003-1nn/);
  });

  it('names a data folder without MNIST', async () => {
    const r = await runCli(['run', 's001-softmax', '--quick', '--data', out, '--out', join(out, 'nodata')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shaderprop: .*train-images-idx3-ubyte/m);
    // The message alone: no stack trace of the CLI's internals.
    expect(r.stderr).not.toMatch(/^\s+at .*shaderprop\.ts/m);
  });
});

describe.skipIf(!mnistDir())('shaderprop run --quick s001-softmax', () => {
  it('trains, writes the report and checkpoints, and the best model reloads to its validation loss', async () => {
    const dir = join(out, 'quick');
    const r = await runCli(['run', 's001-softmax', '--quick', '--json', '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    // stdout holds only the JSON line; every progress line says quick mode.
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    for (const line of r.stderr.split('\n').filter((l) => l && !/warning|vulkan|adapter \(|InitializeImpl|^\s+at /i.test(l))) {
      expect(line).toMatch(/^\[quick\] /);
    }
    const [line] = r.json;
    expect(line).toMatchObject({ id: 's001-softmax', quick: true, reported: 0.92, epochs: 2, train_samples: 4000, seed: 1 });
    expect(line!.test_accuracy as number).toBeGreaterThan(0.7);
    expect(line!.adapter).toEqual(expect.any(String));
    expect(readdirSync(join(dir, 's001-softmax')).sort()).toEqual(expect.arrayContaining(['best.ckpt', 'last.ckpt']));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
    const result = report.results[0] as RunResult;
    expect(result.history.epoch).toEqual([0, 1]);
    expect(result.test.accuracy).toBe(line!.test_accuracy);
    // s001-softmax validates on the test set, so the best checkpoint, loaded into a fresh model here,
    // must give its recorded validation loss on the first 1000 test images.
    expect(result.best).toBeDefined();
    const rt = await createRuntime();
    try {
      const spec = (getExperiment('s001-softmax') as NeuralExperiment).train;
      const model = sequential(spec.layers(), { inputShape: spec.inputShape, runtime: rt });
      model.compile({ optimizer: spec.optimizer(), loss: spec.loss });
      const header = await model.load(join(dir, 's001-softmax', 'best.ckpt'));
      expect(header.meta).toMatchObject({ id: 's001-softmax', epoch: result.best!.epoch });
      const mnist = await loadMnist({ dir: mnistDir()!, subset: { train: 1, test: 1000 } });
      const test = Dataset.fromImages(rt, mnist.test, { preprocessing: spec.preprocessing });
      const reloaded = await model.evaluate(test);
      expect(reloaded.loss).toBeCloseTo(result.best!.val_loss, 5);
      expect(reloaded.loss).toBeCloseTo(result.best!.test.loss, 5);
      model.dispose();
      test.dispose();
    } finally {
      rt.destroy();
    }
    expect(result.samples!.first).toHaveLength(25);
    expect(result.samples!.mislabelled.every((s) => s.label !== s.predicted)).toBe(true);
    expect(result.classDistribution.test.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(existsSync(join(dir, 'index.html'))).toBe(true);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\| s001-softmax \| 0\.92 test \(0\.9104 train acc\) \| 0\.\d{4} \| [-+±]\d+\.\d\d \|/);
  });

  it('--resume continues from the last checkpoint and ends where an unbroken run ends', async () => {
    const broken = join(out, 'resume');
    const first = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--json', '--out', broken]);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await runCli(['run', 's001-softmax', '--quick', '--epochs', '3', '--json', '--resume', '--out', broken]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after epoch 1 of 3/);
    const unbroken = await runCli(['run', 's001-softmax', '--quick', '--epochs', '3', '--json', '--out', join(out, 'unbroken')]);
    expect(unbroken.code, unbroken.stderr).toBe(0);
    expect(resumed.json[0]!.test_loss).toBe(unbroken.json[0]!.test_loss);
    expect(resumed.json[0]!.test_accuracy).toBe(unbroken.json[0]!.test_accuracy);
    const history = (JSON.parse(readFileSync(join(broken, 'report.json'), 'utf8')) as RunReport).results[0] as RunResult;
    expect(history.history.epoch).toEqual([0, 1, 2]);
  });
});

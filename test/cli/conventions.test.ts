/**
 * The command line's conventions: --version, usage errors as one line with
 * exit status 2, "did you mean", run's --lr/--batch-size/--train-images/
 * --test-images (and their place in the report), and no Vulkan loader noise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunReport, RunResult } from '../../src/experiments/result.js';
import { mnistDir } from '../helpers.js';
import { root, runCli } from './run-cli.js';

const out = mkdtempSync(join(tmpdir(), 'shaderprop-conventions-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

describe('shaderprop conventions', () => {
  it('--version and -V print the version and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });

  it.each([
    [['run', 's001-softmax', '--epochs', '0'], /^shaderprop run: option '--epochs <n>' argument '0' is invalid: must be a positive integer\. See `shaderprop run --help`\.$/],
    [['run', 's001-softmax', '--lr', '-1'], /^shaderprop run: option '--lr <rate>' argument '-1' is invalid: must be a positive number\./],
    [['run', 's001-softmax', '--batch-size', 'x'], /^shaderprop run: option '--batch-size <n>' argument 'x' is invalid/],
    [['run', 's001-softmax', '--bogus'], /^shaderprop run: unknown option '--bogus'\. See `shaderprop run --help`\.$/],
    [['run'], /^shaderprop run: missing required argument 'ids'\. See `shaderprop run --help`\.$/],
    [['frob'], /^shaderprop: unknown command 'frob'\. See `shaderprop --help`\.$/],
    [[], /^shaderprop: no command given: use one of list, run, train, bench\. See `shaderprop --help`\.$/],
    [['run', 's001-softmax', '--export', 'onnx'], /^shaderprop: --export: unknown format 'onnx'; use safetensors, tfjs \(comma-separated\)\.$/],
    [['run', 's009-nothing'], /^shaderprop: Unknown experiment 's009-nothing'\. Run `shaderprop list` to see every id with its description\.$/],
  ])('a usage error (%j) is one line that says what to do, with exit status 2', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
  });

  it('suggests the id a typo was meant to be, instead of listing every id', async () => {
    const r = await runCli(['run', 's001-sofmax']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd()).toBe(
      "shaderprop: Unknown experiment 's001-sofmax'. Did you mean s001-softmax? Run `shaderprop list` to see every id with its description.",
    );
    const bench = await runCli(['bench', 's001-softmx']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/Did you mean s001-softmax\?/);
  });

  it.skipIf(!mnistDir())('run --lr --batch-size --train-images --test-images: used, recorded in the report, and no Vulkan loader warnings', async () => {
    const dir = join(out, 'settings');
    const r = await runCli(['run', 's001-softmax', '--epochs', '1', '--lr', '0.05', '--batch-size', '16', '--train-images', '240', '--test-images', '60', '--out', dir, '--json', '--export', 'safetensors,tfjs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/MNIST: 240 train, 60 test images/);
    // Dawn probing for a hardware adapter on a machine without a Vulkan driver makes the loader print these.
    expect(r.stderr).not.toMatch(/vkCreateInstance|Found no drivers|VK_ERROR_INCOMPATIBLE_DRIVER/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report.settings).toEqual({ learningRate: 0.05, batchSize: 16, trainImages: 240, testImages: 60 });
    expect(report.command).toContain('--lr 0.05 --batch-size 16 --train-images 240 --test-images 60');
    const result = report.results[0] as RunResult;
    expect(result.batchSize).toBe(16);
    expect(result.optimizer).toMatch(/lr=0\.05\b/);
    expect(result.trainSamples).toBe(240);
    expect(result.testSamples).toBe(60);
    // 240 images in batches of 16: 15 steps in the one epoch.
    expect(r.json[0]).toMatchObject({ id: 's001-softmax', epochs: 1, train_samples: 240 });

    // --export: the trained model beside its checkpoints, in both formats.
    expect(r.stderr).toContain(`s001-softmax: exported ${join(dir, 's001-softmax', 'model.safetensors')}`);
    const safetensors = readFileSync(join(dir, 's001-softmax', 'model.safetensors'));
    const header = JSON.parse(safetensors.subarray(8, 8 + Number(safetensors.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape?: number[] }>;
    expect(Object.keys(header).sort()).toEqual(['__metadata__', 'dense/bias', 'dense/kernel']);
    expect(header['dense/kernel']!.shape).toEqual([784, 10]);
    const modelJson = JSON.parse(readFileSync(join(dir, 's001-softmax', 'tfjs', 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
    expect(modelJson.format).toBe('layers-model');
    expect(readFileSync(join(dir, 's001-softmax', 'tfjs', modelJson.weightsManifest[0]!.paths[0]!)).length).toBe(4 * (784 * 10 + 10));
  });
});

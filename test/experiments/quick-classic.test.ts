/**
 * The four classic baselines in --quick mode, through the command line: each
 * finishes, writes its report section and pictures, reaches the accuracy a
 * working method reaches at quick size, and reports what its method has of its
 * own (per-step curves that the line search made fall, the class means, the
 * subset and full-set evaluations of 1-NN), checked against the data itself.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getExperiment, selectExperiments, type ClassicExperiment } from '../../src/experiments/registry.js';
import type { ClassicResult, RunReport } from '../../src/experiments/result.js';
import { loadMnist } from '../../src/data/mnist.js';
import { mnistDir } from '../helpers.js';
import { runCli, type CliResult } from '../cli/run-cli.js';

const classic = selectExperiments(['s001-logreg-gd', 's003-*']).filter((e): e is ClassicExperiment => e.kind === 'classic');

describe.skipIf(!mnistDir())('shaderprop run --quick: the classic baselines', () => {
  const out = mkdtempSync(join(tmpdir(), 'shaderprop-quick-classic-'));
  let cli: CliResult;
  let report: RunReport;
  const result = (id: string) => report.results.find((r) => r.id === id) as ClassicResult;

  beforeAll(async () => {
    cli = await runCli(['run', ...classic.map((e) => e.id), '--quick', '--json', '--out', out]);
    if (cli.code !== 0) throw new Error(`shaderprop exited with ${cli.code}:\n${cli.stderr.slice(-3000)}`);
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  }, 600_000);

  it('runs all four and writes one report', () => {
    expect(classic.map((e) => e.id)).toEqual(['s001-logreg-gd', 's003-gaussian', 's003-1nn', 's003-ova']);
    expect(report.results.map((r) => r.id)).toEqual(classic.map((e) => e.id));
    expect(report.skipped).toEqual([]);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    for (const e of classic) expect(html).toContain(`id="result-${e.id}"`);
  });

  for (const e of classic) {
    it(`${e.id} reaches ${e.quick.floor} test accuracy at quick size`, () => {
      const line = cli.json.find((l) => l.id === e.id);
      expect(line).toMatchObject({ id: e.id, kind: 'classic', quick: true, reported: e.reported });
      expect(line!.test_accuracy as number).toBeGreaterThanOrEqual(e.quick.floor);
      const r = result(e.id);
      expect(r.test.errors).toBe(Math.round((1 - r.test.accuracy) * r.testSamples));
      // The confusion matrix holds every test image once, its diagonal the right ones.
      const total = r.confusion.flat().reduce((a, b) => a + b, 0);
      const right = r.confusion.reduce((a, row, i) => a + row[i]!, 0);
      expect(total).toBe(r.testSamples);
      expect(right).toBe(r.testSamples - r.test.errors);
      for (const name of ['confusion', 'class-distribution', 'first-25']) expect(existsSync(join(out, e.id, `${name}.svg`)), name).toBe(true);
    });
  }

  for (const id of ['s001-logreg-gd', 's003-ova']) {
    it(`${id}: every line-search step lowers the training loss, and the curves are in the report`, () => {
      const r = result(id);
      const e = getExperiment(id) as ClassicExperiment;
      const steps = r.steps!;
      expect(steps.step).toEqual(Array.from({ length: e.quick.steps! }, (_, i) => i + 1));
      // From w = 0 the loss is log 2 per output; the first accepted step lies below it (Armijo).
      expect(steps.trainLoss[0]!).toBeLessThan(Math.log(2));
      for (let i = 1; i < steps.trainLoss.length; i++) expect(steps.trainLoss[i]!, `step ${i + 1}`).toBeLessThan(steps.trainLoss[i - 1]!);
      for (const trials of steps.trials) expect(trials).toBeGreaterThanOrEqual(1);
      // The last step's test numbers are the result's.
      expect(r.test.loss).toBeCloseTo(steps.testLoss[steps.testLoss.length - 1]!, 10);
      // The per-step error is the GPU's count over the test set, as an f32 fraction; the result counts the predictions.
      expect(Math.round(steps.testError[steps.testError.length - 1]! * r.testSamples)).toBe(r.test.errors);
      expect(existsSync(join(out, id, 'steps.svg'))).toBe(true);
    });
  }

  it('s001-logreg-gd is a binary task: two classes, named', () => {
    const r = result('s001-logreg-gd');
    expect(r.classNames).toEqual(['not 5', '5']);
    expect(r.confusion).toHaveLength(2);
  });

  it('s003-gaussian: the mean images are the class means of the training images', async () => {
    const r = result('s003-gaussian');
    const e = getExperiment('s003-gaussian') as ClassicExperiment;
    const { train } = await loadMnist({ dir: mnistDir()!, subset: { train: e.quick.train, test: 1 } });
    const sums = Array.from({ length: 10 }, () => new Float64Array(784));
    const counts = new Array<number>(10).fill(0);
    for (let n = 0; n < train.count; n++) {
      const label = train.labels[n]!;
      counts[label]!++;
      for (let f = 0; f < 784; f++) sums[label]![f]! += train.images[n * 784 + f]!;
    }
    expect(r.means).toHaveLength(10);
    for (let k = 0; k < 10; k++) {
      const expected = Array.from(sums[k]!, (s) => s / counts[k]!);
      for (let f = 0; f < 784; f++) expect(r.means![k]![f]!).toBeCloseTo(expected[f]!, 9);
    }
    expect(existsSync(join(out, 's003-gaussian', 'means.svg'))).toBe(true);
  });

  it('s003-1nn: the balanced subset is the compared number, the larger set is reported beside it', () => {
    const r = result('s003-1nn');
    const e = getExperiment('s003-1nn') as ClassicExperiment;
    const per = e.quick.perClass!;
    expect(r.trainSamples).toBe(per.train * 10);
    expect(r.testSamples).toBe(per.test * 10);
    expect(r.classDistribution.test).toEqual(new Array(10).fill(per.test));
    expect(r.classDistribution.train).toEqual(new Array(10).fill(per.train));
    const [subset, full] = r.evaluations!;
    expect(subset).toMatchObject({ trainSamples: per.train * 10, testSamples: per.test * 10, errors: r.test.errors });
    expect(full).toMatchObject({ trainSamples: e.quick.train, testSamples: e.quick.test });
    expect(full!.accuracy).toBeGreaterThanOrEqual(e.quick.floor);
    expect(full!.errors).toBe(Math.round((1 - full!.accuracy) * e.quick.test));
  });

  it('s003-1nn with --seeds: each seed draws its own subset; the larger set, the same for every seed, runs with the first seed only', async () => {
    for (const jobs of ['1', '2']) {
      const dir = join(out, `1nn-seeds-jobs${jobs}`);
      const r = await runCli(['run', 's003-1nn', '--quick', '--seeds', '2', '--jobs', jobs, '--json', '--out', dir]);
      expect(r.code, r.stderr).toBe(0);
      const spread = (JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport).spreads![0]!;
      const [first, second] = spread.results as ClassicResult[];
      expect(first!.seed).toBe(1);
      expect(second!.seed).toBe(2);
      expect(first!.evaluations!.map((x) => x.name)).toEqual([expect.stringMatching(/^balanced subset/), expect.stringMatching(/^the first \d+ train/)]);
      expect({ ...first!.evaluations![1]!, seconds: 0 }).toEqual({ ...result('s003-1nn').evaluations![1]!, seconds: 0 });
      expect(second!.evaluations!.map((x) => x.name)).toEqual([expect.stringMatching(/^balanced subset/)]);
      expect(r.stderr).toMatch(/s003-1nn: the run on all 4000 train × 1000 test images is the same for every seed; left out here \(a --seeds run gives it with its first seed\)/);
      // The compared number is each seed's own subset: seed 1 draws the subset of the run above.
      expect(first!.test).toEqual(result('s003-1nn').test);
      expect(spread.accuracies).toEqual([first!.test.accuracy, second!.test.accuracy]);
    }
  }, 600_000);

  it('s003-1nn with --no-seed-independent: only the subsets, the same ones as with the full run, in one process or in parts', async () => {
    for (const jobs of ['1', '2']) {
      const dir = join(out, `1nn-subsets-only-jobs${jobs}`);
      const r = await runCli(['run', 's003-1nn', '--quick', '--seeds', '2', '--jobs', jobs, '--no-seed-independent', '--json', '--out', dir]);
      expect(r.code, r.stderr).toBe(0);
      const spread = (JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport).spreads![0]!;
      const results = spread.results as ClassicResult[];
      expect(results.map((x) => x.seed)).toEqual([1, 2]);
      for (const x of results) expect(x.evaluations!.map((e) => e.name)).toEqual([expect.stringMatching(/^balanced subset/)]);
      expect(results[0]!.test).toEqual(result('s003-1nn').test);
      expect(r.stderr).not.toMatch(/s003-1nn: all of it/);
      expect(r.stderr).toMatch(/all 4000 train × 1000 test images is the same for every seed; left out here/);
    }
  }, 600_000);
});

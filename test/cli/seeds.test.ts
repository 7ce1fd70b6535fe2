/**
 * `run --seeds N`: every seed's run in its own folder, the spread in
 * report.json, the summary and the page, and a resume that keeps the seeds
 * that finished. On small made-up MNIST files, so each command takes seconds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport, RunResult } from '../../src/experiments/result.js';
import { writeFakeMnist } from '../data/fixtures.js';
import { runCli } from './run-cli.js';

let out: string;
let data: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'shaderprop-seeds-'));
  data = join(out, 'mnist');
  mkdirSync(data);
  writeFakeMnist(data, { trainCount: 600, testCount: 60, rows: 28, cols: 28 });
});

const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;

/** Mean and sample standard deviation, computed here rather than taken from the code under test. */
function stats(values: number[]): { mean: number; sd: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  return { mean, sd: values.length > 1 ? Math.sqrt(squares / (values.length - 1)) : 0 };
}

describe('run --seeds', () => {
  it('trains each seed in its own folder and reports their mean, standard deviation and range; a resume keeps finished seeds', async () => {
    const dir = join(out, 'two');
    const r = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--seeds', '2', '--json', '--data', data, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    const [seed1, seed2, spreadLine] = r.json;
    expect(seed1).toMatchObject({ id: 's001-softmax', seed: 1 });
    expect(seed2).toMatchObject({ id: 's001-softmax', seed: 2 });
    for (const s of [1, 2]) expect(readdirSync(join(dir, 's001-softmax', `seed-${s}`))).toEqual(expect.arrayContaining(['last.ckpt', 'best.ckpt']));

    const rep = report(dir);
    expect(rep.spreads).toHaveLength(1);
    const spread = rep.spreads![0]!;
    const accuracies = spread.results.map((x) => x.test.accuracy);
    expect(spread.results.map((x) => x.seed)).toEqual([1, 2]);
    expect(accuracies).toEqual([seed1!.test_accuracy, seed2!.test_accuracy]);
    expect(spread.accuracies).toEqual(accuracies);
    // Two seeds train differently (other initial weights and order of batches).
    expect((spread.results[0] as RunResult).history.history.loss).not.toEqual((spread.results[1] as RunResult).history.history.loss);
    const { mean, sd } = stats(accuracies);
    expect(spread.mean).toBeCloseTo(mean, 12);
    expect(spread.sd).toBeCloseTo(sd, 12);
    expect(spread.sd).toBeCloseTo(Math.abs(accuracies[0]! - accuracies[1]!) / Math.SQRT2, 12);
    expect([spread.min, spread.max]).toEqual([Math.min(...accuracies), Math.max(...accuracies)]);
    // The notebook printed 0.92: inside when a seed's accuracy lies in 0.915–0.925.
    const inside = spread.max >= 0.915 - 1e-12 && spread.min <= 0.925 + 1e-12;
    expect(spread.notebookInRange).toBe(inside);
    expect(spreadLine).toMatchObject({ id: 's001-softmax', kind: 'seeds', seeds: [1, 2], test_accuracies: accuracies, reported: 0.92 });
    const [lo, hi] = spreadLine!.reported_interval as [number, number];
    expect(lo).toBeCloseTo(0.915, 12);
    expect(hi).toBeCloseTo(0.925, 12);
    expect(r.stderr).toContain(`the notebook's 0.92 (0.915–0.925 as printed) is ${inside ? 'inside' : 'outside'} the seeds' range`);
    // results holds the first seed; its pictures and the band are in the id's folder.
    expect(rep.results.map((x) => x.seed)).toEqual([1]);
    expect(rep.results[0]!.test.accuracy).toBe(accuracies[0]);
    expect(existsSync(join(dir, 's001-softmax', 'seeds.svg'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 's001-softmax', 'seeds.json'), 'utf8'))).toEqual(spread);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('Seed spread');
    expect(html).toContain(`${spread.mean.toFixed(4)} ± ${spread.sd.toFixed(4)}`);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain(
      `| s001-softmax | 0.92 test (0.9104 train acc) | ${spread.mean.toFixed(4)} ± ${spread.sd.toFixed(4)} | 2: ${spread.min.toFixed(4)}–${spread.max.toFixed(4)} | ${spread.notebookInRange ? 'yes' : 'no'} |`,
    );
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ seeds: 2, finished: true });

    // More seeds on resume: seeds 1 and 2 are kept as they were, seed 3 trains in its own folder.
    const more = await runCli(['run', 's001-softmax', '--resume', '--seeds', '3', '--json', '--data', data, '--out', dir]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/s001-softmax seed 1: finished in the run resumed; its result is kept/);
    expect(more.stderr).toMatch(/s001-softmax seed 2: finished in the run resumed; its result is kept/);
    expect(existsSync(join(dir, 's001-softmax', 'seed-3', 'last.ckpt'))).toBe(true);
    const three = report(dir).spreads![0]!;
    expect(three.seeds).toEqual([1, 2, 3]);
    expect(three.accuracies.slice(0, 2)).toEqual(accuracies);
    const again = stats(three.accuracies);
    expect(three.mean).toBeCloseTo(again.mean, 12);
    expect(three.sd).toBeCloseTo(again.sd, 12);
  });

  it('a resume re-reads the spreads it keeps: a report.json of an earlier version gets the notebook\'s interval', async () => {
    const dir = join(out, 'kept');
    const first = await runCli(['run', 's001-softmax', 's002-ii', '--quick', '--epochs', '1', '--seeds', '2', '--data', data, '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    // As an earlier version wrote it: no interval, and 0.9529 read as an exact number (here, made to say the opposite).
    const old = report(dir);
    const kept = old.spreads!.find((s) => s.id === 's002-ii')!;
    const stale = { ...kept, notebookInRange: !kept.notebookInRange } as Partial<typeof kept>;
    delete stale.reportedInterval;
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...old, spreads: old.spreads!.map((s) => (s.id === 's002-ii' ? stale : s)) }));

    const again = await runCli(['run', 's001-softmax', '--resume', '--data', data, '--out', dir]);
    expect(again.code, again.stderr).toBe(0);
    const now = report(dir).spreads!.find((s) => s.id === 's002-ii')!;
    expect(now.accuracies).toEqual(kept.accuracies);
    const [lo, hi] = now.reportedInterval!;
    expect(lo).toBeCloseTo(0.95285, 12);
    expect(hi).toBeCloseTo(0.95295, 12);
    expect(now.notebookInRange).toBe(now.max >= lo && now.min <= hi);
    expect(now.notebookInRange).toBe(kept.notebookInRange);
  });

  it('seed k of a spread is the run of --seed k', async () => {
    const alone = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--seed', '2', '--json', '--data', data, '--out', join(out, 'seed2')]);
    expect(alone.code, alone.stderr).toBe(0);
    const spread = report(join(out, 'two')).spreads![0]!;
    expect(spread.results[1]!.test).toEqual({ loss: alone.json[0]!.test_loss, accuracy: alone.json[0]!.test_accuracy });
  });
});

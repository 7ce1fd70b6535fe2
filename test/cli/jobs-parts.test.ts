/**
 * `run --jobs N`: a sweep's cells as parts merged into one sweep, and a part
 * that fails recorded under "Could not run". On small made-up MNIST files, so
 * each command takes seconds.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport, SweepResult } from '../../src/experiments/result.js';
import { writeFakeMnist } from '../data/fixtures.js';
import { runCli } from './run-cli.js';

let out: string;
let data: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'shaderprop-jobs-'));
  data = join(out, 'mnist');
  mkdirSync(data);
  writeFakeMnist(data, { trainCount: 600, testCount: 60, rows: 28, cols: 28 });
});

const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;

/** Every lock file under `dir`. */
function locks(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('shaderprop.lock'));
}

describe('run --jobs: parts', () => {
  it('runs a sweep\'s cells as parts and merges them into one sweep with its best cell', async () => {
    const cells = ['alpha=0.00003', 'alpha=0.0001'];
    const dir = join(out, 'sweep');
    const r = await runCli(['run', 's003-l2', '--quick', '--epochs', '1', '--jobs', '2', '--cell', ...cells, '--data', data, '--out', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const sweep = report(dir).results[0] as SweepResult;
    expect(sweep.cells.map((c) => c.name)).toEqual(cells);
    // The grid's third cell did not run: every account of the result says so.
    expect(sweep.cellsNotRun).toEqual(['alpha=0.00007']);
    expect(r.json.at(-1)).toMatchObject({ id: 's003-l2', cells: 2, cells_not_run: ['alpha=0.00007'] });
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('| s003-l2 (2 of 3 cells) |');
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toMatch(/sweep of 2 of 3; best[\s\S]*Not run \(<code>--cell<\/code> named the others\): alpha=0\.00007\./);
    const finalVal = (name: string) => sweep.cells.find((c) => c.name === name)!.result.history.history.val_accuracy!.at(-1)!;
    const best = finalVal(cells[1]!) > finalVal(cells[0]!) ? cells[1]! : cells[0]!;
    expect(sweep.best).toBe(best);
    expect(sweep.test).toEqual(sweep.cells.find((c) => c.name === best)!.result.test);
    for (const [i, cell] of cells.entries()) {
      const part = report(join(dir, 'parts', `s003-l2.seed-1.${['alpha-0.00003', 'alpha-0.0001'][i]}`)).results[0] as SweepResult;
      expect(part.cells.map((c) => c.name)).toEqual([cell]);
      expect(part.cellsNotRun).toEqual(['alpha=0.00003', 'alpha=0.00007', 'alpha=0.0001'].filter((c) => c !== cell));
      expect(part.cells[0]!.result.test).toEqual(sweep.cells[i]!.result.test);
    }
  });

  it('records a part that fails under "Could not run" and goes on with the others', async () => {
    // 600 training images: too few for 1-NN's balanced subset of 100 per class.
    const dir = join(out, 'failing');
    const r = await runCli(['run', 's003-1nn', 's001-softmax', '--quick', '--epochs', '1', '--jobs', '2', '--data', data, '--out', dir]);
    expect(r.code).toBe(1);
    const merged = report(dir);
    expect(merged.results.map((x) => x.id)).toEqual(['s001-softmax']);
    expect(merged.skipped).toEqual([{ id: 's003-1nn', reason: expect.stringMatching(/balancedSubset: class \d has only \d+ examples/) }]);
    expect(readFileSync(join(dir, 'index.html'), 'utf8')).toMatch(/Could not run[\s\S]*s003-1nn/);
    expect(locks(dir)).toEqual([]);
  });

});

/**
 * `run --jobs N`: ids and seeds in child processes, each in its own folder
 * under parts/, merged into one report; Ctrl-C passed on to the parts, and
 * --resume. (Sweep cells as parts and a failing part: jobs-parts.test.ts.) On
 * small made-up MNIST files, so each command takes seconds.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/experiments/result.js';
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
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { finished: boolean; jobs?: number };

/** Every lock file under `dir`. */
function locks(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('shaderprop.lock'));
}

describe('run --jobs', () => {
  it('runs two ids in two processes, each in its own folder, and merges what they found', async () => {
    const dir = join(out, 'two');
    const r = await runCli(['run', 's001-softmax', 's002-ii', '--quick', '--epochs', '1', '--jobs', '2', '--json', '--data', data, '--out', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'parts')).sort()).toEqual(['s001-softmax.seed-1', 's002-ii.seed-1']);
    const merged = report(dir);
    expect(merged.results.map((x) => x.id)).toEqual(['s001-softmax', 's002-ii']);
    expect(merged.skipped).toEqual([]);
    for (const result of merged.results) {
      const part = join(dir, 'parts', `${result.id}.seed-1`);
      expect(manifest(part)).toMatchObject({ finished: true, ids: [result.id] });
      expect(report(part).results[0]).toEqual(result);
      expect(existsSync(join(part, result.id, 'last.ckpt'))).toBe(true);
      expect(r.json.find((l) => l.id === result.id)).toMatchObject({ test_accuracy: result.test.accuracy, seed: 1 });
    }
    expect(manifest(dir)).toMatchObject({ finished: true, jobs: 2 });
    expect(locks(dir)).toEqual([]);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/\| s001-softmax \|[\s\S]*\| s002-ii \|/);

    // The same ids in one process give the same numbers.
    const serial = await runCli(['run', 's001-softmax', 's002-ii', '--quick', '--epochs', '1', '--json', '--data', data, '--out', join(out, 'serial')]);
    expect(serial.code, serial.stderr).toBe(0);
    expect(report(join(out, 'serial')).results.map((x) => x.test)).toEqual(merged.results.map((x) => x.test));
  });

  it('Ctrl-C stops every part with its checkpoint and exits 130; --resume finishes them', async () => {
    const dir = join(out, 'stopped');
    let sent = false;
    const stopped = await runCli(['run', 's001-softmax', '--quick', '--epochs', '8', '--seeds', '2', '--jobs', '2', '--no-bounds-checks', '--data', data, '--out', dir], {}, {
      onOutput: (text, child) => {
        if (!sent && /seed \d\] \[quick\] s001-softmax epoch 2\/8/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/shaderprop: stopped by SIGINT\. Resume with:\n {2}shaderprop run s001-softmax --resume --out /);
    expect(locks(dir)).toEqual([]);
    expect(manifest(dir).finished).toBe(false);
    const parts = readdirSync(join(dir, 'parts')).sort();
    expect(parts.length).toBeGreaterThan(0);
    // Every part that started left a checkpoint in its own folder and is marked unfinished or finished, never half-written.
    for (const p of parts) expect(existsSync(join(dir, 'parts', p, 'run.json'))).toBe(true);
    expect(parts.some((p) => !manifest(join(dir, 'parts', p)).finished)).toBe(true);

    const resumed = await runCli(['run', 's001-softmax', '--resume', '--json', '--data', data, '--out', dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming (at step \d+ of epoch \d+|after epoch \d+) of 8/);
    // Not given again: the run's own settings, --no-bounds-checks with them, go to every part.
    expect(resumed.stderr).toMatch(/resuming with the run's settings: --quick --seed 1 --seeds 2 --jobs 2 --epochs 8 (--no-autotune )?--no-bounds-checks\n/);
    expect(report(dir).adapter).toMatch(/, no bounds checks$/);
    const spread = report(dir).spreads![0]!;
    expect(spread.seeds).toEqual([1, 2]);
    for (const result of spread.results) expect(result.kind === 'run' && result.history.epoch).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(manifest(dir).finished).toBe(true);
    expect(locks(dir)).toEqual([]);
  });
});

/**
 * Every neural id in --quick mode, through the command line: each must finish,
 * write its report, and reach the test accuracy a working model reaches at
 * quick size (the entry's `quick.floor`).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectExperiments } from '../../src/experiments/registry.js';
import type { RunReport } from '../../src/experiments/result.js';
import { runCli, type CliResult } from '../cli/run-cli.js';

export function quickSuite(patterns: string[]): void {
  const experiments = selectExperiments(patterns).filter((e) => e.kind !== 'classic');
  const out = mkdtempSync(join(tmpdir(), 'shaderprop-quick-'));
  let cli: CliResult;
  let report: RunReport;

  describe(`shaderprop run --quick ${patterns.join(' ')}`, () => {
    beforeAll(async () => {
      cli = await runCli(['run', ...experiments.map((e) => e.id), '--quick', '--json', '--out', out]);
      if (cli.code !== 0) throw new Error(`shaderprop exited with ${cli.code}:\n${cli.stderr.slice(-3000)}`);
      report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    }, 1_200_000);

    it('writes one report for the whole run', () => {
      expect(report.quick).toBe(true);
      expect(report.results.map((r) => r.id)).toEqual(experiments.map((e) => e.id));
      const html = readFileSync(join(out, 'index.html'), 'utf8');
      for (const e of experiments) expect(html).toContain(e.id);
    });

    for (const e of experiments) {
      it(`${e.id} reaches ${e.quick.floor} test accuracy at quick size`, () => {
        const line = cli.json.find((l) => l.id === e.id);
        expect(line, `no JSON line for ${e.id}`).toBeDefined();
        expect(line).toMatchObject({ id: e.id, quick: true, kind: e.kind === 'neural' ? 'run' : 'sweep', reported: e.reported });
        expect(line!.epochs).toBe(e.quick.epochs);
        expect(line!.test_accuracy as number).toBeGreaterThanOrEqual(e.quick.floor);
        expect(existsSync(join(out, e.id, 'report.json'))).toBe(true);
        const result = report.results.find((r) => r.id === e.id)!;
        if (result.kind === 'classic') throw new Error(`${e.id} is a classic baseline; test/experiments/quick-classic.test.ts runs those.`);
        // Training must have lowered the loss on the held-out test images, in every run; a
        // single step (the conv models' quick mode) must at least have changed the model.
        // In a sweep some cells are meant to fail (too large a learning rate): the best cell must learn.
        const runs = result.kind === 'sweep' ? result.cells.map((c) => c.result) : [result];
        const learner = result.kind === 'sweep' ? result.cells.find((c) => c.name === result.best)!.result : result;
        for (const run of runs) {
          expect(run.initial, run.title).toBeDefined();
          if (!run.diverged) expect(Number.isFinite(run.test.loss), run.title).toBe(true);
        }
        expect(learner.diverged, learner.title).toBeUndefined();
        if (e.quick.oneStep) expect(learner.test.loss, learner.title).not.toBe(learner.initial!.loss);
        else expect(learner.test.loss, learner.title).toBeLessThan(learner.initial!.loss);
        if (result.kind === 'sweep') {
          expect(result.cells).toHaveLength(e.kind === 'sweep' ? e.cells.length : 0);
          expect(result.cells.map((c) => c.name)).toContain(result.best);
        } else {
          expect(existsSync(join(out, e.id, 'last.ckpt'))).toBe(true);
          expect(result.history.epoch).toHaveLength(e.quick.epochs);
        }
      });
    }
  });
}

/** `run --export`: a finished id's model, reloaded from its checkpoint, in the export formats (a sweep: its best cell). */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTrained, parseExportFormats } from '../../demo/cli/export-run.js';
import { getExperiment, type SweepExperiment } from '../../src/experiments/registry.js';
import type { ExperimentResult } from '../../src/experiments/result.js';
import { slug } from '../../src/experiments/runner.js';
import { createRuntime, loadSafetensors, Runtime, sequential } from '../../src/index.js';

let rt: Runtime;
let dir: string;
beforeAll(async () => {
  rt = await createRuntime();
  dir = await mkdtemp(join(tmpdir(), 'shaderprop-export-run-'));
});
afterAll(async () => {
  rt?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('run --export', () => {
  it('reads the formats, and names an unknown one', () => {
    expect(parseExportFormats(undefined)).toEqual([]);
    expect(parseExportFormats('tfjs, safetensors,tfjs')).toEqual(['tfjs', 'safetensors']);
    expect(() => parseExportFormats('onnx')).toThrow("--export: unknown format 'onnx'; use safetensors, tfjs (comma-separated).");
  });

  it('exports the best cell of a sweep from its checkpoint', async () => {
    const sweep = getExperiment('s003-opt') as SweepExperiment;
    const cell = sweep.cells[4]!;
    const model = sequential(cell.train.layers(), { inputShape: cell.train.inputShape, runtime: rt, name: sweep.id, seed: 7 });
    await model.save(join(dir, sweep.id, slug(cell.name), 'last.ckpt'));
    const weights = await model.getWeights();
    model.dispose();
    const result = { kind: 'sweep', id: sweep.id, best: cell.name, cells: [{ name: cell.name, result: { kind: 'run', files: { lastCheckpoint: 'last.ckpt' } } }] } as unknown as ExperimentResult;

    const written = await exportTrained(sweep, result, dir, ['safetensors', 'tfjs'], rt);
    expect(written).toEqual([join(dir, sweep.id, 'model.safetensors'), join(dir, sweep.id, 'tfjs', 'model.json'), join(dir, sweep.id, 'tfjs', 'weights.bin')]);
    expect((await readdir(join(dir, sweep.id))).sort()).toEqual(['model.safetensors', slug(cell.name), 'tfjs'].sort());
    const loaded = await loadSafetensors(written[0]!, { runtime: rt });
    const again = await loaded.getWeights();
    loaded.dispose();
    expect(again.map((w) => Buffer.from(w.values.buffer).toString('hex'))).toEqual(weights.map((w) => Buffer.from(w.values.buffer).toString('hex')));
  });

  it('exports nothing for a classic baseline', async () => {
    expect(await exportTrained(getExperiment('s003-1nn'), { kind: 'classic' } as unknown as ExperimentResult, dir, ['safetensors'], rt)).toEqual([]);
  });
});

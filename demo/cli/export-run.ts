/**
 * `run --export safetensors,tfjs`: each trained id's last model, reloaded from
 * its checkpoint and written beside it as `model.safetensors` and `tfjs/`
 * (model.json + weights.bin). A sweep exports its best cell.
 */
import { join } from 'node:path';
import type { Runtime } from '../../src/gpu/runtime.js';
import type { Experiment } from '../../src/experiments/registry.js';
import type { ExperimentResult, RunResult } from '../../src/experiments/result.js';
import { slug } from '../../src/experiments/runner.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../src/model/export.js';
import { sequential } from '../../src/model/sequential.js';

/** The formats of `--export a,b`; throws a one-line error for an unknown one. */
export function parseExportFormats(value: string | undefined): ExportFormat[] {
  if (value === undefined) return [];
  const formats = value.split(',').map((f) => f.trim()).filter(Boolean);
  for (const f of formats) {
    if (!EXPORT_FORMATS.includes(f as ExportFormat)) {
      throw new Error(`--export: unknown format '${f}'; use ${EXPORT_FORMATS.join(', ')} (comma-separated).`);
    }
  }
  if (formats.length === 0) throw new Error(`--export needs a format: ${EXPORT_FORMATS.join(', ')} (comma-separated).`);
  return [...new Set(formats)] as ExportFormat[];
}

/** Exports one finished id from its checkpoint in `outDir`; returns the paths written (none for a classic baseline). */
export async function exportTrained(
  experiment: Experiment, result: ExperimentResult, outDir: string, formats: readonly ExportFormat[], runtime: Runtime,
): Promise<string[]> {
  if (experiment.kind === 'classic' || result.kind === 'classic') return [];
  const idDir = join(outDir, experiment.id);
  let spec = experiment.kind === 'neural' ? experiment.train : undefined;
  let run = result.kind === 'run' ? result : undefined;
  let dir = idDir;
  if (experiment.kind === 'sweep' && result.kind === 'sweep') {
    spec = experiment.cells.find((c) => c.name === result.best)?.train;
    run = result.cells.find((c) => c.name === result.best)?.result as RunResult | undefined;
    dir = join(idDir, slug(result.best));
  }
  const checkpoint = run?.files?.lastCheckpoint;
  if (!spec || !run || !checkpoint) throw new Error(`${experiment.id}: no checkpoint of the trained model to export.`);
  const model = sequential(spec.layers(), { inputShape: spec.inputShape, runtime, name: experiment.id });
  try {
    await model.load(join(dir, checkpoint));
    const written: string[] = [];
    for (const format of formats) {
      written.push(...(await model.export(format, format === 'safetensors' ? join(idDir, 'model.safetensors') : join(idDir, 'tfjs'))));
    }
    return written;
  } finally {
    model.dispose();
  }
}

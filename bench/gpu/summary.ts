/**
 * One Markdown table of what bench/gpu/run.sh measured, beside its peers:
 * shaderprop's training samples/s (bench/train-throughput.ts --json), the
 * same models in TensorFlow.js on the same adapter, and PyTorch eager and with
 * its step in one CUDA graph (torch_bench.py), with the ratios; start-up and
 * dispatches per step; GEMM rates at 4096³ against the adapter's FMA ceiling;
 * epoch times and time to 99 % (bench/epochs.ts).
 *
 *   node --import ./demo/register.mjs bench/gpu/summary.ts --bench FILE [--torch FILE] [--epochs FILE] [--tests FILE]
 *
 * Missing or partial inputs give rows of '—': a summary of whatever finished.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { bench: { type: 'string' }, torch: { type: 'string' }, epochs: { type: 'string' }, 'epochs-warm': { type: 'string' }, tests: { type: 'string' } } });

function readJson(path: string | undefined): any {
  if (!path || !existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // bench --json writes the results as the last line of its stdout log
    const lines = readFileSync(path, 'utf8').trim().split('\n').reverse();
    for (const line of lines) {
      try {
        return JSON.parse(line);
      } catch { /* not this line */ }
    }
    return null;
  }
}

function readJsonLines(path: string | undefined): any[] {
  if (!path || !existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
    try {
      return line.trim().startsWith('{') ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

const num = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

const bench = readJson(values.bench);
const torch = readJsonLines(values.torch);
const epochs = readJson(values.epochs);
const lines: string[] = [];
lines.push(`# shaderprop on ${bench?.adapter ?? 'this adapter'} (${bench?.adapterDescription ?? ''}), ${bench?.date ?? new Date().toISOString().slice(0, 10)}`, '');

if (values.tests && existsSync(values.tests)) {
  const text = readFileSync(values.tests, 'utf8');
  const summary = text.split('\n').filter((l) => /Test Files|Tests /.test(l)).map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim());
  lines.push(`Test suite on this adapter: ${summary.join('; ') || 'no summary line (see the log)'}`, '');
}

const torchRate = (id: string, batch: number, mode: string) =>
  torch.find((t) => t.part === 'throughput' && t.id === id && t.batch === batch && t.mode === mode)?.train_samples_per_s ?? null;
lines.push('## Training samples/s (medians of interleaved rounds)', '');
lines.push('| model | batch | shaderprop | TF.js webgpu | PyTorch eager | PyTorch CUDA graph | × TF.js | × eager | × CUDA graph | start-up s (tuning) | dispatches/step |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of bench?.models ?? []) {
  const ours = r.shaderprop.train;
  const tf = r.tfjs?.webgpu?.train ?? null;
  const eager = torchRate(r.id, r.batch, 'eager');
  const graph = torchRate(r.id, r.batch, 'cuda-graph');
  lines.push(`| ${r.id} | ${r.batch} | ${num(ours)} | ${num(tf)} | ${num(eager)} | ${num(graph)} | ${ratio(ours, tf)} | ${ratio(ours, eager)} | ${ratio(ours, graph)} | ` +
    `${num(r.startupSeconds, 2)} (${num(r.tuningSeconds, 2)}) | ${r.dispatchesPerStep ?? '—'} |`);
}
lines.push('');
const chosen = (bench?.models ?? []).flatMap((r: any) => (r.variants ?? []).map((v: any) => `${v.family} ${v.shape}: ${v.variant} (${v.how})`));
if (chosen.length) lines.push('Kernel variants chosen: ' + [...new Set(chosen)].join('; '), '');

if (bench?.kernels?.length) {
  lines.push(`## GEMM and conv rates, GFLOP/s (ceiling ${num(bench.peakGflops)} GFLOP/s, ${num(bench.dispatchMicroseconds, 1)} µs per empty dispatch)`, '');
  lines.push('| kernel | shape | variant | GFLOP/s | of ceiling |', '|---|---|---|---:|---:|');
  for (const k of bench.kernels) lines.push(`| ${k.kernel} | ${k.shape} | ${k.variant} | ${num(k.gflops)} | ${((100 * k.gflops) / bench.peakGflops).toFixed(0)}% |`);
  lines.push('');
}

if (epochs) {
  lines.push('## Epochs and time to 99 %', '');
  lines.push('| | shaderprop | PyTorch eager | PyTorch CUDA graph |', '|---|---:|---:|---:|');
  for (const [id, t] of Object.entries<any>(epochs.epochTimes ?? {})) {
    const te = torch.find((x) => x.part === 'epochs' && x.id === id && x.mode === 'eager')?.epoch_seconds;
    const tg = torch.find((x) => x.part === 'epochs' && x.id === id && x.mode === 'cuda-graph')?.epoch_seconds;
    const fmtList = (l: number[] | undefined) => (l ? l.map((s) => s.toFixed(2)).join(', ') : '—');
    lines.push(`| ${id} epochs, s | ${fmtList(t.epochSeconds)} | ${fmtList(te)} | ${fmtList(tg)} |`);
  }
  const recipe = epochs.timeToTarget;
  const torchRecipe = torch.find((x) => x.part === 'recipe');
  lines.push(`| time to ${recipe?.target ?? 0.99} with the recipe, s | ${recipe?.reached ? `${num(recipe.secondsToTarget, 2)} (${recipe.epochsToTarget} epochs)` : recipe ? `not reached (best ${recipe.bestTestAccuracy})` : '—'} | ` +
    `${num(torchRecipe?.seconds_to_target, 2)} | — |`);
  const warm = readJson(values['epochs-warm'])?.timeToTarget;
  if (warm) {
    lines.push(`| the same, a second process (kernel choices cached), s | ${warm.reached ? `${num(warm.secondsToTarget, 2)} (${warm.epochsToTarget} epochs)` : `not reached (best ${warm.bestTestAccuracy})`} | — | — |`);
  }
  if (epochs.errors?.length) lines.push('', `epochs.ts errors: ${epochs.errors.join('; ')}`);
  lines.push('');
}
console.log(lines.join('\n'));

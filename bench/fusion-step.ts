/**
 * The activation folds (src/model/fusion.ts) on and off: the training step
 * time of a registry model (default s001-dense: 784-128-64-10 relu, SGD,
 * batch 32) with each, in one process, interleaved round by round (the
 * machine's speed drifts), and the median over rounds. Also the dispatches per
 * step, the variant chosen for each product, and how far the weights of the
 * two models differ after the same steps.
 *
 *   node --import ./demo/register.mjs bench/fusion-step.ts [--id ID] [--batch N] [--rounds R] [--steps S]
 */
import { parseArgs } from 'node:util';
import { createRuntime } from '../src/index.js';
import { benchExperiment, randomMnistLike } from '../src/experiments/bench.js';
import { FUSION_DEFAULTS } from '../src/model/fusion.js';
import { sequential, type Sequential } from '../src/model/sequential.js';

const { values } = parseArgs({ options: { id: { type: 'string' }, batch: { type: 'string' }, rounds: { type: 'string' }, steps: { type: 'string' } } });
const rounds = Number(values.rounds ?? 7);
const steps = Number(values.steps ?? 100);
const rt = await createRuntime();
const e = benchExperiment(values.id ?? 's001-dense');
const batch = Number(values.batch ?? e.train.batchSize);
const data = randomMnistLike(rt, steps * batch, { shape: e.train.inputShape, seed: 3 });

async function build(fold: boolean): Promise<{ model: Sequential; dispatches: number }> {
  const saved = FUSION_DEFAULTS.foldActivations;
  FUSION_DEFAULTS.foldActivations = fold;
  try {
    const model = sequential(e.train.layers(), { runtime: rt, inputShape: e.train.inputShape, seed: 1 });
    model.compile({ optimizer: e.train.optimizer(), loss: e.train.loss });
    // The first fit builds the plan (with the flag as set now) and warms the kernels up.
    await model.fit(data, { epochs: 1, batchSize: batch, shuffle: false });
    return { model, dispatches: model.lastFitStats?.dispatchesPerStep ?? 0 };
  } finally {
    FUSION_DEFAULTS.foldActivations = saved;
  }
}

const runs = { on: await build(true), off: await build(false) };
const times: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let r = 0; r < rounds; r++) {
  for (const key of (r % 2 ? ['off', 'on'] : ['on', 'off']) as ('on' | 'off')[]) {
    const start = performance.now();
    await runs[key].model.fit(data, { epochs: 1, batchSize: batch, shuffle: false });
    times[key].push((performance.now() - start) / steps);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const [wOn, wOff] = [await runs.on.model.getWeights(), await runs.off.model.getWeights()];
let maxDiff = 0;
let identical = true;
wOn.forEach((t, k) => t.values.forEach((v, i) => {
  const d = Math.abs(v - wOff[k]!.values[i]!);
  if (d !== 0) identical = false;
  maxDiff = Math.max(maxDiff, d);
}));
const on = median(times.on);
const off = median(times.off);
console.log(`adapter: ${rt.adapter.name}`);
console.log(`${e.id}, batch ${batch}, ${steps} steps a round, ${rounds} rounds interleaved (median ms/step):`);
console.log(`  fold on:  ${on.toFixed(2)} ms/step, ${runs.on.dispatches} dispatches/step   rounds: ${times.on.map((t) => t.toFixed(2)).join(' ')}`);
console.log(`  fold off: ${off.toFixed(2)} ms/step, ${runs.off.dispatches} dispatches/step   rounds: ${times.off.map((t) => t.toFixed(2)).join(' ')}`);
// Each round's two runs are back to back: the median of their ratios shrugs off slow drift better than the ratio of medians.
const paired = median(times.on.map((t, r) => t / times.off[r]!));
console.log(`  ratio of medians on/off: ${(on / off).toFixed(3)}; median of the rounds' ratios: ${paired.toFixed(3)} (${((1 - paired) * 100).toFixed(1)} % less time with the fold)`);
for (const c of rt.tuner.usedSince(0).filter((c) => /^(dense|conv2d)\./.test(c.family))) console.log(`  ${c.family} ${c.shape}: ${c.variant} (${c.how})`);
console.log(`  weights after ${rounds + 1} epochs: ${identical ? 'bit-identical' : `max |difference| ${maxDiff.toExponential(2)}`}`);
for (const run of Object.values(runs)) run.model.dispose();
data.dispose();
rt.destroy();

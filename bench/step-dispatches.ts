/**
 * The dispatches of one training step of registry models, as the fixed kernel
 * choice (no autotuning) records them: on this adapter, or with `--as-gpu` as
 * a GPU adapter's fixed order would (the GEMM tiles, implicit-GEMM conv, split
 * K), which a machine without a GPU can count on SwiftShader. Counting only:
 * nothing is timed.
 *
 *   node --import ./demo/register.mjs bench/step-dispatches.ts [--as-gpu] [--list] s001-dense s001-cnn ...
 */
import { parseArgs } from 'node:util';
import { createRuntime } from '../src/index.js';
import { benchExperiment, randomMnistLike } from '../src/experiments/bench.js';
import { sequential } from '../src/model/sequential.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'as-gpu': { type: 'boolean' }, list: { type: 'boolean' } } });
const ids = positionals.length ? positionals : ['s001-softmax', 's001-dense', 's001-cnn', 's004-t4', 's004-t2'];
const rt = await createRuntime({ autotune: false });
if (values['as-gpu']) {
  // The kernel order follows the adapter's description (src/gpu/features.ts, isCpuAdapter): describe a GPU.
  Object.defineProperty(rt, 'adapter', { value: { ...rt.adapter, vendor: 'nvidia', architecture: 'hopper', description: 'described as a GPU', name: 'GPU order' } });
}
console.log(`${rt.adapter.name}: dispatches per training step (fixed choice${values['as-gpu'] ? ', GPU order' : ''})`);
for (const id of ids) {
  const e = benchExperiment(id);
  const batch = e.train.batchSize;
  const model = sequential(e.train.layers(), { runtime: rt, inputShape: e.train.inputShape, name: e.id, seed: 1 });
  model.compile({ optimizer: e.train.optimizer(), loss: e.train.loss });
  const data = randomMnistLike(rt, batch, { shape: e.train.inputShape, binary: e.train.binaryDigit !== undefined });
  const { dispatches } = await model.timeStep(data, { batchSize: batch });
  console.log(`  ${id} (batch ${batch}): ${dispatches.length}`);
  if (values.list) for (const d of dispatches) console.log(`    ${d.label}  [${d.kernel.spec.name}]`);
  model.dispose();
  data.dispose();
}
rt.destroy();

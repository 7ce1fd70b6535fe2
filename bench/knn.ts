/**
 * Exact 1-nearest-neighbour on MNIST (the s003-1nn baseline): error rate and
 * speed of src/classic/knn.ts on this machine's adapter.
 *
 *   node --import ./demo/register.mjs bench/knn.ts [--full] [--train-rows N]
 *        [--kernel direct|tiled] [--tile TESTxTRAINxWORDS] [--packed true|false] [--data DIR]
 *
 * By default: the notebook's balanced subset, 750 train and 100 test images per
 * class drawn with balancedSubset(labels, perClass, seed 1). With --full: all
 * 60,000 train × 10,000 test images; --train-rows N uses only the first N train
 * rows (a slice to project the full run's time from). "setup" is building the
 * pipelines, uploading the packed train set and its norms; "search" is the
 * query (packing and uploading the test rows, the GPU work, the read-back).
 * Effective GOP/s counts a multiply and an add per pixel per test × train pair.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NearestNeighbour, type NearestKernel, type NearestTile } from '../src/classic/knn.js';
import { firstImages, imageFeatures, pick, type ImageSet } from '../src/data/images.js';
import { loadMnist } from '../src/data/mnist.js';
import { balancedSubset } from '../src/data/split.js';
import { createRuntime } from '../src/gpu/device.js';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean' },
    'train-rows': { type: 'string' },
    kernel: { type: 'string' },
    tile: { type: 'string' },
    packed: { type: 'string' },
    data: { type: 'string' },
  },
});

const dir = values.data ?? process.env.MNIST_DIR ?? resolve(import.meta.dirname, '../../shared/mnist');
const mnist = await loadMnist({ dir });
let train: ImageSet = mnist.train;
let test: ImageSet = mnist.test;
let what = 'full MNIST';
if (!values.full) {
  train = pick(train, balancedSubset(train.labels, 750, 1));
  test = pick(test, balancedSubset(test.labels, 100, 1));
  what = 'balanced subset (750 + 100 per class, seed 1)';
}
const fullTrain = train.count;
if (values['train-rows']) {
  train = firstImages(train, Number(values['train-rows']));
  what += `, first ${train.count} train rows`;
}

let tile: NearestTile | undefined;
if (values.tile) {
  const [t, n, w] = values.tile.split('x').map(Number);
  tile = { test: t!, train: n!, words: w! };
}
const kernel = values.kernel as NearestKernel | undefined;
const packedDot = values.packed === undefined ? undefined : values.packed === 'true';

const rt = await createRuntime();
console.log(`${what}: ${train.count} train × ${test.count} test images on ${rt.adapter.name}`);

let started = performance.now();
const model = await NearestNeighbour.create(rt, train, { kernel, tile, packedDot });
await rt.sync();
const setup = (performance.now() - started) / 1000;
const { test: tileTest, train: tileTrain, words } = model.tile;
console.log(
  `kernel ${model.kernel}, tile ${tileTest}×${tileTrain}${model.kernel === 'tiled' ? `×${words}` : ''}, ` +
    `${model.packedDot ? 'dot4U8Packed' : 'unpacked bytes'}; setup ${setup.toFixed(2)} s`,
);

started = performance.now();
const result = await model.query(test, {
  onProgress: (done, total) => {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`  ${done} / ${total} test rows, ${seconds.toFixed(1)} s\n`);
  },
});
const search = (performance.now() - started) / 1000;
model.destroy();

let errors = 0;
for (let t = 0; t < test.count; t++) if (result.predictions[t] !== test.labels[t]) errors++;
const pairs = train.count * test.count;
console.log(`error rate ${(errors / test.count).toFixed(4)} (${errors} of ${test.count})`);
console.log(
  `search ${search.toFixed(2)} s: ${(pairs / search / 1e6).toFixed(2)} M pairs/s, ` +
    `${((2 * pairs * imageFeatures(train)) / search / 1e9).toFixed(2)} effective GOP/s`,
);
if (train.count < fullTrain) {
  console.log(`projected search over all ${fullTrain} train rows: ${((search * fullTrain) / train.count).toFixed(0)} s`);
}
rt.destroy();

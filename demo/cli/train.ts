/**
 * `npm start`: trains the s001-dense model (784-128-64-10, SGD 0.01, batch 32)
 * on MNIST on this machine's WebGPU adapter, evaluates it on the 10,000 test
 * images, and writes a report (Markdown and JSON) under runs/.
 *
 *   npm start -- [--epochs N] [--train N] [--data DIR] [--out DIR] [--seed N] [--batch N]
 *
 * MNIST is read from --data, else MNIST_DIR, else ../shared/mnist; failing those,
 * it is downloaded (verified against its SHA-256) into ~/.cache/shaderprop/mnist.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRuntime, Dataset, dense, flatten, loadMnist, sequential, sgd } from '../../src/index.js';
import { classificationReport, confusionMatrix, formatClassificationReport } from '../../src/metrics/classification.js';

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '3' },
    train: { type: 'string' },
    batch: { type: 'string', default: '32' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
    out: { type: 'string', default: 'runs' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: npm start -- [--epochs N] [--train N] [--batch N] [--seed N] [--data DIR] [--out DIR]');
  process.exit(0);
}

// With no folder given or found, the files are fetched from the mirrors into ~/.cache/shaderprop/mnist.
const dataDir = values.data ?? process.env.MNIST_DIR ?? (existsSync('../shared/mnist') ? resolve('../shared/mnist') : undefined);
const epochs = Number(values.epochs);
const batchSize = Number(values.batch);
const seed = Number(values.seed);

const rt = await createRuntime();
console.log(`adapter: ${rt.adapter.name} (${rt.adapter.description || rt.adapter.vendor})`);
const mnist = await loadMnist({
  ...(dataDir ? { dir: dataDir } : { download: { log: (line: string) => console.log(line) } }),
  ...(values.train ? { subset: { train: Number(values.train) } } : {}),
});
const scale = { preprocessing: { kind: 'scale', scale: 1 / 255 } } as const;
const train = Dataset.fromImages(rt, mnist.train, scale);
const test = Dataset.fromImages(rt, mnist.test, scale);

const model = sequential([flatten(), dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')], { inputShape: [28, 28], runtime: rt, name: 's001-dense' });
console.log(model.summary());
model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

const started = performance.now();
const history = await model.fit(train, {
  epochs, batchSize, seed, validationSplit: 1 / 12, progressEvery: 200,
  callbacks: [{
    onBatchEnd: (epoch, l) => {
      if (l.step < l.steps) console.log(`  epoch ${epoch + 1}/${epochs} step ${l.step}/${l.steps}  loss ${l.loss.toFixed(4)}  accuracy ${l.accuracy.toFixed(4)}`);
    },
    onEpochEnd: (epoch, l) =>
      console.log(`epoch ${epoch + 1}/${epochs}  ${l.seconds.toFixed(1)} s  loss ${l.loss.toFixed(4)}  accuracy ${l.accuracy.toFixed(4)}  ` +
        `val_loss ${l.val_loss!.toFixed(4)}  val_accuracy ${l.val_accuracy!.toFixed(4)}`),
  }],
});
const trainSeconds = (performance.now() - started) / 1000;
const result = await model.evaluate(test);
const predictions = await model.predictClasses(test);
const report = classificationReport(test.labels(), predictions, 10);
const reportText = formatClassificationReport(report);
console.log(`\ntest accuracy ${result.accuracy.toFixed(4)}  test loss ${result.loss.toFixed(4)}  (notebook seeds/001 reported 0.96 after 10 epochs)`);
console.log(reportText);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = resolve(values.out, `s001-dense-${stamp}`);
await mkdir(dir, { recursive: true });
const json = {
  id: 's001-dense', adapter: rt.adapter.name, epochs, batchSize, seed, trainSamples: Math.floor(train.count * (11 / 12)),
  trainSeconds, test: result, history: history.toJSON(), confusionMatrix: confusionMatrix(test.labels(), predictions, 10),
};
await writeFile(join(dir, 'report.json'), JSON.stringify(json, null, 2));
await writeFile(join(dir, 'report.md'), [
  `# s001-dense on ${rt.adapter.name}`, '',
  `${epochs} epochs, batch ${batchSize}, seed ${seed}, ${trainSeconds.toFixed(1)} s of training.`, '',
  `Test accuracy **${result.accuracy.toFixed(4)}**, loss ${result.loss.toFixed(4)} (seeds/001 reported 0.96 after 10 epochs).`, '',
  '```', model.summary(), '```', '', '```', reportText, '```', '',
  '| epoch | loss | accuracy | val_loss | val_accuracy | seconds |', '|---|---|---|---|---|---|',
  ...history.epoch.map((e, i) => `| ${e + 1} | ${['loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds'].map((k) => history.history[k]![i]!.toFixed(4)).join(' | ')} |`),
].join('\n'));
console.log(`\nreport: ${join(dir, 'report.md')}`);
model.dispose();
rt.destroy();

/**
 * The Gaussian generative classifier (s003-gaussian) on the full MNIST sets:
 * fit on the 60,000 training images, score the 10,000 test images, and print
 * the errors (the notebook made 431), the time of each phase and the
 * throughput of the two GPU phases.
 *
 *   node --import ./demo/register.mjs bench/gaussian.ts [--data DIR] [--train N] [--test N] [--json] [--out FILE]
 *
 * MNIST comes from --data, else MNIST_DIR, else ../shared/mnist. --out writes
 * the numbers and the ten mean images (K × 784 values, 0–255) as JSON.
 *
 * On a CPU driver (SwiftShader) the GPU phases are CPU work: the load average
 * and the process's CPU seconds are printed beside the wall times, since other
 * processes on the machine slow the wall clock down.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  classMoments,
  DEFAULT_REGULARIZATION,
  gaussianFromMoments,
  scoresFromMahalanobis,
  squaredMahalanobis,
} from '../src/classic/gaussian.js';
import { firstImages } from '../src/data/images.js';
import { loadMnist } from '../src/data/mnist.js';
import { createRuntime } from '../src/gpu/device.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
    json: { type: 'boolean' },
    out: { type: 'string' },
  },
});
const beside = resolve(import.meta.dirname, '../../shared/mnist');
const dir = values.data ?? process.env.MNIST_DIR ?? (existsSync(beside) ? beside : undefined);
const mnist = await loadMnist(dir ? { dir } : {});
const train = firstImages(mnist.train, Number(values.train ?? mnist.train.count));
const test = firstImages(mnist.test, Number(values.test ?? mnist.test.count));
const say = (line: string) => {
  if (!values.json) console.log(line);
};

const rt = await createRuntime();
const seconds = (since: number) => (performance.now() - since) / 1000;
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
say(`adapter: ${rt.adapter.name} (${rt.adapter.description}); ${train.count} train, ${test.count} test images`);
const loadAtStart = loadavg()[0]!;
say(`${cpus().length} CPU cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

// Warm-up on a few images, so that pipeline builds are not timed.
await squaredMahalanobis(rt, gaussianFromMoments(await classMoments(rt, firstImages(train, 400), { classes: 10 }), DEFAULT_REGULARIZATION), firstImages(test, 32));

let started = performance.now();
let cpu = process.cpuUsage();
const moments = await classMoments(rt, train, { classes: 10 });
const gramSeconds = seconds(started);
const gramCpu = cpuSeconds(cpu);
started = performance.now();
const model = gaussianFromMoments(moments, DEFAULT_REGULARIZATION);
const factorSeconds = seconds(started);
say(
  `fit: Gram matrices on the GPU ${gramSeconds.toFixed(2)} s (${gramCpu.toFixed(1)} CPU s), ` +
    `covariance + Cholesky + inverse on the CPU ${factorSeconds.toFixed(2)} s`,
);

started = performance.now();
cpu = process.cpuUsage();
const q = await squaredMahalanobis(rt, model, test, {
  onProgress: (done, total) => {
    if (!values.json && process.stdout.isTTY) process.stdout.write(`\rscoring ${done}/${total}`);
  },
});
const scoreGpuSeconds = seconds(started);
const scoreCpu = cpuSeconds(cpu);
if (!values.json && process.stdout.isTTY) process.stdout.write('\r');
started = performance.now();
const { predictions } = scoresFromMahalanobis(model, q, test.count);
const scoreCpuSeconds = seconds(started);

let errors = 0;
for (let n = 0; n < test.count; n++) if (predictions[n] !== test.labels[n]) errors++;

const D = model.features;
// Useful operations (a multiply-add is 2): the upper triangle of each Gram matrix of x̃ = (x, 1),
// and the lower triangle of A_c times every test image for every class.
const gramOps = train.count * (D + 1) * (D + 2);
const scoreOps = test.count * model.classes * D * (D + 1);
const results = {
  date: new Date().toISOString().slice(0, 10),
  adapter: rt.adapter.name,
  trainImages: train.count,
  testImages: test.count,
  regularization: DEFAULT_REGULARIZATION,
  loadAverage: loadAtStart,
  errors,
  notebookErrors: 431,
  accuracy: 1 - errors / test.count,
  seconds: {
    fitGpu: gramSeconds,
    fitCpu: factorSeconds,
    fit: gramSeconds + factorSeconds,
    scoreGpu: scoreGpuSeconds,
    scoreCpu: scoreCpuSeconds,
    score: scoreGpuSeconds + scoreCpuSeconds,
  },
  processCpuSeconds: { fitGpu: gramCpu, scoreGpu: scoreCpu },
  gops: { gram: gramOps / gramSeconds / 1e9, score: scoreOps / scoreGpuSeconds / 1e9 },
};
say(
  `score: quadratic forms on the GPU ${scoreGpuSeconds.toFixed(2)} s (${scoreCpu.toFixed(1)} CPU s), ` +
    `scores and argmax on the CPU ${scoreCpuSeconds.toFixed(3)} s`,
);
say(`errors: ${errors} of ${test.count} (accuracy ${(100 * results.accuracy).toFixed(2)}%; the notebook: 431 of 10,000)`);
say(
  `GPU throughput: Gram ${results.gops.gram.toFixed(2)} GOP/s (integer, ${(gramOps / 1e9).toFixed(1)} G), ` +
    `score ${results.gops.score.toFixed(2)} GFLOP/s (${(scoreOps / 1e9).toFixed(1)} G)`,
);
if (values.json) console.log(JSON.stringify(results));
if (values.out) {
  const means = Array.from({ length: model.classes }, (_, c) => Array.from(model.mean.subarray(c * D, (c + 1) * D)));
  await writeFile(values.out, JSON.stringify({ ...results, means }, null, 2));
}
rt.destroy();

/** Synthetic but realistic experiment results for the report tests (no GPU, no MNIST). */
import type { ClassicResult, HistoryJson, RunReport, RunResult, SampleImage, SweepCell, SweepResult } from '../../src/experiments/result.js';
import { classificationReport, confusionMatrix } from '../../src/metrics/classification.js';

export const SHAPE: [number, number] = [28, 28];

/**
 * A 28×28 image: a ring whose radius grows with `label`, brighter towards its
 * middle, and one full-white dot (255) in the centre; everything else is 0.
 */
export function ringImage(label: number): number[] {
  const [rows, cols] = SHAPE;
  const radius = 4 + label;
  const pixels = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const distance = Math.abs(Math.hypot(r - 13.5, c - 13.5) - radius);
      if (distance < 1.5) pixels[r * cols + c] = Math.round(255 * (1 - distance / 1.5));
    }
  }
  pixels[14 * cols + 14] = 255;
  return pixels;
}

/** 1000 test labels (100 per class) and predictions: every 7th sample is predicted as the next class. */
export function labelsAndPredictions(): { labels: number[]; predictions: number[] } {
  const labels = Array.from({ length: 1000 }, (_, i) => i % 10);
  const predictions = labels.map((label, i) => (i % 7 === 0 ? (label + 1) % 10 : label));
  return { labels, predictions };
}

/** Keras-shaped history; val_loss and loss in the given order. */
export function history(values: Record<string, number[]>): HistoryJson {
  const epochs = Object.values(values)[0]!.length;
  return { epoch: Array.from({ length: epochs }, (_, i) => i), history: values };
}

function samples(labels: number[], predictions: number[]): { first: SampleImage[]; mislabelled: SampleImage[] } {
  const image = (index: number): SampleImage => ({ index, label: labels[index]!, predicted: predictions[index]!, pixels: ringImage(labels[index]!) });
  const wrong = labels.map((_, i) => i).filter((i) => labels[i] !== predictions[i]);
  return { first: labels.slice(0, 25).map((_, i) => image(i)), mislabelled: wrong.slice(0, 25).map(image) };
}

/**
 * A 3-epoch dense run: val_loss is lowest at index 1 (best epoch 2).
 * Test accuracy comes from the synthetic predictions (857/1000 correct).
 */
export function runResult(overrides: Partial<RunResult> = {}): RunResult {
  const { labels, predictions } = labelsAndPredictions();
  const classification = classificationReport(labels, predictions, 10);
  return {
    kind: 'run',
    id: 's001-dense',
    title: '784-128-64-10 relu, softmax',
    notebook: 'seeds/001',
    reported: 0.82,
    reportedText: '0.82 test (0.8104 train acc)',
    note: 'The notebook scaled the images twice; this run scales them once (x/255).',
    quick: false,
    adapter: 'SwiftShader',
    seed: 42,
    optimizer: 'SGD lr 0.01',
    preprocessing: 'x/255',
    epochs: 3,
    batchSize: 32,
    trainSamples: 54000,
    validationSamples: 6000,
    testSamples: 1000,
    summary: [
      'Layer (type)         Output Shape    Param #',
      '=============================================',
      'dense (Dense)        (None, 128)     100480',
      'dense_1 (Dense)      (None, 64)      8256',
      'dense_2 (Dense)      (None, 10)      650',
      '=============================================',
      'Total params: 109386',
    ].join('\n'),
    seconds: 83.4,
    test: { loss: 0.41, accuracy: classification.accuracy },
    initial: { loss: 2.3075, accuracy: 0.0982 },
    best: { epoch: 1, val_loss: 0.45, test: { loss: 0.4, accuracy: 0.861 } },
    history: history({
      loss: [0.9, 0.5, 0.3],
      accuracy: [0.7, 0.85, 0.9],
      val_loss: [0.8, 0.45, 0.5],
      val_accuracy: [0.75, 0.86, 0.85],
      seconds: [28.1, 27.6, 27.7],
      lr: [0.01, 0.01, 0.01],
    }),
    confusion: confusionMatrix(labels, predictions, 10),
    classification,
    classDistribution: { train: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], test: labels.reduce((c, l) => (c[l]!++, c), new Array<number>(10).fill(0)) },
    imageShape: SHAPE,
    samples: samples(labels, predictions),
    ...overrides,
  };
}

/** A 2×2 sweep over lr and init; cell "lr=0.1 init=xavier" ends with the highest val_accuracy. */
export function sweepResult(): SweepResult {
  const cells: SweepCell[] = [];
  for (const lr of [0.01, 0.1]) {
    for (const init of ['xavier', 'he']) {
      const gain = (lr === 0.1 ? 0.05 : 0) + (init === 'xavier' ? 0.02 : 0);
      const name = `lr=${lr} init=${init}`;
      // As the runner does: cells share the sweep's id, and only the best cell keeps its images.
      const result = runResult({
        id: 's014-sweep',
        title: `784-100-10 — ${name}`,
        optimizer: `SGD lr ${lr}`,
        ...(name === 'lr=0.1 init=xavier' ? {} : { samples: undefined }),
        test: { loss: 0.5 - gain, accuracy: 0.85 + gain },
        seconds: 20 + 10 * gain,
        history: history({
          loss: [0.9 - gain, 0.6 - gain, 0.45 - gain],
          accuracy: [0.7 + gain, 0.8 + gain, 0.84 + gain],
          val_loss: [0.85 - gain, 0.62 - gain, 0.5 - gain],
          val_accuracy: [0.72 + gain, 0.8 + gain, 0.83 + gain],
        }),
      });
      cells.push({ name, params: { lr, init }, result });
    }
  }
  return {
    kind: 'sweep',
    id: 's014-sweep',
    title: 'Learning rate × initialiser, 784-100-10',
    notebook: 'seeds/014',
    reported: null,
    reportedText: 'best lr 0.1 (no test accuracy stated)',
    note: 'Cells are compared by final validation accuracy.',
    quick: false,
    adapter: 'SwiftShader',
    seed: 42,
    axes: ['lr', 'init'],
    cells,
    best: 'lr=0.1 init=xavier',
    test: { loss: 0.43, accuracy: 0.92 },
    seconds: 110,
  };
}

/**
 * A classic baseline with everything a classic result can hold: 12 line-search
 * steps (the loss falls by 0.05 a step; step 3 took 4 trials), ten mean images,
 * and two evaluations. 857/1000 right, as the runs.
 */
export function classicResult(): ClassicResult {
  const { labels, predictions } = labelsAndPredictions();
  const n = 12;
  return {
    kind: 'classic', id: 's020-classic', title: 'A classic baseline', notebook: 'seeds/020',
    reported: 0.9, reportedText: '100 errors / 1,000', quick: false, adapter: 'SwiftShader', seed: 42,
    method: 'gradient descent with a line search <on the GPU>', preprocessing: 'standardised',
    trainSamples: 6000, testSamples: 1000, seconds: 12.5, timings: { fit: 10.25, predict: 2.25 },
    test: { loss: 0.15, accuracy: 0.857, errors: 143 },
    confusion: confusionMatrix(labels, predictions, 10),
    classification: classificationReport(labels, predictions, 10),
    classDistribution: { train: new Array(10).fill(600), test: new Array(10).fill(100) },
    imageShape: SHAPE,
    samples: samples(labels, predictions),
    steps: {
      step: Array.from({ length: n }, (_, i) => i + 1),
      trainLoss: Array.from({ length: n }, (_, i) => 0.7 - 0.05 * i),
      testLoss: Array.from({ length: n }, (_, i) => 0.72 - 0.05 * i),
      testError: Array.from({ length: n }, (_, i) => 0.3 - 0.01 * i),
      trials: Array.from({ length: n }, (_, i) => (i === 2 ? 4 : 1)),
      t: Array.from({ length: n }, (_, i) => (i === 2 ? 0.125 : 1)),
    },
    means: Array.from({ length: 10 }, (_, k) => ringImage(k).map((v) => v / 2)),
    evaluations: [
      { name: 'subset', trainSamples: 600, testSamples: 100, accuracy: 0.9, errors: 10, seconds: 1.5, reference: 'notebook: 185 s' },
      { name: 'full', trainSamples: 6000, testSamples: 1000, accuracy: 0.857, errors: 143, seconds: 11 },
    ],
  };
}

/**
 * A whole run report: the dense run (ours 0.857 vs 0.82 → +3.70), a CNN run
 * without sample images whose title needs escaping (ours 0.857 vs 0.99 → -13.30),
 * the sweep (no reported number), and one skipped id.
 */
export function runReport(quick = false): RunReport {
  const cnn = runResult({
    id: 's007-cnn',
    title: 'Conv <script>alert("x")</script> & pool',
    notebook: 'seeds/007',
    reported: 0.99,
    reportedText: '0.99 test',
    note: undefined,
    best: undefined,
    optimizer: 'Adam lr 0.001',
    seconds: 4000,
    samples: undefined,
    quick,
  });
  return {
    started: '2026-11-21T19:13:25.369Z',
    command: 'shaderprop run s001-dense s007-cnn s014-sweep s099-rnn' + (quick ? ' --quick' : ''),
    adapter: 'SwiftShader',
    quick,
    results: [runResult({ quick }), cnn, { ...sweepResult(), quick }, { ...classicResult(), quick }],
    skipped: [{ id: 's099-rnn', reason: 'recurrent layers are not implemented' }],
  };
}

/**
 * How many <img> the report of `runReport()` shows: 6 for the dense run, 4 for
 * the CNN run (no samples, so no grids), 2 + 2 for the sweep (its best cell's
 * grids), 7 for the classic baseline (steps, means, 2 confusion matrices, distribution, 2 grids).
 */
export const REPORT_IMAGES = 6 + 4 + 4 + 7;

/**
 * `shaderprop train --model model.json --data TRAIN [--test TEST] …`: a model
 * described by a Keras / TensorFlow.js Layers topology (the model.json that
 * `model.export('tfjs', …)` writes, or its `modelTopology`) trains from fresh
 * weights on your own data, is evaluated on --test when given, and is written
 * to --out as a checkpoint (model.ckpt), safetensors, TensorFlow.js (tfjs/)
 * and train.json (settings, history, test result).
 *
 * Samples are viewed in the model's input shape when they hold as many values;
 * labels must be below the model's number of outputs. Byte samples (uint8,
 * PNG, CSV of 0–255 integers) are scaled by 1/255; float samples are used as
 * given. The loss is the sparse categorical cross-entropy, on a softmax output
 * or, for a linear last layer, from logits.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TrainOptions {
  model: string;
  data: string;
  test?: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  optimizer: 'sgd' | 'adam';
  out: string;
  seed: number;
  labelColumn?: string;
  json?: boolean;
}

const shapeText = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export async function train(opts: TrainOptions, say: (line: string) => void): Promise<Record<string, unknown>> {
  const [{ createRuntime }, { sequentialFromTopology }, { loadLabeledData }, { Dataset }, optimizers, { sparseCategoricalCrossentropy }] = await Promise.all([
    import('../../src/gpu/device.js'), import('../../src/model/load.js'), import('../../src/data/labeled.js'),
    import('../../src/data/dataset.js'), import('../../src/optimizers/optimizers.js'), import('../../src/losses/losses.js'),
  ]);
  let text: string;
  try {
    text = await readFile(opts.model, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`--model ${opts.model}: ${code === 'ENOENT' ? 'no such file' : String(error)}; give the model.json that model.export('tfjs', dir) writes.`);
  }
  let topology: unknown;
  try {
    topology = JSON.parse(text);
  } catch (error) {
    throw new Error(`--model ${opts.model}: not JSON (${(error as Error).message}); give the model.json that model.export('tfjs', dir) writes.`);
  }
  const load = (path: string) => loadLabeledData(path, opts.labelColumn === undefined ? {} : { labelColumn: opts.labelColumn });
  const loaded = await load(opts.data);
  const other = opts.test ? await load(opts.test) : undefined;
  const testData = other ? (other.test ?? other.train) : loaded.test;

  const rt = await createRuntime();
  const model = sequentialFromTopology(topology, { runtime: rt, seed: opts.seed }, opts.model);
  try {
    const inputShape = model.inputShape!;
    const shapes = model.build(inputShape);
    const outputs = sizeOf(shapes[shapes.length - 1]!);
    const last = model.layers[model.layers.length - 1]!.activation.name;
    if (last !== 'softmax' && last !== 'linear') {
      throw new Error(`--model ${opts.model}: the last layer applies '${last}'; train classifies, so the last layer needs 'softmax' (or 'linear' for logits).`);
    }
    const datasetFor = (data: typeof loaded.train, role: string) => {
      if (sizeOf(data.shape) !== sizeOf(inputShape)) {
        throw new Error(
          `${data.name}: the samples have shape ${shapeText(data.shape)} (${sizeOf(data.shape)} values) but the model takes ${shapeText(inputShape)} ` +
            `(${sizeOf(inputShape)} values); give ${role} data of that size, or a model whose input fits it.`,
        );
      }
      for (let i = 0; i < data.y.length; i++) {
        if (data.y[i]! >= outputs) {
          throw new Error(`${data.name}: label ${data.y[i]} of sample ${i} is out of range: the model has ${outputs} outputs (classes 0–${outputs - 1}).`);
        }
      }
      const bytes = data.x instanceof Uint8Array;
      return Dataset.create(rt, { x: data.x, y: data.y, shape: inputShape, classes: outputs, name: role },
        { preprocessing: bytes ? { kind: 'scale', scale: 1 / 255 } : { kind: 'raw' } });
    };
    const trainSet = datasetFor(loaded.train, 'train');
    const testSet = testData ? datasetFor(testData, 'test') : undefined;
    const optimizer = opts.optimizer === 'adam' ? optimizers.adam(opts.lr ? { learningRate: opts.lr } : {}) : optimizers.sgd(opts.lr ? { learningRate: opts.lr } : {});
    model.compile({ optimizer, loss: sparseCategoricalCrossentropy({ fromLogits: last === 'linear' }) });
    say(`adapter: ${rt.adapter.name}; model ${model.name} from ${opts.model}: ${model.countParams().toLocaleString('en-US')} parameters, input ${shapeText(inputShape)}, ${outputs} classes`);
    say(`data: ${trainSet.count} train samples from ${opts.data}${testSet ? `, ${testSet.count} test samples from ${opts.test ?? 'its x_test/y_test'}` : ''}`);
    const history = await model.fit(trainSet, {
      epochs: opts.epochs, batchSize: opts.batchSize, seed: opts.seed,
      callbacks: [{ onEpochEnd: (epoch, logs) => say(`epoch ${epoch + 1}/${opts.epochs}  ${logs.seconds.toFixed(1)} s  loss ${logs.loss.toFixed(4)}  accuracy ${logs.accuracy.toFixed(4)}`) }],
    });
    const test = testSet ? await model.evaluate(testSet, { batchSize: opts.batchSize }) : null;
    if (test) say(`test: loss ${test.loss.toFixed(4)}  accuracy ${test.accuracy.toFixed(4)} on ${test.samples} samples`);
    const files = [join(opts.out, 'model.ckpt')];
    await model.save(files[0]!, { source: opts.model });
    files.push(...(await model.export('safetensors', join(opts.out, 'model.safetensors'))));
    files.push(...(await model.export('tfjs', join(opts.out, 'tfjs'))));
    const summary = {
      model: opts.model, data: opts.data, test_data: opts.test ?? (testSet ? opts.data : null), adapter: rt.adapter.name,
      optimizer: opts.optimizer, learning_rate: opts.lr ?? (opts.optimizer === 'adam' ? 0.001 : 0.01), epochs: opts.epochs, batch_size: opts.batchSize, seed: opts.seed,
      train_samples: trainSet.count, history: history.history,
      test: test ? { loss: test.loss, accuracy: test.accuracy, samples: test.samples } : null,
      files: [...files, join(opts.out, 'train.json')],
    };
    await writeFile(join(opts.out, 'train.json'), `${JSON.stringify(summary, null, 2)}\n`);
    say(`wrote ${summary.files.join(', ')}`);
    trainSet.dispose();
    testSet?.dispose();
    return summary;
  } finally {
    model.dispose();
    rt.destroy();
  }
}

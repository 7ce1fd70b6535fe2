/**
 * The fusion pass (src/model/fusion.ts): its decisions on small models, and
 * what they change on the GPU. Training with the activation folds on and off
 * updates the weights alike (a dense relu stack, and conv → pool → dense),
 * inspectStep still reads back every tensor, and a step of an s001-dense-like
 * model records fewer dispatches with the folds on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activation, conv2d, createRuntime, Dataset, dense, flatten, maxPool2d, reshape, Runtime, sequential, sgd, type Layer,
} from '../../src/index.js';
import { FUSION_DEFAULTS, planFusion, type LayerFusion } from '../../src/model/fusion.js';
import { lossPlan } from '../../src/model/plan.js';
import { layerShapes } from '../../src/model/shapes.js';
import { resolveLoss } from '../../src/losses/losses.js';
import { assertClose, makeRng } from '../../src/reference/index.js';

/** The pass's records for a model, with the loss met as the plan meets it. */
function plan(layers: Layer[], inputShape: number[], loss: string, options: { foldActivations?: boolean } = {}): LayerFusion[] {
  const shapes = layerShapes(layers, inputShape, undefined);
  return planFusion(layers, lossPlan(layers, shapes, resolveLoss(loss)), options);
}

const PLAIN: LayerFusion = { forwardActivation: true, outputGradient: 'raw', inputGradient: 'plain', previousActivation: null };
const FOLDED_OUT: LayerFusion = { ...PLAIN, outputGradient: 'activation-applied' };
const ABSORBED: LayerFusion = { ...PLAIN, forwardActivation: false, outputGradient: 'activation-applied' };
const applies = (name: 'relu' | 'sigmoid' | 'tanh'): LayerFusion => ({ ...PLAIN, inputGradient: 'apply-previous-activation', previousActivation: { name } });

describe('planFusion', () => {
  it('lets categorical crossentropy absorb a final softmax (and binary crossentropy a final sigmoid), not mean squared error', () => {
    expect(plan([dense(4, 'softmax')], [6], 'categoricalCrossentropy')).toEqual([ABSORBED]);
    expect(plan([dense(4, 'softmax')], [6], 'sparseCategoricalCrossentropy')).toEqual([ABSORBED]);
    expect(plan([dense(1, 'sigmoid')], [6], 'binaryCrossentropy')).toEqual([ABSORBED]);
    expect(plan([dense(4, 'softmax')], [6], 'meanSquaredError')).toEqual([PLAIN]);
  });

  it('lets max pooling apply the relu before it, also behind a reshape, and nothing else before it', () => {
    expect(plan([conv2d(2, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(4, 'softmax')], [8, 8, 1], 'categoricalCrossentropy'))
      .toEqual([FOLDED_OUT, applies('relu'), PLAIN, ABSORBED]);
    expect(plan([dense(72, 'relu'), reshape([6, 6, 2]), maxPool2d(), flatten(), dense(4, 'softmax')], [5], 'categoricalCrossentropy'))
      .toEqual([FOLDED_OUT, PLAIN, applies('relu'), PLAIN, ABSORBED]);
    // tanh is not relu: the pooling cannot apply it (nor can the switch turn the pooling's fold off).
    expect(plan([conv2d(2, 3, { activation: 'tanh' }), maxPool2d(), flatten(), dense(4, 'softmax')], [8, 8, 1], 'categoricalCrossentropy'))
      .toEqual([PLAIN, PLAIN, PLAIN, ABSORBED]);
    expect(plan([conv2d(2, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(4, 'softmax')], [8, 8, 1], 'categoricalCrossentropy', { foldActivations: false }))
      .toEqual([FOLDED_OUT, applies('relu'), PLAIN, ABSORBED]);
  });

  it('folds relu, sigmoid and tanh into the next dense layer\'s input gradient, through flatten, and only with the switch on', () => {
    const stack = () => [flatten(), dense(16, 'relu'), dense(8, 'tanh'), dense(6, 'sigmoid'), dense(4, 'softmax')];
    expect(plan(stack(), [4, 4], 'categoricalCrossentropy'))
      .toEqual([PLAIN, FOLDED_OUT, { ...applies('relu'), outputGradient: 'activation-applied' }, { ...applies('tanh'), outputGradient: 'activation-applied' },
        { ...applies('sigmoid'), forwardActivation: false, outputGradient: 'activation-applied' }]);
    expect(plan(stack(), [4, 4], 'categoricalCrossentropy', { foldActivations: false })).toEqual([PLAIN, PLAIN, PLAIN, PLAIN, ABSORBED]);
    // conv's relu reaches the dense layer through flatten (one buffer, two shapes).
    expect(plan([conv2d(2, 3, { activation: 'relu' }), flatten(), dense(4, 'softmax')], [6, 6, 1], 'categoricalCrossentropy'))
      .toEqual([FOLDED_OUT, PLAIN, { ...applies('relu'), forwardActivation: false, outputGradient: 'activation-applied' }]);
    // An Activation layer is a producer like any other.
    expect(plan([dense(8), activation('relu'), dense(4)], [3], 'meanSquaredError')).toEqual([PLAIN, FOLDED_OUT, applies('relu')]);
  });

  it('folds relu, sigmoid and tanh into the next conv layer\'s input gradient', () => {
    for (const name of ['relu', 'sigmoid', 'tanh'] as const) {
      expect(plan([conv2d(2, 3, { activation: name }), conv2d(2, 3), flatten(), dense(4)], [8, 8, 1], 'meanSquaredError'))
        .toEqual([FOLDED_OUT, applies(name), PLAIN, PLAIN]);
    }
    expect(plan([conv2d(2, 3, { activation: 'sigmoid' }), conv2d(2, 3), flatten(), dense(4)], [8, 8, 1], 'meanSquaredError', { foldActivations: false }))
      .toEqual([PLAIN, PLAIN, PLAIN, PLAIN]);
  });

  it('folds nothing where nothing can be folded', () => {
    // Linear and leaky relu before dense, softmax in the middle, a conv after leaky relu, no loss absorbing mean squared error's output.
    expect(plan([dense(8), dense(8, 'leaky_relu'), dense(6, 'softmax'), dense(3, 'relu')], [5], 'meanSquaredError')).toEqual([PLAIN, PLAIN, PLAIN, PLAIN]);
    expect(plan([conv2d(2, 3, { activation: 'leaky_relu' }), conv2d(2, 3), flatten(), dense(4)], [8, 8, 1], 'meanSquaredError')).toEqual([PLAIN, PLAIN, PLAIN, PLAIN]);
    // A layer whose input gradient is never computed (the first one's) cannot apply anything.
    expect(planFusion([activation('relu'), maxPool2d()], null, { inputGradients: [false, false] })).toEqual([PLAIN, PLAIN]);
  });
});

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

/** Runs `f` with the dense folds on or off. */
async function withFold<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  const saved = FUSION_DEFAULTS.foldActivations;
  FUSION_DEFAULTS.foldActivations = on;
  try {
    return await f();
  } finally {
    FUSION_DEFAULTS.foldActivations = saved;
  }
}

function images(count: number, shape: number[], seed: number): Dataset {
  const rng = makeRng(seed);
  const features = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: count * features }, () => rng.next() * 2 - 1);
  const y = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  return Dataset.create(rt, { x, y, shape, classes: 10 });
}

describe('training with the activation folds on and off', () => {
  const MODELS: [string, () => Layer[], number[]][] = [
    ['dense relu stack', () => [flatten(), dense(33, 'relu'), dense(17, 'tanh'), dense(13, 'sigmoid'), dense(10, 'softmax')], [5, 9]],
    ['conv → pool → dense', () => [conv2d(3, 3, { activation: 'relu' }), maxPool2d(), flatten(), dense(12, 'relu'), dense(10, 'softmax')], [9, 9, 1]],
    ['conv sigmoid → conv tanh → conv relu → dense', () => [conv2d(4, 3, { activation: 'sigmoid' }), conv2d(4, 3, { activation: 'tanh' }),
      conv2d(5, 3, { activation: 'relu', padding: 'same' }), flatten(), dense(10, 'softmax')], [9, 9, 1]],
  ];
  for (const [name, layers, shape] of MODELS) {
    it(`${name}: the same weights after a few steps`, async () => {
      const data = images(48, shape, 9);
      const train = (on: boolean) => withFold(on, async () => {
        const model = sequential(layers(), { runtime: rt, seed: 5, inputShape: shape });
        model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
        await model.fit(data, { epochs: 2, batchSize: 12, shuffle: false });
        const weights = await model.getWeights();
        model.dispose();
        return weights;
      });
      const [folded, separate] = [await train(true), await train(false)];
      expect(folded.length).toBe(separate.length);
      folded.forEach((t, k) => assertClose(t.values, separate[k]!.values, { atol: 1e-6, rtol: 1e-5, label: `${t.layer}.${t.name}` }));
      data.dispose();
    });
  }

  it('inspectStep reads back every layer\'s output, delta and gradients, the same with the folds on and off', async () => {
    const data = images(16, [6, 6], 3);
    const inspect = (on: boolean) => withFold(on, async () => {
      const model = sequential([flatten(), dense(20, 'relu'), dense(15, 'tanh'), dense(10, 'softmax')], { runtime: rt, seed: 2, inputShape: [6, 6] });
      model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
      const step = await model.inspectStep(data, { batchSize: 8 });
      model.dispose();
      return step;
    });
    const [folded, separate] = [await inspect(true), await inspect(false)];
    expect(folded.layers.map((l) => l.name)).toEqual(separate.layers.map((l) => l.name));
    folded.layers.forEach((layer, i) => {
      const other = separate.layers[i]!;
      assertClose(layer.output.values, other.output.values, { atol: 1e-6, rtol: 1e-5, label: `${layer.name} output` });
      expect(layer.delta?.of).toBe(other.delta?.of);
      if (layer.delta) assertClose(layer.delta.values, other.delta!.values, { atol: 1e-6, rtol: 1e-5, label: `${layer.name} delta` });
      expect(layer.grads.map((g) => g.name)).toEqual(other.grads.map((g) => g.name));
      layer.grads.forEach((g, k) => assertClose(g.values, other.grads[k]!.values, { atol: 1e-6, rtol: 1e-5, label: `${layer.name}.${g.name}` }));
    });
    expect(folded.layers[1]!.delta!.of).toBe('pre-activation');
    data.dispose();
  });
});

describe('dispatches per training step', () => {
  it('s001-dense\'s layers (784-128-64-10 relu): two fewer with the folds on, no relu pass of its own', async () => {
    const data = images(32, [28, 28], 1);
    const labels = (on: boolean) => withFold(on, async () => {
      const model = sequential([flatten(), dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')], { runtime: rt, inputShape: [28, 28] });
      model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
      const { dispatches } = await model.timeStep(data, { batchSize: 32 });
      model.dispose();
      return dispatches.map((d) => d.label);
    });
    const [folded, separate] = [await labels(true), await labels(false)];
    console.info(`s001-dense dispatches per step: ${separate.length} without the folds, ${folded.length} with them`);
    expect(folded.length).toBe(separate.length - 2);
    expect(separate.filter((l) => /relu backward/.test(l))).toHaveLength(2);
    expect(folded.filter((l) => /relu backward/.test(l))).toEqual([]);
    data.dispose();
  });

  it('s004-t2\'s layers (two sigmoid convs): the second conv\'s input gradient applies sigmoid\' (no pass of the first conv\'s own)', async () => {
    const data = images(8, [28, 28, 1], 1);
    const labels = (on: boolean) => withFold(on, async () => {
      const model = sequential([conv2d(8, 5, { activation: 'sigmoid' }), conv2d(8, 5, { activation: 'sigmoid' }), flatten(), dense(16, 'sigmoid'), dense(10, 'softmax')],
        { runtime: rt, inputShape: [28, 28, 1] });
      model.compile({ optimizer: sgd({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
      const { dispatches } = await model.timeStep(data, { batchSize: 8 });
      model.dispose();
      return dispatches.map((d) => d.label);
    });
    const [folded, separate] = [await labels(true), await labels(false)];
    console.info(`s004-t2-like dispatches per step: ${separate.length} without the folds, ${folded.length} with them`);
    expect(separate.filter((l) => /^conv2d \w+ backward$/.test(l))).toEqual(['conv2d sigmoid backward']);
    expect(folded.filter((l) => /sigmoid backward$/.test(l))).toEqual([]);
    // The dense layer's fold saves one; the conv's saves another where its variant has the epilogue
    // (not the flipped route, whose sigmoid' is a pass after its forward conv).
    expect(folded.length).toBeLessThanOrEqual(separate.length - 1);
    data.dispose();
  });
});

/** The demo's settings (demo/web/src/session.ts) without a browser: defaults, overrides and bad input. */
import { describe, expect, it } from 'vitest';
import { checkSettings, defaultSettings, experimentById, initialLearningRate, isTrainable, trainSpec, withLearningRate, type Settings } from '../../demo/web/src/session.js';
import { EXPERIMENTS } from '../../src/experiments/registry.js';
import { exponentialDecay, learningRateAt, sgd } from '../../src/optimizers/optimizers.js';

function trainable(id: string) {
  const e = experimentById(id);
  if (!isTrainable(e)) throw new Error(`${id} is not trainable`);
  return e;
}

const base: Settings = { id: 's001-softmax', cell: null, epochs: 2, batchSize: 32, learningRate: 0.01, trainImages: 100, testImages: 50, seed: 1 };

describe('demo settings', () => {
  it('gives every trainable id (and every sweep cell) defaults its registry entry fixes', () => {
    for (const e of EXPERIMENTS.filter(isTrainable)) {
      const cells = e.kind === 'sweep' ? e.cells.map((c) => c.name) : [null];
      for (const cell of cells) {
        const spec = trainSpec(e, cell);
        for (const slow of [true, false]) {
          const s = defaultSettings(e, cell, slow);
          expect(() => checkSettings(s)).not.toThrow();
          expect(s.batchSize).toBe(spec.batchSize);
          expect(s.learningRate).toBe(initialLearningRate(spec.optimizer()));
          expect(s.cell).toBe(cell);
          if (!slow) expect([s.trainImages, s.testImages, s.epochs]).toEqual([60000, 10000, spec.epochs]);
          else expect(s.trainImages).toBeLessThanOrEqual(6000);
        }
      }
    }
    expect(defaultSettings(trainable('s001-softmax'), null, true)).toMatchObject({ trainImages: 6000, testImages: 1000, epochs: 5 });
  });

  it('overrides the learning rate of a constant and of a decaying schedule, and says so', () => {
    const plain = withLearningRate(sgd({ learningRate: 0.01, momentum: 0.9 }), 0.05);
    expect(plain.schedule).toEqual({ kind: 'constant', learningRate: 0.05 });
    expect(plain.describe()).toBe('SGD(lr=0.05, momentum=0.9)');
    expect(plain.hyper.momentum).toBe(0.9);
    const decaying = withLearningRate(sgd({ learningRate: exponentialDecay({ initialLearningRate: 0.5, decaySteps: 10, decayRate: 0.9 }) }), 0.1);
    expect(learningRateAt(decaying.schedule, 20)).toBeCloseTo(0.1 * 0.81, 12);
    expect(decaying.describe()).toBe('SGD(lr=0.1·0.9^(step/10))');
  });

  it('refuses settings out of range with a message naming the field', () => {
    expect(() => checkSettings({ ...base, epochs: 0 })).toThrow(/^epochs must be a whole number from 1 to 1000; got 0\.$/);
    expect(() => checkSettings({ ...base, batchSize: 2.5 })).toThrow(/^batchSize must be a whole number/);
    expect(() => checkSettings({ ...base, learningRate: Number.NaN })).toThrow(/^learningRate must be a number above 0 and at most 1000; got nothing\.$/);
    expect(() => checkSettings({ ...base, trainImages: 70000 })).toThrow(/^trainImages must be a whole number from 2 to 60000; got 70000\.$/);
    expect(() => checkSettings({ ...base, testImages: -1 })).toThrow(/^testImages/);
    expect(() => trainSpec(trainable('s003-l2'), 'nonsense')).toThrow(/s003-l2 is a sweep: choose one of its cells \(alpha=[^;]+; alpha=/);
    expect(() => experimentById('s999')).toThrow(/Unknown experiment 's999'/);
  });
});

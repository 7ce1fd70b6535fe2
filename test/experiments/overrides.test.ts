import { describe, expect, it } from 'vitest';
import { getExperiment, type NeuralExperiment, type SweepExperiment } from '../../src/experiments/registry.js';
import { firstImages } from '../../src/data/images.js';
import { ignoredByClassic, limitImages, withLearningRate, withSettings } from '../../src/experiments/overrides.js';
import { closestMatches, didYouMean, editDistance } from '../../src/experiments/suggest.js';
import { exponentialDecay, sgd } from '../../src/optimizers/optimizers.js';
import type { ImageSet } from '../../src/data/mnist.js';

describe('run settings', () => {
  it('replace the learning rate and batch size of an entry, and of every cell of a sweep', () => {
    const plain = withSettings(getExperiment('s001-softmax'), { learningRate: 0.2, batchSize: 7 }) as NeuralExperiment;
    expect(plain.train.batchSize).toBe(7);
    expect(plain.train.optimizer().describe()).toMatch(/lr=0\.2\b/);
    expect((getExperiment('s001-softmax') as NeuralExperiment).train.batchSize).toBe(32);
    const sweep = withSettings(getExperiment('s003-opt'), { batchSize: 5 }) as SweepExperiment;
    expect(sweep.cells.every((c) => c.train.batchSize === 5)).toBe(true);
    expect(withSettings(getExperiment('s003-1nn'), { learningRate: 1 })).toBe(getExperiment('s003-1nn'));
    expect(ignoredByClassic({ learningRate: 1, batchSize: 2, trainImages: 3 })).toEqual(['--lr', '--batch-size']);
  });

  it('keep a decaying schedule\'s shape', () => {
    const decaying = withLearningRate(sgd({ learningRate: exponentialDecay({ initialLearningRate: 0.5, decaySteps: 10, decayRate: 0.9 }) }), 0.1);
    expect(decaying.schedule).toMatchObject({ kind: 'exponentialDecay', initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9 });
  });

  it('cut the images to the first N', () => {
    const split: ImageSet = { images: Uint8Array.from({ length: 5 * 4 }, (_, i) => i), labels: Uint8Array.from([0, 1, 2, 3, 4]), count: 5, rows: 2, cols: 2, name: 'x' };
    expect(firstImages(split, 2)).toMatchObject({ count: 2, labels: Uint8Array.from([0, 1]), images: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]) });
    expect(firstImages(split, 9)).toBe(split);
    const both = limitImages({ train: split, test: split }, { testImages: 1 });
    expect([both.train.count, both.test.count]).toEqual([5, 1]);
  });
});

describe('did you mean', () => {
  it('finds a typo within two edits, and nothing for an unrelated word', () => {
    expect(editDistance('s001-sofmax', 's001-softmax')).toBe(1);
    expect(editDistance('s001-sfotmax', 's001-softmax')).toBe(1);
    expect(closestMatches('s001-sofmax', ['s001-softmax', 's001-dense', 's002-ii'])).toEqual(['s001-softmax']);
    expect(didYouMean('s001-sofmax', ['s001-softmax', 's001-dense'])).toBe(' Did you mean s001-softmax?');
    expect(didYouMean('s009-nothing', ['s001-softmax', 's001-dense'])).toBe('');
  });
});

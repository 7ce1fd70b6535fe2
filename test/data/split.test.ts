import { describe, expect, it } from 'vitest';
import { balancedSubset, shuffledSplit, validationSplit } from '../../src/data/split.js';

describe('validationSplit (Keras validation_split)', () => {
  it('60000 with 1/12 gives 55000 / 5000, validation the last 5000', () => {
    const { train, validation } = validationSplit(60000, 1 / 12);
    expect(train.length).toBe(55000);
    expect(validation.length).toBe(5000);
    expect([train[0], train[54999]]).toEqual([0, 54999]);
    expect([validation[0], validation[4999]]).toEqual([55000, 59999]);
  });

  it('follows split_at = floor(count · (1 − fraction))', () => {
    expect(validationSplit(10, 0.25).validation.length).toBe(3); // floor(7.5) = 7 train
    expect(validationSplit(60000, 0.1).train.length).toBe(54000);
    expect(validationSplit(5, 0).validation.length).toBe(0);
  });

  it('rejects fractions outside [0, 1) and splits that leave a side empty', () => {
    expect(() => validationSplit(10, 1)).toThrow(/fraction/);
    expect(() => validationSplit(10, -0.1)).toThrow(/fraction/);
    expect(() => validationSplit(10, 1e-17)).toThrow(/validation set would be empty/);
    expect(() => validationSplit(1, 0.5)).toThrow(/training set would be empty/);
  });
});

describe('shuffledSplit', () => {
  it('has the Keras sizes, covers every index once, and is deterministic per seed', () => {
    const a = shuffledSplit(1000, 0.2, 1);
    expect([a.train.length, a.validation.length]).toEqual([800, 200]);
    const all = [...a.train, ...a.validation].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(a.train)).toEqual([...a.train].sort((x, y) => x - y));
    expect(Array.from(shuffledSplit(1000, 0.2, 1).validation)).toEqual(Array.from(a.validation));
    expect(Array.from(shuffledSplit(1000, 0.2, 2).validation)).not.toEqual(Array.from(a.validation));
    // Not simply the tail.
    expect(a.validation[0]).toBeLessThan(800);
  });
});

describe('balancedSubset', () => {
  const labels = new Uint8Array(1000);
  for (let i = 0; i < labels.length; i++) labels[i] = (i * 7 + (i >> 3)) % 10;

  it('draws perClass of each class, sorted ascending, deterministically per seed', () => {
    const subset = balancedSubset(labels, 20, 5);
    expect(subset.length).toBe(200);
    const counts = new Array<number>(10).fill(0);
    for (const i of subset) counts[labels[i]!]!++;
    expect(counts).toEqual(new Array(10).fill(20));
    expect(new Set(subset).size).toBe(200);
    expect(Array.from(subset)).toEqual([...subset].sort((x, y) => x - y));
    expect(Array.from(balancedSubset(labels, 20, 5))).toEqual(Array.from(subset));
    expect(Array.from(balancedSubset(labels, 20, 6))).not.toEqual(Array.from(subset));
  });

  it('names a class with too few examples', () => {
    expect(() => balancedSubset(new Uint8Array([0, 0, 1, 2, 2]), 2, 1)).toThrow(/class 1 has only 1 examples/);
  });
});

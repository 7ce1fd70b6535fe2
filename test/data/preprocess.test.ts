import { describe, expect, it } from 'vitest';
import { affineFor, featureStats, preprocessCpu } from '../../src/data/preprocess.js';

// 4 examples × 3 features; feature 1 is constant.
const tiny = new Uint8Array([
  10, 7, 255, //
  20, 7, 0, //
  30, 7, 128, //
  45, 7, 1,
]);

describe('featureStats', () => {
  it('matches a direct float64 mean and population std; constant features get std 1', () => {
    const { mean, std } = featureStats(tiny, 4, 3);
    for (let f = 0; f < 3; f++) {
      const column = [0, 1, 2, 3].map((n) => tiny[n * 3 + f]!);
      const m = column.reduce((a, b) => a + b, 0) / 4;
      const variance = column.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
      expect(mean[f]).toBeCloseTo(m, 12);
      expect(std[f]).toBeCloseTo(f === 1 ? 1 : Math.sqrt(variance), 12);
    }
    expect(mean[0]).toBe(26.25);
    expect(std[0]).toBeCloseTo(Math.sqrt(167.1875), 12);
    expect(std[1]).toBe(1);
  });

  it('uses only the first count rows', () => {
    const { mean } = featureStats(tiny, 2, 3);
    expect(Array.from(mean)).toEqual([15, 7, 127.5]);
  });
});

describe('affineFor and preprocessCpu (affine kinds)', () => {
  it("'scale' is x · scale", () => {
    const out = preprocessCpu({ kind: 'scale', scale: 1 / 255 }, tiny, 4, 1, 3);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(12);
    tiny.forEach((x, i) => expect(out[i]).toBeCloseTo(x / 255, 6));
    expect(out[2]).toBe(1);
  });

  it("'raw' is the identity", () => {
    expect(Array.from(preprocessCpu({ kind: 'raw' }, tiny, 4, 1, 3))).toEqual(Array.from(tiny));
  });

  it("'standardize' is (x − mean) / std with the training statistics", () => {
    const stats = featureStats(tiny, 4, 3);
    const affine = affineFor({ kind: 'standardize' }, stats);
    expect(affine.shift[0]).toBeCloseTo(26.25, 5);
    expect(affine.scale[1]).toBe(1);
    const out = preprocessCpu({ kind: 'standardize' }, tiny, 4, 1, 3, stats);
    tiny.forEach((x, i) => {
      const f = i % 3;
      expect(out[i]).toBeCloseTo((x - stats.mean[f]!) / stats.std[f]!, 5);
    });
    // Each standardized non-constant feature has mean 0 and variance 1.
    for (const f of [0, 2]) {
      const column = [0, 1, 2, 3].map((n) => out[n * 3 + f]!);
      expect(column.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(0, 5);
      expect(column.reduce((a, b) => a + b * b, 0) / 4).toBeCloseTo(1, 5);
    }
  });

  it('needs training statistics for standardize, a feature count otherwise, and rejects l2Normalize', () => {
    expect(() => affineFor({ kind: 'standardize' })).toThrow(/standardize' needs the training set's statistics/);
    expect(() => affineFor({ kind: 'scale', scale: 0.5 })).toThrow(/number of features/);
    expect(Array.from(affineFor({ kind: 'scale', scale: 0.5 }, undefined, 2).scale)).toEqual([0.5, 0.5]);
    expect(() => affineFor({ kind: 'l2Normalize', axis: 1 }, undefined, 4)).toThrow(/not a per-feature affine map/);
    expect(() => affineFor({ kind: 'standardize' }, featureStats(tiny, 4, 3), 4)).toThrow(/features = 4/);
  });
});

describe("preprocessCpu 'l2Normalize' (tf.keras.utils.normalize)", () => {
  // Two 2×3 images: [[3, 0, 1], [4, 0, 2]] and all zeros.
  const images = new Uint8Array([3, 0, 1, 4, 0, 2, 0, 0, 0, 0, 0, 0]);

  it('axis 1 divides each column by its norm over the rows', () => {
    const out = preprocessCpu({ kind: 'l2Normalize', axis: 1 }, images, 2, 2, 3);
    const expected = [3 / 5, 0, 1 / Math.sqrt(5), 4 / 5, 0, 2 / Math.sqrt(5), 0, 0, 0, 0, 0, 0];
    expected.forEach((e, i) => expect(out[i]).toBeCloseTo(e, 6));
    expect(out[0]).toBe(Math.fround(0.6));
  });

  it('axis 2 divides each row by its norm over the columns', () => {
    const out = preprocessCpu({ kind: 'l2Normalize', axis: 2 }, images, 2, 2, 3);
    const expected = [3 / Math.sqrt(10), 0, 1 / Math.sqrt(10), 4 / Math.sqrt(20), 0, 2 / Math.sqrt(20), 0, 0, 0, 0, 0, 0];
    expected.forEach((e, i) => expect(out[i]).toBeCloseTo(e, 6));
  });

  it('leaves all-zero lines zero (no NaN)', () => {
    const out = preprocessCpu({ kind: 'l2Normalize', axis: 2 }, images, 2, 2, 3);
    expect(out.every((v) => Number.isFinite(v))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { classificationReport, confusionMatrix, formatClassificationReport, normalizeRows } from '../../src/metrics/classification.js';

// y_true = [0, 1, 2, 2, 2, 1], y_pred = [0, 2, 2, 2, 1, 1]. Worked by hand:
// class 0: tp 1, predicted 1, support 1 → p 1, r 1, f1 1
// class 1: tp 1, predicted 2, support 2 → p 0.5, r 0.5, f1 0.5
// class 2: tp 2, predicted 3, support 3 → p 2/3, r 2/3, f1 2/3
describe('classification metrics', () => {
  const truth = [0, 1, 2, 2, 2, 1];
  const predicted = [0, 2, 2, 2, 1, 1];

  it('counts the confusion matrix and normalises its rows', () => {
    expect(confusionMatrix(truth, predicted, 3)).toEqual([[1, 0, 0], [0, 1, 1], [0, 1, 2]]);
    expect(normalizeRows([[1, 0, 0], [0, 1, 1], [0, 0, 0]])).toEqual([[1, 0, 0], [0, 0.5, 0.5], [0, 0, 0]]);
  });

  it('gives precision, recall, f1, support and the averages', () => {
    const r = classificationReport(truth, predicted, 3);
    expect(r.perClass.map((p) => p.precision)).toEqual([1, 0.5, 2 / 3]);
    expect(r.perClass.map((p) => p.support)).toEqual([1, 2, 3]);
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    expect(r.macro.f1).toBeCloseTo((1 + 0.5 + 2 / 3) / 3, 12);
    expect(r.weighted.recall).toBeCloseTo((1 * 1 + 0.5 * 2 + (2 / 3) * 3) / 6, 12);
    const text = formatClassificationReport(r);
    expect(text).toContain('precision   recall f1-score  support');
    expect(text).toMatch(/weighted avg\s+0\.67\s+0\.67\s+0\.67\s+6/); // (1·1 + 0.5·2 + ⅔·3) / 6 each
  });

  it('gives 0 for a class never predicted, and rejects mismatched lengths', () => {
    expect(classificationReport([0, 1], [0, 0], 2).perClass[1]).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(/1 labels but 2 predictions/);
  });
});

/** Which cell of a sweep is its best: final val_accuracy, a tie broken by final val_loss, then registry order. */
import { describe, expect, it } from 'vitest';
import { bestCell } from '../../src/experiments/runner.js';
import type { RunResult, SweepCell } from '../../src/experiments/result.js';

function cell(name: string, valAccuracy: number[], valLoss: number[]): SweepCell {
  const result = { history: { epoch: valAccuracy.map((_, i) => i), history: { val_accuracy: valAccuracy, val_loss: valLoss } } } as unknown as RunResult;
  return { name, params: {}, result };
}

describe('bestCell', () => {
  it('takes the highest final val_accuracy, not the highest peak', () => {
    const a = cell('a', [0.99, 0.97], [0.05, 0.09]);
    const b = cell('b', [0.96, 0.98], [0.2, 0.3]);
    expect(bestCell([a, b]).name).toBe('b');
  });

  it('breaks a tie in final val_accuracy by the lower final val_loss, whatever the order', () => {
    // Two s003-opt cells, seed 1, full size: both end at 9831 of 10,000 validation images.
    const beta95 = cell('momentum lr=0.01 β=0.95', [0.9831], [0.0947]);
    const beta8 = cell('momentum lr=0.03 β=0.8', [0.9831], [0.0910]);
    expect(bestCell([beta8, beta95]).name).toBe('momentum lr=0.03 β=0.8');
    expect(bestCell([beta95, beta8]).name).toBe('momentum lr=0.03 β=0.8');
  });

  it('keeps the first in order when accuracy and loss both tie', () => {
    const a = cell('a', [0.98], [0.1]);
    const b = cell('b', [0.98], [0.1]);
    expect(bestCell([a, b]).name).toBe('a');
    expect(bestCell([b, a]).name).toBe('b');
  });

  it('ranks a cell without a finite final value last on it', () => {
    const diverged = cell('diverged', [0.98], [Number.NaN]);
    const fine = cell('fine', [0.98], [0.3]);
    expect(bestCell([diverged, fine]).name).toBe('fine');
    const noHistory = cell('none', [], []);
    const low = cell('low', [0.1], [2.3]);
    expect(bestCell([noHistory, low]).name).toBe('low');
  });

  it('names the problem when there is no cell', () => {
    expect(() => bestCell([])).toThrow(/no cells/);
  });
});

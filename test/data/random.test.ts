import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random.js';

function draw(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

describe('Rng', () => {
  it('is xoshiro128**: the reference outputs for state [1, 2, 3, 4]', () => {
    // The first ten outputs of the reference C implementation from s = {1, 2, 3, 4}.
    expect(draw(Rng.fromState([1, 2, 3, 4]), 10)).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('gives the same stream for the same seed and different ones for different seeds', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100));
    expect(draw(new Rng(42), 8)).not.toEqual(draw(new Rng(43), 8));
    expect(draw(new Rng(0), 8)).not.toEqual(draw(new Rng(2 ** 32), 8));
    expect(draw(new Rng(-1), 8)).not.toEqual(draw(new Rng(2 ** 32 - 1), 8));
    expect(() => new Rng(0.5)).toThrow(/safe integer/);
  });

  it('forks: deterministic, independent of draws so far, and different per label', () => {
    const a = new Rng(7);
    const forkBefore = draw(a.fork('init'), 16);
    draw(a, 5);
    expect(draw(a.fork('init'), 16)).toEqual(forkBefore);
    expect(draw(new Rng(7).fork('init'), 16)).toEqual(forkBefore);
    expect(draw(new Rng(7).fork('shuffle'), 16)).not.toEqual(forkBefore);
    expect(draw(new Rng(8).fork('init'), 16)).not.toEqual(forkBefore);
    expect(draw(new Rng(7), 16)).not.toEqual(forkBefore);
    expect(draw(new Rng(7).fork('init').fork('layer1'), 16)).not.toEqual(draw(new Rng(7).fork('init').fork('layer2'), 16));
  });

  it('getState / fromState continue the stream', () => {
    const rng = new Rng(3);
    draw(rng, 7);
    const copy = Rng.fromState(rng.getState());
    expect(draw(copy, 20)).toEqual(draw(rng, 20));
  });

  it('next() is in [0, 1) with mean ≈ 1/2; nextInt is in range and roughly uniform', () => {
    const rng = new Rng(1);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.01);
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.nextInt(7)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('normal() has mean ≈ 0 and variance ≈ 1', () => {
    const rng = new Rng(5);
    const n = 200_000;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSquares += z * z;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sumSquares / n - 1)).toBeLessThan(0.02);
  });

  it('shuffle permutes in place, deterministically per seed', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(9).shuffle([...a]);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(a);
    expect(shuffled).not.toEqual(a);
    expect(new Rng(9).shuffle([...a])).toEqual(shuffled);
    const typed = new Rng(9).shuffle(Uint32Array.from(a));
    expect(Array.from(typed)).toEqual(shuffled);
    expect(Array.from(new Rng(9).permutation(50))).toEqual(shuffled);
  });
});

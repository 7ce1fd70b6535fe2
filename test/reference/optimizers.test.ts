/**
 * Optimizer steps against expectations worked out here, independently of
 * src/reference/optimizers.ts: plain per-element scalar recurrences (sometimes in a
 * different algebraic form) plus a few literal numbers done by hand.
 * Setup everywhere: a 3-element tensor, three steps with fixed gradients.
 */
import { describe, expect, it } from 'vitest';
import {
  assertClose,
  initSlots,
  learningRateAt,
  optimizerStep,
  slotCount,
  type OptimizerHyper,
  type OptimizerKind,
  type Schedule,
} from '../../src/reference/index.js';

const W0 = [1, -2, 0.5];
const GRADS = [
  [0.1, -0.2, 0.3],
  [-0.05, 0.4, 0.1],
  [0.2, 0.1, -0.3],
];

const BASE: OptimizerHyper = {
  lr: 0.1,
  momentum: 0,
  beta1: 0.9,
  beta2: 0.999,
  rho: 0.9,
  epsilon: 1e-7,
  l2: 0,
  weightDecay: 0,
  initialAccumulator: 0.1,
};

/** Runs the reference for three steps; returns w after each step. */
function runReference(kind: OptimizerKind, hyper: OptimizerHyper, lrAt?: (t: number) => number): number[][] {
  const w = Float64Array.from(W0);
  const slots = initSlots(kind, hyper, w.length);
  const out: number[][] = [];
  for (let t = 1; t <= 3; t++) {
    const g = Float64Array.from(GRADS[t - 1]!);
    const gBefore = Array.from(g);
    optimizerStep(kind, lrAt ? { ...hyper, lr: lrAt(t) } : hyper, w, g, slots, t);
    expect(Array.from(g), 'optimizerStep must not modify g').toEqual(gBefore);
    out.push(Array.from(w));
  }
  return out;
}

/**
 * Hand-written expectation: `step(w, g, t, state)` advances one element one step,
 * returning the new w; `state` is a per-element scratch object it owns.
 */
function expected(step: (w: number, g: number, t: number, s: Record<string, number>) => number): number[][] {
  const states = W0.map(() => ({}) as Record<string, number>);
  const w = [...W0];
  const out: number[][] = [];
  for (let t = 1; t <= 3; t++) {
    for (let i = 0; i < 3; i++) w[i] = step(w[i]!, GRADS[t - 1]![i]!, t, states[i]!);
    out.push([...w]);
  }
  return out;
}

function expectTrajectory(actual: number[][], want: number[][], atol: number, label: string): void {
  for (let t = 0; t < 3; t++) assertClose(actual[t]!, want[t]!, { atol, rtol: 0, label: `${label}, step ${t + 1}` });
}

describe('slots', () => {
  it('slotCount per kind, adagrad accumulator starts at initialAccumulator', () => {
    const counts: Record<OptimizerKind, number> = {
      sgd: 0,
      momentum: 1,
      momentumAverage: 1,
      nesterov: 1,
      rmsprop: 2,
      adam: 2,
      adagrad: 1,
      adadelta: 2,
    };
    for (const [k, c] of Object.entries(counts)) expect(slotCount(k as OptimizerKind), k).toBe(c);
    expect(Array.from(initSlots('adagrad', BASE, 3)[0]!)).toEqual([0.1, 0.1, 0.1]);
    expect(Array.from(initSlots('adam', BASE, 2)[1]!)).toEqual([0, 0]);
  });

  it('rejects a wrong number of slots', () => {
    expect(() => optimizerStep('adam', BASE, new Float64Array(3), new Float64Array(3), [new Float64Array(3)], 1)).toThrow(/slots/);
  });
});

describe('optimizer steps (three steps, fixed gradients)', () => {
  it('sgd: literal values', () => {
    // w3 = w0 − 0.1·(g1 + g2 + g3) = [1 − 0.025, −2 − 0.03, 0.5 − 0.01]
    const got = runReference('sgd', BASE);
    assertClose(got[0]!, [0.99, -1.98, 0.47], { atol: 1e-15, rtol: 0, label: 'sgd step 1' });
    assertClose(got[2]!, [0.975, -2.03, 0.49], { atol: 1e-15, rtol: 0, label: 'sgd step 3' });
  });

  it('momentum: v = μv + lr·g; w −= v', () => {
    const hyper = { ...BASE, momentum: 0.9 };
    const got = runReference('momentum', hyper);
    // element 0 by hand: v = 0.01, 0.004, 0.0236 → w = 0.99, 0.986, 0.9624
    assertClose(got.map((w) => w[0]!), [0.99, 0.986, 0.9624], { atol: 1e-15, rtol: 0, label: 'momentum w[0]' });
    const want = expected((w, g, _t, s) => {
      s.v = 0.9 * (s.v ?? 0) + 0.1 * g;
      return w - s.v;
    });
    expectTrajectory(got, want, 1e-15, 'momentum');
  });

  it('momentumAverage: v = μv + (1 − μ)g; w −= lr·v', () => {
    const hyper = { ...BASE, momentum: 0.9 };
    const got = runReference('momentumAverage', hyper);
    // element 0 by hand: v = 0.01, 0.004, 0.0236 → w = 0.999, 0.9986, 0.99624
    assertClose(got.map((w) => w[0]!), [0.999, 0.9986, 0.99624], { atol: 1e-15, rtol: 0, label: 'momentumAverage w[0]' });
    const want = expected((w, g, _t, s) => {
      s.v = 0.9 * (s.v ?? 0) + 0.1 * g;
      return w - 0.1 * s.v;
    });
    expectTrajectory(got, want, 1e-15, 'momentumAverage');
  });

  it('nesterov: equals w += μ²·v_old − (1 + μ)·lr·g', () => {
    const hyper = { ...BASE, momentum: 0.9 };
    const got = runReference('nesterov', hyper);
    const want = expected((w, g, _t, s) => {
      const vOld = s.v ?? 0;
      s.v = 0.9 * vOld - 0.1 * g;
      return w + 0.81 * vOld - 1.9 * 0.1 * g;
    });
    expectTrajectory(got, want, 1e-15, 'nesterov');
    // element 0 step 1 by hand: v = −0.01; w = 1 + 0.9·(−0.01) − 0.01 = 0.981
    expect(got[0]![0]).toBeCloseTo(0.981, 15);
  });

  for (const mu of [0, 0.5]) {
    it(`rmsprop, momentum ${mu}`, () => {
      const hyper = { ...BASE, lr: 0.01, rho: 0.9, momentum: mu };
      const got = runReference('rmsprop', hyper);
      const want = expected((w, g, _t, s) => {
        s.ms = 0.9 * (s.ms ?? 0) + 0.1 * g * g;
        const inc = (0.01 * g) / Math.sqrt(s.ms + 1e-7);
        if (mu === 0) return w - inc;
        s.mom = mu * (s.mom ?? 0) + inc;
        return w - s.mom;
      });
      expectTrajectory(got, want, 1e-15, `rmsprop μ=${mu}`);
      // step 1 by hand: ms = 0.1·g², so inc = 0.01·g/√(0.1 g²) ≈ 0.01·sign(g)·√10
      expect(got[0]![0]).toBeCloseTo(1 - 0.01 * Math.sqrt(10), 5);
    });
  }

  describe('adam', () => {
    const lr = 0.01;
    const b1 = 0.9;
    const b2 = 0.999;

    /**
     * Textbook bias-corrected form: m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t), w −= lr·m̂/(√v̂ + ε̂).
     * Keras uses αt = lr·√(1 − β2^t)/(1 − β1^t) and w −= αt·m/(√v + ε), which is exactly the
     * textbook form with ε̂ = ε/√(1 − β2^t). With `keras = false` we use ε̂ = ε (the paper's
     * placement) and return the worst-case bound on the difference, Σ_t lr·|m̂|·ε̂/v̂
     * (since |a/(s+ε) − a/(s+ε̂)| = |a|·|ε̂ − ε|/((s+ε)(s+ε̂)) ≤ |a|·ε̂/s²).
     */
    function adamByHand(eps: number, keras: boolean, extra: { l2?: number; wd?: number } = {}) {
      const bounds = W0.map(() => 0);
      let element = 0;
      const want = expected((w, g0, t, s) => {
        const g = g0 + 2 * (extra.l2 ?? 0) * w;
        s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
        s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
        const mHat = s.m / (1 - b1 ** t);
        const vHat = s.v / (1 - b2 ** t);
        const epsHat = eps / Math.sqrt(1 - b2 ** t);
        bounds[element % 3] = bounds[element % 3]! + (lr * Math.abs(mHat) * epsHat) / vHat;
        element++;
        return w - (lr * mHat) / (Math.sqrt(vHat) + (keras ? epsHat : eps)) - (extra.wd ?? 0) * w;
      });
      // without l2, m and v do not depend on w, so per-step differences just add up
      return { want, bound: Math.max(...bounds) };
    }

    it('matches the bias-corrected form with Keras ε placement (ε̂ = ε/√(1 − β2^t)) to 1e-15', () => {
      const got = runReference('adam', { ...BASE, lr, beta1: b1, beta2: b2, epsilon: 1e-7 });
      expectTrajectory(got, adamByHand(1e-7, true).want, 1e-15, 'adam keras-ε');
      // step 1 by hand: m̂ = g, v̂ = g², so w −= lr·g/(|g| + ε̂) ≈ lr·sign(g): [0.99, −1.99, 0.49],
      // off by lr·ε̂/|g| ≤ 0.01·(1e-7/√0.001)/0.1 ≈ 3.2e-7
      assertClose(got[0]!, [0.99, -1.99, 0.49], { atol: 3.2e-7, rtol: 0, label: 'adam step 1' });
    });

    it('is within the stated bound of the paper form (ε added to √v̂): ≤ Σ lr·|m̂|·ε̂/v̂ ≈ 1e-6', () => {
      const got = runReference('adam', { ...BASE, lr, beta1: b1, beta2: b2, epsilon: 1e-7 });
      const { want: paper, bound } = adamByHand(1e-7, false);
      expect(bound).toBeLessThan(2e-6); // the tolerance stated in the title, for these gradients
      expect(bound).toBeGreaterThan(1e-7);
      expectTrajectory(got, paper, bound, 'adam paper-ε');
    });

    it('ε placement is observable: with ε = 1e-3 the paper form differs by more than 1e-4', () => {
      const got = runReference('adam', { ...BASE, lr, beta1: b1, beta2: b2, epsilon: 1e-3 });
      expectTrajectory(got, adamByHand(1e-3, true).want, 1e-15, 'adam keras-ε 1e-3');
      const paper = adamByHand(1e-3, false).want;
      expect(Math.abs(got[2]![0]! - paper[2]![0]!)).toBeGreaterThan(1e-4);
    });

    it('with l2 and with weight decay', () => {
      const l2 = 0.05;
      const gotL2 = runReference('adam', { ...BASE, lr, beta1: b1, beta2: b2, l2 });
      expectTrajectory(gotL2, adamByHand(1e-7, true, { l2 }).want, 1e-15, 'adam l2');
      const wd = 0.01;
      const gotWd = runReference('adam', { ...BASE, lr, beta1: b1, beta2: b2, weightDecay: wd });
      expectTrajectory(gotWd, adamByHand(1e-7, true, { wd }).want, 1e-15, 'adam weightDecay');
    });
  });

  it('adagrad: acc starts at initialAccumulator 0.1', () => {
    const got = runReference('adagrad', BASE);
    const want = expected((w, g, _t, s) => {
      s.acc = (s.acc ?? 0.1) + g * g;
      return w - (0.1 * g) / Math.sqrt(s.acc + 1e-7);
    });
    expectTrajectory(got, want, 1e-15, 'adagrad');
    // element 0 step 1 by hand: acc = 0.11, w = 1 − 0.01/√0.11 ≈ 0.969849
    expect(got[0]![0]).toBeCloseTo(1 - 0.01 / Math.sqrt(0.11), 6);
  });

  it('adadelta (lr 1, ρ 0.95)', () => {
    const hyper = { ...BASE, lr: 1, rho: 0.95, epsilon: 1e-6 };
    const got = runReference('adadelta', hyper);
    const rms = (v: number) => Math.sqrt(v + 1e-6);
    const want = expected((w, g, _t, s) => {
      s.eg2 = 0.95 * (s.eg2 ?? 0) + 0.05 * g * g;
      const dx = (-rms(s.ed2 ?? 0) / rms(s.eg2)) * g; // Zeiler's Δx
      s.ed2 = 0.95 * (s.ed2 ?? 0) + 0.05 * dx * dx;
      return w + dx;
    });
    expectTrajectory(got, want, 1e-15, 'adadelta');
    // element 0 step 1 by hand: E[g²] = 0.0005, Δ = −√1e-6/√(0.000501)·0.1 ≈ −0.0044677
    expect(got[0]![0]).toBeCloseTo(1 - (1e-3 / Math.sqrt(0.000501)) * 0.1, 12);
  });
});

describe('regularisation', () => {
  it('sgd with l2: g ← g + 2·l2·w', () => {
    const got = runReference('sgd', { ...BASE, l2: 0.01 });
    // element 0 step 1 by hand: g = 0.1 + 0.02·1 = 0.12 → w = 0.988
    expect(got[0]![0]).toBeCloseTo(0.988, 15);
    const want = expected((w, g) => w - 0.1 * (g + 0.02 * w));
    expectTrajectory(got, want, 1e-15, 'sgd l2');
  });

  it('sgd with weight decay: w −= lr·g + wd·w_old (wd not scaled by lr)', () => {
    const got = runReference('sgd', { ...BASE, weightDecay: 0.01 });
    // element 0 step 1 by hand: 1 − 0.01 − 0.01 = 0.98
    expect(got[0]![0]).toBeCloseTo(0.98, 15);
    const want = expected((w, g) => w * (1 - 0.01) - 0.1 * g);
    expectTrajectory(got, want, 1e-15, 'sgd weightDecay');
  });

  it('momentum with l2 and weight decay together', () => {
    const got = runReference('momentum', { ...BASE, momentum: 0.9, l2: 0.02, weightDecay: 0.005 });
    const want = expected((w, g, _t, s) => {
      s.v = 0.9 * (s.v ?? 0) + 0.1 * (g + 0.04 * w);
      return w - s.v - 0.005 * w;
    });
    expectTrajectory(got, want, 1e-15, 'momentum l2+wd');
  });

  it('rmsprop and adadelta with weight decay', () => {
    const gotR = runReference('rmsprop', { ...BASE, lr: 0.01, weightDecay: 0.1 });
    const wantR = expected((w, g, _t, s) => {
      s.ms = 0.9 * (s.ms ?? 0) + 0.1 * g * g;
      return w - (0.01 * g) / Math.sqrt(s.ms + 1e-7) - 0.1 * w;
    });
    expectTrajectory(gotR, wantR, 1e-15, 'rmsprop wd');
    const gotD = runReference('adadelta', { ...BASE, lr: 1, rho: 0.95, epsilon: 1e-6, weightDecay: 0.02 });
    const wantD = expected((w, g, _t, s) => {
      s.eg2 = 0.95 * (s.eg2 ?? 0) + 0.05 * g * g;
      const step = (Math.sqrt((s.ed2 ?? 0) + 1e-6) / Math.sqrt(s.eg2 + 1e-6)) * g;
      s.ed2 = 0.95 * (s.ed2 ?? 0) + 0.05 * step * step;
      return w - step - 0.02 * w;
    });
    expectTrajectory(gotD, wantD, 1e-15, 'adadelta wd');
  });
});

describe('learning-rate schedules', () => {
  const base = 0.1;
  const smooth: Schedule = { kind: 'exponentialDecay', decaySteps: 2, decayRate: 0.5, staircase: false };
  const stairs: Schedule = { kind: 'exponentialDecay', decaySteps: 2, decayRate: 0.5, staircase: true };

  it('constant', () => {
    for (const t of [1, 2, 100]) expect(learningRateAt(base, { kind: 'constant' }, t)).toBe(base);
  });

  it('exponentialDecay: lr·rate^((t − 1)/steps), by hand', () => {
    // step = t − 1 = 0, 1, 2, 3, 4 → 0.1·0.5^(0, 0.5, 1, 1.5, 2)
    const want = [0.1, 0.1 / Math.SQRT2, 0.05, 0.05 / Math.SQRT2, 0.025];
    assertClose([1, 2, 3, 4, 5].map((t) => learningRateAt(base, smooth, t)), want, { atol: 1e-16, rtol: 1e-15, label: 'smooth' });
  });

  it('exponentialDecay staircase: lr·rate^floor((t − 1)/steps)', () => {
    assertClose([1, 2, 3, 4, 5].map((t) => learningRateAt(base, stairs, t)), [0.1, 0.1, 0.05, 0.05, 0.025], {
      atol: 0,
      rtol: 1e-15,
      label: 'staircase',
    });
  });

  it('sgd over three scheduled steps', () => {
    // staircase lrs 0.1, 0.1, 0.05; element 0: 1 − 0.1·0.1 − 0.1·(−0.05) − 0.05·0.2 = 0.985
    const gotS = runReference('sgd', BASE, (t) => learningRateAt(base, stairs, t));
    expect(gotS[2]![0]).toBeCloseTo(0.985, 15);
    // smooth lrs 0.1, 0.1/√2, 0.05; element 0: 1 − 0.01 + 0.005/√2 − 0.01
    const gotE = runReference('sgd', BASE, (t) => learningRateAt(base, smooth, t));
    expect(gotE[2]![0]).toBeCloseTo(0.98 + 0.005 / Math.SQRT2, 15);
  });
});

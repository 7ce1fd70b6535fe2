/**
 * Every analytic backward in src/reference against central differences of its forward.
 * Layers: scalar objective L = Σ dy_fixed ⊙ forward(...), whose gradient wrt each
 * input is exactly what the backward returns for dy = dy_fixed. Losses: the loss itself.
 * Pass criterion: ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖) < 1e-6.
 */
import { describe, expect, it } from 'vitest';
import {
  activationBackward,
  activationForward,
  binaryCrossEntropyWithLogits,
  conv2dBackward,
  conv2dForward,
  conv2dGeometry,
  denseBackward,
  denseForward,
  dot,
  gradientRelativeError,
  makeRng,
  maxPool2dBackward,
  maxPool2dForward,
  meanSquaredError,
  numericalGradient,
  randomNormalArray,
  randomUniformArray,
  softmaxCrossEntropy,
  type ActivationName,
  type Conv2dShape,
  type Pool2dShape,
  type TestRng as Rng,
} from '../../src/reference/index.js';

const TOL = 1e-6;

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** Fails with the label and the error when the gradients disagree, or when both are (vacuously) zero. */
function expectGradMatch(analytic: ArrayLike<number>, numeric: ArrayLike<number>, label: string): void {
  expect(analytic.length, `${label}: length`).toBe(numeric.length);
  expect(norm(numeric), `${label}: numeric gradient is all zero`).toBeGreaterThan(0);
  const err = gradientRelativeError(analytic, numeric);
  expect(err, `${label}: relative error`).toBeLessThan(TOL);
}

/** Values that are pairwise at least `gap` apart (a shuffled ramp), so max-pool argmax is stable under ±h. */
function distinctValues(rng: Rng, n: number, gap = 0.01): Float64Array {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (order[i]! - n / 2) * gap;
  return a;
}

/** Standard normals pushed away from 0 so no element sits within 1e-2 of the relu kink. */
function awayFromZero(rng: Rng, n: number): Float64Array {
  const a = randomNormalArray(rng, n);
  for (let i = 0; i < n; i++) if (Math.abs(a[i]!) < 1e-2) a[i] = a[i]! < 0 ? -0.5 : 0.5;
  return a;
}

describe('numericalGradient', () => {
  it('differentiates a cubic and leaves its input untouched', () => {
    const x = Float64Array.from([1.5, -2, 0.25]);
    const before = Float64Array.from(x);
    // f = Σ x_i³ + x_0·x_1, ∇f = 3x² + (x_1, x_0, 0)
    const g = numericalGradient((v) => v[0]! ** 3 + v[1]! ** 3 + v[2]! ** 3 + v[0]! * v[1]!, x);
    expect(Array.from(x)).toEqual(Array.from(before));
    const exact = [3 * 1.5 ** 2 - 2, 3 * 4 + 1.5, 3 * 0.0625];
    expect(gradientRelativeError(g, exact)).toBeLessThan(1e-9);
  });
});

describe('dense backward', () => {
  it.each([
    [3, 4, 5],
    [1, 1, 1],
    [4, 7, 2],
  ])('B=%i IN=%i OUT=%i', (B, IN, OUT) => {
    const rng = makeRng(1000 + B * 100 + IN * 10 + OUT);
    const x = randomNormalArray(rng, B * IN);
    const w = randomNormalArray(rng, IN * OUT);
    const b = randomNormalArray(rng, OUT);
    const dy = randomNormalArray(rng, B * OUT);
    const { dx, dw, db } = denseBackward(x, w, dy, B, IN, OUT);
    expectGradMatch(dx, numericalGradient((v) => dot(dy, denseForward(v, w, b, B, IN, OUT)), x), 'dense dx');
    expectGradMatch(dw, numericalGradient((v) => dot(dy, denseForward(x, v, b, B, IN, OUT)), w), 'dense dw');
    expectGradMatch(db, numericalGradient((v) => dot(dy, denseForward(x, w, v, B, IN, OUT)), b), 'dense db');
  });
});

describe('conv2d backward', () => {
  const cases: Conv2dShape[] = [];
  for (const padding of ['valid', 'same'] as const) {
    for (const stride of [1, 2]) {
      for (const [kH, kW] of [
        [3, 3],
        [2, 3],
      ] as const) {
        cases.push({ batch: 2, inH: 5, inW: 7, inC: 2, outC: 3, kH, kW, strideH: stride, strideW: stride, padding });
      }
    }
  }
  // mixed strides and a 1x1 kernel
  cases.push({ batch: 1, inH: 6, inW: 5, inC: 2, outC: 3, kH: 3, kW: 2, strideH: 2, strideW: 1, padding: 'same' });
  cases.push({ batch: 2, inH: 4, inW: 3, inC: 3, outC: 2, kH: 1, kW: 1, strideH: 1, strideW: 2, padding: 'valid' });

  it.each(cases.map((s) => [`${s.padding} ${s.kH}x${s.kW}/${s.strideH}x${s.strideW} on ${s.inH}x${s.inW}`, s] as const))(
    '%s',
    (_name, shape) => {
      const rng = makeRng(7 + shape.kH * 31 + shape.strideH * 7 + (shape.padding === 'same' ? 1 : 0));
      const { outH, outW } = conv2dGeometry(shape);
      const x = randomNormalArray(rng, shape.batch * shape.inH * shape.inW * shape.inC);
      const w = randomNormalArray(rng, shape.kH * shape.kW * shape.inC * shape.outC);
      const b = randomNormalArray(rng, shape.outC);
      const dy = randomNormalArray(rng, shape.batch * outH * outW * shape.outC);
      const { dx, dw, db } = conv2dBackward(x, w, dy, shape);
      expectGradMatch(dx, numericalGradient((v) => dot(dy, conv2dForward(v, w, b, shape)), x), 'conv dx');
      expectGradMatch(dw, numericalGradient((v) => dot(dy, conv2dForward(x, v, b, shape)), w), 'conv dw');
      expectGradMatch(db, numericalGradient((v) => dot(dy, conv2dForward(x, w, v, shape)), b), 'conv db');
    },
  );
});

describe('maxPool2d backward', () => {
  const base = { batch: 2, channels: 2 };
  const cases: [string, Pool2dShape][] = [
    ['2x2/2 valid on 6x5', { ...base, inH: 6, inW: 5, poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: 'valid' }],
    ['3x3/3 valid on 7x7', { ...base, inH: 7, inW: 7, poolH: 3, poolW: 3, strideH: 3, strideW: 3, padding: 'valid' }],
    ['2x2/1 valid (overlapping) on 5x7', { ...base, inH: 5, inW: 7, poolH: 2, poolW: 2, strideH: 1, strideW: 1, padding: 'valid' }],
    ['3x3/2 same on 7x7', { ...base, inH: 7, inW: 7, poolH: 3, poolW: 3, strideH: 2, strideW: 2, padding: 'same' }],
    ['3x3/2 same on 5x6', { ...base, inH: 5, inW: 6, poolH: 3, poolW: 3, strideH: 2, strideW: 2, padding: 'same' }],
    ['2x2/2 same on 5x7', { ...base, inH: 5, inW: 7, poolH: 2, poolW: 2, strideH: 2, strideW: 2, padding: 'same' }],
  ];
  it.each(cases)('%s', (_name, shape) => {
    const rng = makeRng(99 + shape.poolH * 10 + shape.strideH + shape.inW);
    const x = distinctValues(rng, shape.batch * shape.inH * shape.inW * shape.channels);
    const { out, argmax } = maxPool2dForward(x, shape);
    const dy = randomNormalArray(rng, out.length);
    const dx = maxPool2dBackward(dy, argmax, shape);
    expectGradMatch(dx, numericalGradient((v) => dot(dy, maxPool2dForward(v, shape).out), x), 'maxpool dx');
  });
});

describe('activation backward', () => {
  const names: ActivationName[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'];
  const B = 4;
  const C = 5;
  it.each(names)('%s', (name) => {
    const rng = makeRng(name.length * 17 + 3);
    const x = awayFromZero(rng, B * C);
    const dy = randomNormalArray(rng, B * C);
    const y = activationForward(name, x, C);
    const dx = activationBackward(name, y, dy, C);
    expectGradMatch(dx, numericalGradient((v) => dot(dy, activationForward(name, v, C)), x), name);
  });

  it('leakyRelu with alpha 0.1', () => {
    const rng = makeRng(5);
    const x = awayFromZero(rng, 12);
    const dy = randomNormalArray(rng, 12);
    const y = activationForward('leakyRelu', x, 12, 0.1);
    const dx = activationBackward('leakyRelu', y, dy, 12, 0.1);
    expectGradMatch(dx, numericalGradient((v) => dot(dy, activationForward('leakyRelu', v, 12, 0.1)), x), 'leakyRelu 0.1');
  });

  it('softmax with large logits (stability) and single-column rows', () => {
    const rng = makeRng(6);
    const x = randomNormalArray(rng, 12, 1).map((v) => v + 800); // e^800 would overflow without the max shift
    const dy = randomNormalArray(rng, 12);
    const y = activationForward('softmax', x, 4);
    for (const v of y) expect(Number.isFinite(v)).toBe(true);
    const dx = activationBackward('softmax', y, dy, 4);
    expectGradMatch(dx, numericalGradient((v) => dot(dy, activationForward('softmax', v, 4)), x), 'softmax large');
    // one column: softmax ≡ 1, gradient ≡ 0
    expect(Array.from(activationForward('softmax', [3, -2], 1))).toEqual([1, 1]);
    expect(Array.from(activationBackward('softmax', [1, 1], [5, 7], 1))).toEqual([0, 0]);
  });
});

describe('loss gradients', () => {
  const B = 5;
  const C = 4;

  function expectPaddingRowsZero(grad: Float64Array, validRows: number, cols: number, label: string): void {
    for (let i = validRows * cols; i < grad.length; i++) expect(grad[i], `${label}: padding grad [${i}]`).toBe(0);
  }

  for (const validRows of [B, 3]) {
    it(`softmaxCrossEntropy sparse, validRows ${validRows}`, () => {
      const rng = makeRng(11 + validRows);
      const z = randomNormalArray(rng, B * C, 2);
      const labels = Uint32Array.from({ length: B }, () => rng.int(C));
      const { dlogits } = softmaxCrossEntropy(z, labels, B, C, validRows);
      expectGradMatch(dlogits, numericalGradient((v) => softmaxCrossEntropy(v, labels, B, C, validRows).loss, z), 'sce sparse');
      expectPaddingRowsZero(dlogits, validRows, C, 'sce sparse');
    });

    it(`softmaxCrossEntropy dense one-hot and soft, validRows ${validRows}`, () => {
      const rng = makeRng(21 + validRows);
      const z = randomNormalArray(rng, B * C, 2);
      const oneHot = new Float64Array(B * C);
      for (let r = 0; r < B; r++) oneHot[r * C + rng.int(C)] = 1;
      const soft = randomUniformArray(rng, B * C, 0.05, 1);
      for (let r = 0; r < B; r++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += soft[r * C + c]!;
        for (let c = 0; c < C; c++) soft[r * C + c] = soft[r * C + c]! / s;
      }
      const unnormalised = randomUniformArray(rng, B * C, 0, 2); // rows do not sum to 1: exact gradient is p·Σt − t
      for (const [label, t] of [
        ['one-hot', oneHot],
        ['soft', soft],
        ['unnormalised', unnormalised],
      ] as const) {
        const { dlogits } = softmaxCrossEntropy(z, t, B, C, validRows);
        expectGradMatch(dlogits, numericalGradient((v) => softmaxCrossEntropy(v, t, B, C, validRows).loss, z), `sce ${label}`);
        expectPaddingRowsZero(dlogits, validRows, C, `sce ${label}`);
      }
    });

    it(`binaryCrossEntropyWithLogits, validRows ${validRows}`, () => {
      const rng = makeRng(31 + validRows);
      const z = randomNormalArray(rng, B, 3);
      const hard = Float64Array.from({ length: B }, () => (rng.next() < 0.5 ? 0 : 1));
      const soft = randomUniformArray(rng, B, 0, 1);
      for (const t of [hard, soft]) {
        const { dz } = binaryCrossEntropyWithLogits(z, t, B, validRows);
        expectGradMatch(dz, numericalGradient((v) => binaryCrossEntropyWithLogits(v, t, B, validRows).loss, z), 'bce');
        expectPaddingRowsZero(dz, validRows, 1, 'bce');
      }
    });

    it(`meanSquaredError, validRows ${validRows}`, () => {
      const rng = makeRng(41 + validRows);
      const y = randomNormalArray(rng, B * C);
      const t = randomNormalArray(rng, B * C);
      const { dy } = meanSquaredError(y, t, B, C, validRows);
      expectGradMatch(dy, numericalGradient((v) => meanSquaredError(v, t, B, C, validRows).loss, y), 'mse');
      expectPaddingRowsZero(dy, validRows, C, 'mse');
    });
  }

  it('padding rows do not change the loss; the mean divides by validRows', () => {
    const rng = makeRng(51);
    const z = randomNormalArray(rng, B * C);
    const z2 = Float64Array.from(z);
    for (let i = 3 * C; i < B * C; i++) z2[i] = 100 * rng.normal();
    const labels = Uint32Array.from([0, 1, 2, 3, 0]);
    expect(softmaxCrossEntropy(z2, labels, B, C, 3).loss).toBe(softmaxCrossEntropy(z, labels, B, C, 3).loss);
    // mean over 3 rows = (sum of the 3 single-row losses) / 3
    let sum = 0;
    for (let r = 0; r < 3; r++) sum += softmaxCrossEntropy(z.subarray(r * C, r * C + C), labels.subarray(r, r + 1), 1, C).loss;
    expect(softmaxCrossEntropy(z, labels, B, C, 3).loss).toBeCloseTo(sum / 3, 14);

    const y = randomNormalArray(rng, B * C);
    const t = randomNormalArray(rng, B * C);
    const y2 = Float64Array.from(y);
    y2[B * C - 1] = 1e3;
    expect(meanSquaredError(y2, t, B, C, 4).loss).toBe(meanSquaredError(y, t, B, C, 4).loss);
    expect(binaryCrossEntropyWithLogits(y2.subarray(0, B), t.subarray(0, B), B, 0).loss).toBe(0);
  });

  it('softmaxCrossEntropy: known value, correct count, argmax ties to lowest index', () => {
    // logits row 0 uniform over 4 classes: loss = log 4 for any label; argmax tie → class 0
    const z = Float64Array.from([1, 1, 1, 1, 0, 5, 0, 0]);
    const r1 = softmaxCrossEntropy(z, Uint32Array.from([0, 1]), 2, 4);
    expect(r1.correct).toBe(2);
    const r2 = softmaxCrossEntropy(z, Uint32Array.from([2, 1]), 2, 4);
    expect(r2.correct).toBe(1);
    const row1 = Math.log(3 + Math.exp(5)) - 5;
    expect(r2.loss).toBeCloseTo((Math.log(4) + row1) / 2, 14);
    // dense targets: label = argmax of targets (tie → lowest index)
    const t = Float64Array.from([0.25, 0.25, 0.25, 0.25, 0, 0.6, 0.4, 0]);
    expect(softmaxCrossEntropy(z, t, 2, 4).correct).toBe(2);
    expect(softmaxCrossEntropy(z, t, 2, 4, 1).correct).toBe(1);
  });

  it('softmaxCrossEntropy is stable for huge logits', () => {
    const z = Float64Array.from([1e4, 0, -1e4]);
    expect(softmaxCrossEntropy(z, Uint32Array.from([0]), 1, 3).loss).toBe(0);
    expect(softmaxCrossEntropy(z, Uint32Array.from([1]), 1, 3).loss).toBeCloseTo(1e4, 8);
    const { dlogits } = softmaxCrossEntropy(z, Uint32Array.from([1]), 1, 3);
    expect(Array.from(dlogits)).toEqual([1, -1, 0]);
  });

  it('binaryCrossEntropyWithLogits: correct count', () => {
    const z = Float64Array.from([2, -1, 0, 0.5]);
    const t = Float64Array.from([1, 0, 1, 0.4]);
    // (2>0)==(1>0.5) ✓; (−1>0)==(0>0.5) ✓; (0>0)==(1>0.5) ✗; (0.5>0)==(0.4>0.5) ✗
    expect(binaryCrossEntropyWithLogits(z, t, 4).correct).toBe(2);
    expect(binaryCrossEntropyWithLogits(z, t, 4).loss).toBeCloseTo(
      (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(-1)) + Math.log(2) + (0.5 - 0.2 + Math.log1p(Math.exp(-0.5)))) / 4,
      14,
    );
  });

  it('BCE stability: z = w·x with w = [1000], x = [1000]', () => {
    const x = Float64Array.from([1000]);
    const w = Float64Array.from([1000]);
    const b = Float64Array.from([0]);
    const z = denseForward(x, w, b, 1, 1, 1);
    expect(z[0]).toBe(1e6);

    const off = binaryCrossEntropyWithLogits(z, Float64Array.from([0]), 1);
    expect(off.loss).toBe(1e6);
    expect(denseBackward(x, w, off.dz, 1, 1, 1).dw[0]).toBe(1000);
    expect(off.correct).toBe(0);

    const on = binaryCrossEntropyWithLogits(z, Float64Array.from([1]), 1);
    expect(on.loss).toBe(0);
    expect(denseBackward(x, w, on.dz, 1, 1, 1).dw[0]).toBe(0);
    expect(on.correct).toBe(1);

    // and the mirror image z = −1e6
    const neg = binaryCrossEntropyWithLogits(Float64Array.from([-1e6]), Float64Array.from([1]), 1);
    expect(neg.loss).toBe(1e6);
    expect(neg.dz[0]).toBe(-1);
  });
});

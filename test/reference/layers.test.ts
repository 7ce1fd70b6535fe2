/**
 * Hand-computed sanity checks of the forward passes and geometry, plus the
 * helpers (assertClose, PRNG).
 */
import { describe, expect, it } from 'vitest';
import {
  activationForward,
  assertClose,
  conv2dForward,
  conv2dGeometry,
  denseForward,
  makeRng,
  maxAbsDiff,
  maxPool2dBackward,
  maxPool2dForward,
  windowGeometry,
  type Conv2dShape,
  type Pool2dShape,
} from '../../src/reference/index.js';

const X3 = [1, 2, 3, 4, 5, 6, 7, 8, 9]; // 3x3 image, one channel: rows [1 2 3] [4 5 6] [7 8 9]

function conv1(inH: number, inW: number, k: number, stride: number, padding: 'valid' | 'same', kW = k): Conv2dShape {
  return { batch: 1, inH, inW, inC: 1, outC: 1, kH: k, kW, strideH: stride, strideW: stride, padding };
}

describe('window geometry (TensorFlow rule)', () => {
  it('same, stride 2 on 28 → 14', () => {
    expect(windowGeometry(28, 3, 2, 'same')).toEqual({ out: 14, padBefore: 0 }); // pad = 13·2 + 3 − 28 = 1 → 0 before
    expect(conv2dGeometry(conv1(28, 28, 3, 2, 'same'))).toEqual({ outH: 14, outW: 14, padTop: 0, padLeft: 0 });
  });
  it("valid 28 with k 5 → 24", () => {
    expect(conv2dGeometry(conv1(28, 28, 5, 1, 'valid'))).toEqual({ outH: 24, outW: 24, padTop: 0, padLeft: 0 });
  });
  it("same on 7 with k 3 stride 2 → 4, padTop 1", () => {
    expect(conv2dGeometry(conv1(7, 7, 3, 2, 'same'))).toEqual({ outH: 4, outW: 4, padTop: 1, padLeft: 1 });
  });
  it('more cases: same stride 1 keeps size; valid floors; extra padding goes after', () => {
    expect(windowGeometry(5, 3, 1, 'same')).toEqual({ out: 5, padBefore: 1 });
    expect(windowGeometry(4, 2, 1, 'same')).toEqual({ out: 4, padBefore: 0 }); // pad 1, all after
    expect(windowGeometry(6, 4, 1, 'same')).toEqual({ out: 6, padBefore: 1 }); // pad 3: 1 before, 2 after
    expect(windowGeometry(7, 2, 2, 'valid')).toEqual({ out: 3, padBefore: 0 });
    expect(windowGeometry(6, 3, 3, 'same')).toEqual({ out: 2, padBefore: 0 }); // pad 0
    expect(() => windowGeometry(2, 3, 1, 'valid')).toThrow();
  });
});

describe('conv2d forward, by hand', () => {
  it('3x3 Sobel kernel, valid, on the 3x3 image: −8 + bias', () => {
    // (1·1 + 2·4 + 1·7) − (1·3 + 2·6 + 1·9) = 16 − 24 = −8
    const w = [1, 0, -1, 2, 0, -2, 1, 0, -1];
    expect(Array.from(conv2dForward(X3, w, [0.5], conv1(3, 3, 3, 1, 'valid')))).toEqual([-7.5]);
  });

  it('3x3 ones kernel, same: neighbourhood sums', () => {
    const out = conv2dForward(X3, new Array(9).fill(1), [0], conv1(3, 3, 3, 1, 'same'));
    expect(Array.from(out)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28]);
  });

  it('3x3 ones kernel, same, stride 2: OH = 2, pad 1 before and 1 after', () => {
    // windows rows/cols {−1..1} and {1..3}
    const out = conv2dForward(X3, new Array(9).fill(1), [0], conv1(3, 3, 3, 2, 'same'));
    expect(Array.from(out)).toEqual([12, 16, 24, 28]);
  });

  it('2x2 ones kernel, same, on 4x4: the odd padding cell goes to the bottom/right', () => {
    const x = Array.from({ length: 16 }, (_, i) => i + 1);
    const out = conv2dForward(x, [1, 1, 1, 1], [0], conv1(4, 4, 2, 1, 'same'));
    expect(out[0]).toBe(1 + 2 + 5 + 6);
    expect(out[3]).toBe(4 + 8); // right edge: only column 3 is real
    expect(out[15]).toBe(16); // bottom-right: only x[3, 3] is real
  });

  it('two input and two output channels, 2x1 kernel, valid, stride 1 (weight layout KH, KW, CIN, COUT)', () => {
    // x (1, 2, 1, 2): position 0 = (1, 10), position 1 = (2, 20)
    const x = [1, 10, 2, 20];
    // w[kh, 0, ci, co]: kh 0: ci0 → (1, 0), ci1 → (0, 1);  kh 1: ci0 → (3, 0), ci1 → (0, −1)
    const w = [1, 0, 0, 1, 3, 0, 0, -1];
    const shape: Conv2dShape = { batch: 1, inH: 2, inW: 1, inC: 2, outC: 2, kH: 2, kW: 1, strideH: 1, strideW: 1, padding: 'valid' };
    // co 0: 1·1 + 3·2 = 7 (+100); co 1: 10·1 + 20·(−1) = −10 (+200)
    expect(Array.from(conv2dForward(x, w, [100, 200], shape))).toEqual([107, 190]);
  });

  it('a 1x1 convolution is a dense layer on every pixel', () => {
    const rng = makeRng(3);
    const x = Array.from({ length: 2 * 3 * 2 * 4 }, () => rng.normal());
    const w = Array.from({ length: 4 * 5 }, () => rng.normal());
    const b = [1, 2, 3, 4, 5];
    const shape: Conv2dShape = { batch: 2, inH: 3, inW: 2, inC: 4, outC: 5, kH: 1, kW: 1, strideH: 1, strideW: 1, padding: 'same' };
    assertClose(conv2dForward(x, w, b, shape), denseForward(x, w, b, 12, 4, 5), { atol: 1e-14, rtol: 0, label: '1x1 conv' });
  });
});

describe('maxPool2d forward, by hand', () => {
  const pool = (inH: number, inW: number, k: number, s: number, padding: 'valid' | 'same', channels = 1): Pool2dShape => ({
    batch: 1,
    inH,
    inW,
    channels,
    poolH: k,
    poolW: k,
    strideH: s,
    strideW: s,
    padding,
  });

  it('2x2/2 valid on 3x3 and 2x2/1 overlapping', () => {
    const a = maxPool2dForward(X3, pool(3, 3, 2, 2, 'valid'));
    expect([a.outH, a.outW, ...a.out, ...a.argmax]).toEqual([1, 1, 5, 4]);
    const b = maxPool2dForward(X3, pool(3, 3, 2, 1, 'valid'));
    expect(Array.from(b.out)).toEqual([5, 6, 8, 9]);
    expect(Array.from(b.argmax)).toEqual([4, 5, 7, 8]);
  });

  it('argmax indexes one sample, (ih·W + iw)·C + c, and backward accumulates overlaps', () => {
    // 2 samples, 2x2 image, 2 channels; channel 1 is the negation of channel 0
    const s0 = [1, -1, 4, -4, 3, -3, 2, -2];
    const s1 = [0, 0, 5, 5, 7, 7, 6, 6]; // channel 1 ties everywhere in pairs with channel 0
    const shape = { ...pool(2, 2, 2, 2, 'valid', 2), batch: 2 };
    const r = maxPool2dForward([...s0, ...s1], shape);
    expect(Array.from(r.out)).toEqual([4, -1, 7, 7]);
    expect(Array.from(r.argmax)).toEqual([(0 * 2 + 1) * 2 + 0, (0 * 2 + 0) * 2 + 1, (1 * 2 + 0) * 2 + 0, (1 * 2 + 0) * 2 + 1]);
    const dx = maxPool2dBackward([10, 20, 30, 40], r.argmax, shape);
    expect(Array.from(dx)).toEqual([0, 20, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 30, 40, 0, 0]);

    // overlapping 2x2/1 windows on 3x3 with the max in the centre: it collects all four
    const centre = [0, 0, 0, 0, 9, 0, 0, 0, 0];
    const o = maxPool2dForward(centre, pool(3, 3, 2, 1, 'valid'));
    expect(Array.from(o.argmax)).toEqual([4, 4, 4, 4]);
    expect(maxPool2dBackward([1, 2, 3, 4], o.argmax, pool(3, 3, 2, 1, 'valid'))[4]).toBe(10);
  });

  it('ties go to the first cell in scan order (kh outer, kw inner)', () => {
    const r = maxPool2dForward([2, 2, 2, 2], pool(2, 2, 2, 2, 'valid'));
    expect(r.argmax[0]).toBe(0);
    const r2 = maxPool2dForward([1, 3, 3, 0], pool(2, 2, 2, 2, 'valid'));
    expect(r2.argmax[0]).toBe(1); // (0, 1) before (1, 0)
  });

  it("'same' 3x3/2 on all-negative input: padded cells never win", () => {
    const x = X3.map((v) => -v);
    const r = maxPool2dForward(x, pool(3, 3, 3, 2, 'same'));
    // OH = 2, pad 2 → 1 before; windows {−1..1} and {1..3}
    expect(Array.from(r.out)).toEqual([-1, -2, -4, -5]);
    expect(Array.from(r.argmax)).toEqual([0, 1, 3, 4]);
  });
});

describe('activations, by hand', () => {
  it('values', () => {
    expect(Array.from(activationForward('relu', [-1, 0, 2], 3))).toEqual([0, 0, 2]);
    expect(Array.from(activationForward('leakyRelu', [-1, 2], 2))).toEqual([-0.3, 2]);
    expect(Array.from(activationForward('sigmoid', [0, -1000, 1000], 3))).toEqual([0.5, 0, 1]);
    const sm = activationForward('softmax', [0, Math.log(3), 5, 5], 2);
    assertClose(sm, [0.25, 0.75, 0.5, 0.5], { atol: 1e-15, rtol: 0, label: 'softmax' });
  });
});

describe('assertClose and maxAbsDiff', () => {
  it('passes within atol + rtol·|e|', () => {
    expect(() => assertClose([1.0001, 100.01], [1, 100], { atol: 1e-3, rtol: 1e-4 })).not.toThrow();
    expect(() => assertClose([Infinity], [Infinity], { atol: 0, rtol: 0 })).not.toThrow();
  });

  it('reports label, count, worst diff and the first 8 mismatches; NaN never passes', () => {
    const actual = Array.from({ length: 12 }, (_, i) => i + 1);
    const expected = Array.from({ length: 12 }, (_, i) => i);
    actual[11] = NaN;
    let message = '';
    try {
      assertClose(actual, expected, { atol: 0.5, rtol: 0, label: 'my tensor' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('my tensor');
    expect(message).toContain('12 of 12');
    expect(message).toContain('worst |diff| NaN');
    expect(message).toContain('[7] actual 8, expected 7');
    expect(message).not.toContain('[8]');
    expect(() => assertClose([NaN], [NaN], { atol: 1, rtol: 1 })).toThrow();
    expect(() => assertClose([1, 2], [1], {})).toThrow(/length/);
  });

  it('maxAbsDiff', () => {
    expect(maxAbsDiff([1, 2, 3], [1, 2.5, 2])).toBe(1);
    expect(maxAbsDiff([NaN], [0])).toBeNaN();
  });
});

describe('makeRng', () => {
  it('is deterministic per seed, uniform in [0, 1), normal has mean ≈ 0 and variance ≈ 1', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    const c = makeRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(sa).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(sa).not.toEqual(Array.from({ length: 5 }, () => c.next()));
    const r = makeRng(7);
    let sum = 0;
    let sum2 = 0;
    let outOfRange = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outOfRange++;
      const z = r.normal();
      sum += z;
      sum2 += z * z;
    }
    expect(outOfRange).toBe(0);
    expect(Math.abs(sum / n)).toBeLessThan(0.05);
    expect(Math.abs(sum2 / n - 1)).toBeLessThan(0.05);
  });
});

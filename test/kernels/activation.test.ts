/**
 * Activation kernels (shaders/activation.wgsl, shaders/lib/activation_fn.wgsl)
 * against src/reference/activations.ts: every elementwise activation forward
 * and backward, softmax over rows of 10, and far-out inputs (±100) that must
 * not turn into NaN.
 */
import { describe, expect, it } from 'vitest';
import { activationBackward, activationForward } from '../../src/ops/activation.js';
import type { ActivationSpec } from '../../src/ops/common.js';
import {
  activationBackward as activationBackwardRef,
  activationForward as activationForwardRef,
} from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

const ROWS = 7;
const COLS = 10;
const COUNT = ROWS * COLS;

const SPECS: ActivationSpec[] = [
  { name: 'linear' },
  { name: 'relu' },
  { name: 'leakyRelu', alpha: 0.1 },
  { name: 'leakyRelu' }, // the default slope, 0.3
  { name: 'sigmoid' },
  { name: 'tanh' },
  { name: 'softmax' },
];

/** Seeded normals times 3, with far-out values and zeros planted at fixed places. */
function inputs(seed: number, count = COUNT): Float32Array {
  const x = normalF32(makeRng(seed), count, 3);
  const planted: [number, number][] = [
    [0, 100], [1, -100], [2, 0], [13, 30], [14, -30], [25, -89], [26, 89], [37, 20.5], [38, -20.5],
    // A whole row with one huge logit, and one with two equal huge ones.
    [40, 100], [55, 100], [56, 100], [57, -100],
  ];
  for (const [i, v] of planted) x[i] = v;
  return x;
}

function specName(s: ActivationSpec): string {
  return s.alpha !== undefined ? `${s.name} (alpha ${s.alpha})` : s.name;
}

describe('activation kernels', () => {
  // 7 rows: 70 values, the f32 kernels; 8 rows: 80 values, the vec4 ones.
  for (const rows of [ROWS, ROWS + 1]) SPECS.forEach((spec, index) => {
    const count = rows * COLS;
    it(`${specName(spec)} forward and backward, ${rows}x${COLS} with ±100`, async () => {
      const r = rt();
      const x = inputs(5000 + index, count);
      const dy = normalF32(makeRng(5100 + index), count);
      const s = { count: count, columns: COLS };
      const inp = r.storage(x, 'x');
      const out = outputF32(r, count, 'y');
      // The backward runs on the reference output rounded to f32, so it is
      // checked on its own, not through the forward's rounding.
      const yRef = activationForwardRef(spec.name, x, COLS, spec.alpha);
      const y = Float32Array.from(yRef);
      const yBuffer = r.storage(y, 'y ref');
      const grad = r.storage(dy, 'grad');
      const forward = await activationForward(r, spec, s, { inp, out });
      const backward = await activationBackward(r, spec, s, { y: yBuffer, grad });
      const vec4 = spec.name !== 'softmax' && count % 4 === 0 ? '4' : '';
      expect(forward.kernel.spec.name).toBe(`${spec.name === 'softmax' ? 'softmax' : 'activation'}_forward${vec4}`);
      expect(backward.kernel.spec.name).toBe(`${spec.name === 'softmax' ? 'softmax' : 'activation'}_backward${vec4}`);
      r.submit([forward, backward]);
      const gotY = await r.readF32(out, count);
      const gotDx = await r.readF32(grad, count);
      expect(gotY.every(Number.isFinite), 'forward output is finite').toBe(true);
      expect(gotDx.every(Number.isFinite), 'backward output is finite').toBe(true);
      assertClose(gotY, yRef, { ...TOL, label: `${specName(spec)} forward` });
      assertClose(gotDx, activationBackwardRef(spec.name, y, dy, COLS, spec.alpha), { ...TOL, label: `${specName(spec)} backward` });
      if (spec.name === 'softmax') {
        for (let row = 0; row < ROWS; row++) {
          let sum = 0;
          for (let c = 0; c < COLS; c++) sum += gotY[row * COLS + c]!;
          expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
        }
      }
      expectNoGpuErrors(r);
      for (const buffer of [inp, out, yBuffer, grad]) r.pool.release(buffer);
    });
  });

  it('sigmoid and tanh saturate exactly at ±100', async () => {
    const r = rt();
    const x = new Float32Array([100, -100, 1e6, -1e6]);
    const s = { count: 4, columns: 1 };
    const inp = r.storage(x, 'x');
    const sig = outputF32(r, 4, 'sigmoid');
    const tanh = outputF32(r, 4, 'tanh');
    r.submit([
      await activationForward(r, { name: 'sigmoid' }, s, { inp, out: sig }),
      await activationForward(r, { name: 'tanh' }, s, { inp, out: tanh }),
    ]);
    expect(Array.from(await r.readF32(sig, 4))).toEqual([1, 0, 1, 0]);
    expect(Array.from(await r.readF32(tanh, 4))).toEqual([1, -1, 1, -1]);
    for (const buffer of [inp, sig, tanh]) r.pool.release(buffer);
  });

  it('elementwise kernels past 65,535 workgroups (2-D grid)', async () => {
    const r = rt();
    const count = 65535 * 64 + 37;
    const x = new Float32Array(count);
    for (let i = 0; i < count; i++) x[i] = (i % 7) - 3;
    const s = { count, columns: 1 };
    const inp = r.storage(x, 'x');
    const out = outputF32(r, count, 'y');
    r.submit([await activationForward(r, { name: 'relu' }, s, { inp, out })]);
    const got = await r.readF32(out, count);
    let bad = -1;
    for (let i = 0; i < count; i++) {
      if (got[i] !== Math.max(x[i]!, 0)) {
        bad = i;
        break;
      }
    }
    expect(bad, `first wrong element ${bad}: ${got[bad]}`).toBe(-1);
    r.pool.release(inp);
    r.pool.release(out);
  });
});

/**
 * The workgroup-memory GEMM variants of the dense products (shaders/gemm.wgsl,
 * gemm_reduce.wgsl) against the f64 twins in src/reference/dense.ts, on shapes
 * that are and are not multiples of the 64×64 tile and the 16-long K step,
 * and with K cut into slices (split K) where the shape allows.
 */
import { describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../../src/ops/common.js';
import {
  denseBackwardInputList, denseBackwardWeightList, denseForwardList, gemmSplit, type GemmVariant,
} from '../../src/ops/dense.js';
import { activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { denseBackward, denseForward as denseForwardRef } from '../../src/reference/dense.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

type Shape = [B: number, IN: number, OUT: number];
const SHAPES: Shape[] = [
  [1, 1, 1],
  [3, 17, 33],
  [65, 70, 129],
  [32, 784, 128],
  [7, 300, 10],
  [130, 16, 64],
  [129, 200, 130],
  [256, 40, 256],
];

const ACTIVATIONS: ActivationSpec[] = [{ name: 'linear' }, { name: 'relu' }, { name: 'sigmoid' }];

describe('gemm', () => {
  it('split K applies to skinny products with a long K, not to wide or short ones', () => {
    expect(gemmSplit({ M: 32, N: 128, K: 784 })).toBeGreaterThan(1);
    expect(gemmSplit({ M: 1024, N: 1024, K: 1024 })).toBe(1); // 256 tiles
    expect(gemmSplit({ M: 32, N: 128, K: 32 })).toBe(1);
    expect(gemmSplit({ M: 784, N: 128, K: 32 })).toBe(1); // the weight gradient at batch 32: K too short
    // every slice at least 32 long
    for (const K of [64, 100, 784, 5000]) expect(K / gemmSplit({ M: 8, N: 8, K })).toBeGreaterThanOrEqual(32);
  });

  for (const [B, IN, OUT] of SHAPES) {
    for (const variant of ['gemm', 'gemm-splitk', 'gemm128'] as GemmVariant[]) {
      const splitForward = gemmSplit({ M: B, N: OUT, K: IN }) > 1;
      it(`${variant}: forward, backward input and weight, (B, IN, OUT) = (${B}, ${IN}, ${OUT})`, async (ctx) => {
        const r = rt();
        const rng = makeRng(3000 + B * 7 + IN * 13 + OUT);
        const x = normalF32(rng, B * IN);
        const w = normalF32(rng, IN * OUT, 1 / Math.sqrt(IN));
        const b = normalF32(rng, OUT, 0.5);
        const dy = normalF32(rng, B * OUT);
        const [inp, weight, bias, dout] = [x, w, b, dy].map((d, i) => r.storage(d, `in ${i}`));
        const out = outputF32(r, B * OUT, 'out');
        const dinp = outputF32(r, B * IN, 'dx');
        const dweight = outputF32(r, IN * OUT, 'dw');
        const dbias = outputF32(r, OUT, 'db');
        const scratch: GPUBuffer[] = [];
        const alloc = (elements: number, name: string) => {
          const buffer = r.storage(elements * 4, name);
          scratch.push(buffer);
          return buffer;
        };
        const s = { batch: B, inputs: IN, units: OUT };
        const applies = {
          forward: splitForward,
          input: gemmSplit({ M: B, N: IN, K: OUT }) > 1,
          weight: gemmSplit({ M: IN, N: OUT, K: B }) > 1,
        };
        if (variant === 'gemm-splitk' && !applies.forward && !applies.input && !applies.weight) ctx.skip();
        // 128×128 tiles: products of at least 128 rows and columns (forward and input gradient: B rows; weight gradient: IN rows)
        const big = { forward: B >= 128 && OUT >= 128, input: B >= 128 && IN >= 128, weight: IN >= 128 && OUT >= 128 };
        if (variant === 'gemm128' && !big.forward && !big.input && !big.weight) ctx.skip();
        const pick = (yes: boolean, large = false): GemmVariant =>
          variant === 'gemm-splitk' && yes ? 'gemm-splitk' : variant === 'gemm128' && large ? 'gemm128' : 'gemm';
        for (const act of ACTIVATIONS) {
          const list = await denseForwardList(r, s, act, { inp: inp!, weight: weight!, bias: bias!, out }, 'f', { variant: pick(applies.forward, big.forward), alloc });
          expect(list.length).toBe(pick(applies.forward, big.forward) === 'gemm-splitk' ? 2 : 1);
          r.submit(list);
          const want = activationForward(act.name, denseForwardRef(x, w, b, B, IN, OUT), OUT, act.alpha);
          assertClose(await r.readF32(out, B * OUT), want, { ...TOL, label: `gemm forward ${variant} ${act.name} (${B},${IN},${OUT})` });
        }
        r.submit([
          ...(await denseBackwardInputList(r, s, { dout: dout!, weight: weight!, dinp }, 'dx', { variant: pick(applies.input, big.input), alloc })),
          // with the bias gradient as the ones row of the weight gradient's product
          ...(await denseBackwardWeightList(r, s, { inp: inp!, dout: dout!, dweight, dbias }, 'dw', { variant: pick(applies.weight, big.weight), alloc })),
        ]);
        const want = denseBackward(x, w, dy, B, IN, OUT);
        assertClose(await r.readF32(dinp, B * IN), want.dx, { ...TOL, label: `gemm dx ${variant} (${B},${IN},${OUT})` });
        assertClose(await r.readF32(dweight, IN * OUT), want.dw, { ...TOL, label: `gemm dw ${variant} (${B},${IN},${OUT})` });
        assertClose(await r.readF32(dbias, OUT), want.db, { ...TOL, label: `gemm db ${variant} (${B},${IN},${OUT})` });
        expectNoGpuErrors(r);
        for (const buffer of [inp!, weight!, bias!, dout!, out, dinp, dweight, dbias, ...scratch]) r.pool.release(buffer);
      });
    }
  }

  it('split K without an allocator is refused with a message that says so', async () => {
    const r = rt();
    const buf = outputF32(r, 32 * 784, 'any');
    await expect(denseForwardList(r, { batch: 32, inputs: 784, units: 128 }, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf }, 'f', { variant: 'gemm-splitk' }))
      .rejects.toThrow(/needs scratch buffers/);
    r.pool.release(buf);
  });
});

/**
 * The implicit-GEMM conv variants on gemm.wgsl's tiles (shaders/lib/gemm_conv.wgsl),
 * 'igemm' and 'igemm-splitk', against the f64 twins in src/reference/conv2d.ts:
 * forward with bias and activation, input gradient, weight gradient with the
 * bias gradient as its ones row, on shapes with padding, strides, one input
 * channel and channel counts that are not multiples of 4.
 */
import { describe, expect, it } from 'vitest';
import type { Conv2dShape } from '../../src/ops/conv2d.js';
import { conv2dBackwardInputList, conv2dBackwardWeightList, conv2dForwardList } from '../../src/ops/conv2d.js';
import { activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { conv2dBackward, conv2dForward, conv2dGeometry } from '../../src/reference/conv2d.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

type Case = [B: number, H: number, W: number, CIN: number, COUT: number, KH: number, KW: number, SH: number, SW: number, padding: 'valid' | 'same'];
const CASES: Case[] = [
  [1, 5, 7, 1, 1, 3, 3, 1, 1, 'valid'],
  [3, 5, 7, 2, 3, 3, 3, 1, 1, 'same'],
  [1, 12, 12, 3, 5, 5, 5, 2, 2, 'valid'],
  [3, 12, 12, 1, 32, 5, 5, 1, 1, 'same'],
  [2, 9, 9, 5, 7, 3, 3, 2, 1, 'same'],
  [4, 13, 13, 32, 64, 3, 3, 1, 1, 'valid'],
];

describe('conv2d implicit GEMM', () => {
  for (const c of CASES) {
    const [B, H, W, CIN, COUT, KH, KW, SH, SW, padding] = c;
    const s: Conv2dShape = { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW, strideH: SH, strideW: SW, padding };
    for (const variant of ['igemm', 'igemm-splitk']) {
      it(`${variant}: B${B} ${H}x${W}x${CIN} → ${COUT}, k${KH}x${KW} s${SH}x${SW} ${padding}`, async () => {
        const r = rt();
        const g = conv2dGeometry(s);
        const nIn = B * H * W * CIN, nOut = B * g.outH * g.outW * COUT, nW = KH * KW * CIN * COUT;
        const rng = makeRng(500 + nIn + nW);
        const x = normalF32(rng, nIn);
        const w = normalF32(rng, nW, 1 / Math.sqrt(KH * KW * CIN));
        const b = normalF32(rng, COUT, 0.5);
        const dy = normalF32(rng, nOut);
        const [inp, weight, bias, dout] = [x, w, b, dy].map((d, i) => r.storage(d, `in ${i}`));
        const out = outputF32(r, nOut, 'out');
        const dinp = outputF32(r, nIn, 'dx');
        const dweight = outputF32(r, nW, 'dw');
        const dbias = outputF32(r, COUT, 'db');
        const scratch: GPUBuffer[] = [];
        const alloc = (elements: number, name: string) => {
          const buffer = r.storage(Math.max(4, elements * 4), name);
          scratch.push(buffer);
          return buffer;
        };
        // split K where it applies to the product, else the plain tiles
        const pick = async <T>(record: (v: string) => Promise<T>) => {
          try {
            return await record(variant);
          } catch (error) {
            if (variant === 'igemm-splitk' && /does not apply/.test(String(error))) return record('igemm');
            throw error;
          }
        };
        const fwd = await pick((v) => conv2dForwardList(r, s, { name: 'relu' }, { inp: inp!, weight: weight!, bias: bias!, out }, 'f', { variant: v, alloc }));
        expect(fwd[0]!.kernel.spec.name.startsWith('conv2d_igemm:')).toBe(true);
        r.submit([
          ...fwd,
          ...(await pick((v) => conv2dBackwardInputList(r, s, { dout: dout!, weight: weight!, dinp }, 'dx', { variant: v, alloc }))),
          ...(await pick((v) => conv2dBackwardWeightList(r, s, { inp: inp!, dout: dout!, dweight, dbias }, 'dw', { variant: v, alloc }))),
        ]);
        const label = `${variant} ${c.join(' ')}`;
        assertClose(await r.readF32(out, nOut), activationForward('relu', conv2dForward(x, w, b, s), COUT), { ...TOL, label: `${label} forward` });
        const want = conv2dBackward(x, w, dy, s);
        assertClose(await r.readF32(dinp, nIn), want.dx, { ...TOL, label: `${label} dx` });
        // The weight and bias gradients sum B·OH·OW products in f32 (one slice of K, in order, for 'igemm'):
        // rounding grows with the count of terms, so the absolute tolerance does too (√K, 1e-5 at 64 terms).
        const sumTol = { ...TOL, atol: TOL.atol * Math.max(1, Math.sqrt((B * g.outH * g.outW) / 64)) };
        assertClose(await r.readF32(dweight, nW), want.dw, { ...sumTol, label: `${label} dw` });
        assertClose(await r.readF32(dbias, COUT), want.db, { ...sumTol, label: `${label} db` });
        expectNoGpuErrors(r);
        for (const buffer of [inp!, weight!, bias!, dout!, out, dinp, dweight, dbias, ...scratch]) r.pool.release(buffer);
      });
    }
  }
});

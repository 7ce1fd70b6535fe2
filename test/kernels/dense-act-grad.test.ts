/**
 * The dense input gradient with the previous layer's activation derivative in
 * its epilogue, dinp = (dout · weightᵀ) ⊙ act'(y), in every variant of the
 * family (general, tiled, quad, gemm, gemm128, gemm-splitk) against the f64
 * twins (src/reference/dense.ts's dx, then activations.ts's backward), for
 * relu, sigmoid and tanh, on shapes that are not multiples of any tile (and,
 * for the variants that need them, shapes that are: tiled wants multiples of
 * 4, gemm128 128 rows and columns, split K a long K). A variant the adapter or
 * the shape does not allow is skipped, as in dense.test.ts and gemm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../../src/ops/common.js';
import { applicableVariants } from '../../src/ops/family.js';
import { DENSE_BACKWARD_INPUT, denseBackwardInputList, denseQuadApplies, denseTiledApplies, gemmSplit, type GemmVariant } from '../../src/ops/dense.js';
import { activationBackward, activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { denseBackward } from '../../src/reference/dense.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

type Shape = [B: number, IN: number, OUT: number];
const ACTIVATIONS: ActivationSpec[] = [{ name: 'relu' }, { name: 'sigmoid' }, { name: 'tanh' }];

/** Per variant, the shapes it runs on: an odd one for all, and one it needs where it needs one. */
const CASES: [GemmVariant, Shape[]][] = [
  ['general', [[33, 77, 45]]],
  ['quad', [[33, 77, 45]]],
  ['tiled', [[36, 76, 44]]],
  ['gemm', [[33, 77, 45]]],
  ['gemm128', [[130, 150, 45]]],
  ['gemm-splitk', [[33, 77, 130]]],
];

const ENTRY: Record<GemmVariant, string> = {
  auto: '', general: 'dense_backward_input_act_grad', tiled: 'dense_tiled_backward_input_act_grad',
  quad: 'dense_quad_backward_input_act_grad', gemm: 'gemm_act_grad', gemm128: 'gemm_act_grad', 'gemm-splitk': 'gemm',
};

describe('dense backward input with act\'(y) in the epilogue', () => {
  for (const [variant, shapes] of CASES) for (const [B, IN, OUT] of shapes) for (const act of ACTIVATIONS) {
    it(`${variant}: (B, IN, OUT) = (${B}, ${IN}, ${OUT}), ${act.name}`, async (ctx) => {
      const r = rt();
      if (variant === 'quad' && !denseQuadApplies(r)) ctx.skip();
      const s = { batch: B, inputs: IN, units: OUT };
      if (variant === 'tiled') expect(denseTiledApplies(s)).toBe(true);
      if (variant === 'gemm-splitk') expect(gemmSplit({ M: B, N: IN, K: OUT })).toBeGreaterThan(1);
      const rng = makeRng(5000 + B * 7 + IN * 13 + OUT + act.name.length);
      // y is the previous layer's output: act of some pre-activations (relu's has exact zeros).
      const pre = normalF32(rng, B * IN);
      const y = Float32Array.from(activationForward(act.name, pre, IN));
      const w = normalF32(rng, IN * OUT, 1 / Math.sqrt(IN));
      const dy = normalF32(rng, B * OUT);
      const [yBuf, weight, dout] = [y, w, dy].map((d, i) => r.storage(d, `in ${i}`));
      const dinp = outputF32(r, B * IN, 'dx');
      const scratch: GPUBuffer[] = [];
      const alloc = (elements: number, name: string) => {
        const buffer = r.storage(elements * 4, name);
        scratch.push(buffer);
        return buffer;
      };
      const list = await denseBackwardInputList(r, s, { dout, weight, dinp, activationGrad: { activation: act, y: yBuf } }, 'dx', { variant, alloc });
      expect(list[0]!.kernel.spec.name).toBe(ENTRY[variant]);
      if (variant === 'gemm-splitk') expect(list.map((d) => d.kernel.spec.name)).toEqual(['gemm', 'gemm_reduce_act_grad']);
      else expect(list).toHaveLength(1);
      r.submit(list);
      const want = activationBackward(act.name, y, denseBackward(new Float64Array(B * IN), w, dy, B, IN, OUT).dx, IN);
      assertClose(await r.readF32(dinp, B * IN), want, { ...TOL, label: `dense dx act-grad ${variant} ${act.name} (${B},${IN},${OUT})` });
      expectNoGpuErrors(r);
      for (const buffer of [yBuf, weight, dout, dinp, ...scratch]) r.pool.release(buffer);
    });
  }

  it('the tuner keys the fused product apart from the plain one', () => {
    const s = { batch: 32, inputs: 128, units: 10 };
    expect(DENSE_BACKWARD_INPUT.shapeKey({ shape: s })).toBe('32x128x10');
    expect(DENSE_BACKWARD_INPUT.shapeKey({ shape: s, activationGrad: { name: 'relu' } })).toBe('32x128x10 act-grad');
    // Every variant that applies to the plain product applies to the fused one.
    const r = rt();
    const names = (a?: ActivationSpec) => applicableVariants(r, DENSE_BACKWARD_INPUT, { shape: s, ...(a ? { activationGrad: a } : {}) }, true).map((v) => v.name);
    expect(names({ name: 'relu' })).toEqual(names());
  });

  it('softmax cannot ride on the product', async () => {
    const r = rt();
    const buf = outputF32(r, 64, 'any');
    await expect(denseBackwardInputList(r, { batch: 2, inputs: 4, units: 4 },
      { dout: buf, weight: buf, dinp: buf, activationGrad: { activation: { name: 'softmax' }, y: buf } })).rejects.toThrow(/softmax/);
    r.pool.release(buf);
  });
});

/**
 * Dense kernels (shaders/dense.wgsl, dense_tiled.wgsl, dense_quad.wgsl,
 * bias.wgsl) against the f64 twins in src/reference/dense.ts and
 * activations.ts, on shapes that are and are not multiples of the 4×4 register
 * tile, the quad kernel's 8-row and 64-column workgroup tile and its 4-step
 * loop. Every shape runs through the general and the quad family (the quad one
 * where the device has subgroups); shapes whose axes are all multiples of 4
 * also through the tiled family, and asking for it elsewhere is an error.
 */
import { describe, expect, it } from 'vitest';
import { isCpuAdapter } from '../../src/gpu/features.js';
import { biasBackward } from '../../src/ops/bias.js';
import { denseBackwardInput, denseBackwardWeight, denseForward, denseQuadApplies, denseTiledApplies, type GemmVariant } from '../../src/ops/dense.js';
import type { ActivationSpec } from '../../src/ops/common.js';
import { activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { denseBackward, denseForward as denseForwardRef } from '../../src/reference/dense.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();
/** The same adapter without the subgroups feature, as on a device that lacks it. */
const plainRt = useRuntime({ subgroups: false });

type Shape = [B: number, IN: number, OUT: number];
const SHAPES: Shape[] = [
  [1, 1, 1],
  [3, 17, 33],
  [33, 3, 17],
  [4, 8, 12],
  [32, 784, 10],
  [4, 4, 4],
  [8, 12, 20],
  [32, 784, 128],
  [36, 64, 68],
  [9, 30, 130],
  [128, 64, 10],
];

/** The kernel families a shape runs through. */
function variants(B: number, IN: number, OUT: number): GemmVariant[] {
  return denseTiledApplies({ batch: B, inputs: IN, units: OUT }) ? ['quad', 'tiled', 'general'] : ['quad', 'general'];
}

const KERNEL_NAMES: Record<string, [forward: string, backwardWeight: string]> = {
  quad: ['dense_quad_forward', 'dense_quad_backward_weight'],
  tiled: ['dense_tiled_forward', 'dense_tiled_backward_weight'],
  general: ['dense_forward', 'dense_backward_weight'],
};

const ACTIVATIONS: ActivationSpec[] = [
  { name: 'linear' },
  { name: 'relu' },
  { name: 'leakyRelu', alpha: 0.1 },
  { name: 'sigmoid' },
  { name: 'tanh' },
];

describe('dense_forward', () => {
  for (const [B, IN, OUT] of SHAPES) {
    for (const variant of variants(B, IN, OUT)) for (const act of ACTIVATIONS) {
      it(`${variant}: (B, IN, OUT) = (${B}, ${IN}, ${OUT}), ${act.name}`, async (ctx) => {
        const r = rt();
        if (variant === 'quad' && !denseQuadApplies(r)) ctx.skip();
        const rng = makeRng(1000 + B * 7 + IN * 13 + OUT);
        const x = normalF32(rng, B * IN);
        const w = normalF32(rng, IN * OUT, 1 / Math.sqrt(IN));
        const b = normalF32(rng, OUT, 0.5);
        const inp = r.storage(x, 'x');
        const weight = r.storage(w, 'w');
        const bias = r.storage(b, 'b');
        const out = outputF32(r, B * OUT, 'out');
        const d = await denseForward(r, { batch: B, inputs: IN, units: OUT }, act, { inp, weight, bias, out }, 'forward', variant);
        expect(d.kernel.spec.name).toBe(KERNEL_NAMES[variant]![0]);
        if (variant === 'quad') {
          // Stores without checks (FULL) exactly where every 8-row, 4·threads-column tile lies inside out
          // (threads: 4 per 16 columns, at most 16); (32, 784, 128) is such a shape, (9, 30, 130) is not.
          const threads = Math.min(16, 4 * Math.ceil(OUT / 16));
          expect(d.kernel.spec.overrides?.FULL).toBe(B % 8 === 0 && OUT % (4 * threads) === 0 ? 1 : 0);
        }
        r.submit([d]);
        const got = await r.readF32(out, B * OUT);
        const want = activationForward(act.name, denseForwardRef(x, w, b, B, IN, OUT), OUT, act.alpha);
        assertClose(got, want, { ...TOL, label: `dense forward ${variant} ${act.name} (${B},${IN},${OUT})` });
        expectNoGpuErrors(r);
        for (const buffer of [inp, weight, bias, out]) r.pool.release(buffer);
      });
    }
  }
});

describe('dense backward (input, weight) and bias_backward', () => {
  for (const [B, IN, OUT] of SHAPES) for (const variant of variants(B, IN, OUT)) {
    it(`${variant}: (B, IN, OUT) = (${B}, ${IN}, ${OUT})`, async (ctx) => {
      const r = rt();
      if (variant === 'quad' && !denseQuadApplies(r)) ctx.skip();
      const rng = makeRng(2000 + B * 7 + IN * 13 + OUT);
      const x = normalF32(rng, B * IN);
      const w = normalF32(rng, IN * OUT, 1 / Math.sqrt(IN));
      const dy = normalF32(rng, B * OUT);
      const inp = r.storage(x, 'x');
      const weight = r.storage(w, 'w');
      const dout = r.storage(dy, 'dy');
      const dinp = outputF32(r, B * IN, 'dx');
      const dweight = outputF32(r, IN * OUT, 'dw');
      const dbias = outputF32(r, OUT, 'db');
      const s = { batch: B, inputs: IN, units: OUT };
      const dispatches = [
        await denseBackwardInput(r, s, { dout, weight, dinp }, 'dx', variant),
        await denseBackwardWeight(r, s, { inp, dout, dweight }, 'dw', variant),
        await biasBackward(r, { rows: B, cols: OUT }, { dout, dbias }),
      ];
      expect(dispatches[1]!.kernel.spec.name).toBe(KERNEL_NAMES[variant]![1]);
      r.submit(dispatches);
      const want = denseBackward(x, w, dy, B, IN, OUT);
      assertClose(await r.readF32(dinp, B * IN), want.dx, { ...TOL, label: `dense dx ${variant} (${B},${IN},${OUT})` });
      assertClose(await r.readF32(dweight, IN * OUT), want.dw, { ...TOL, label: `dense dw ${variant} (${B},${IN},${OUT})` });
      assertClose(await r.readF32(dbias, OUT), want.db, { ...TOL, label: `dense db (${B},${IN},${OUT})` });
      expectNoGpuErrors(r);
      for (const buffer of [inp, weight, dout, dinp, dweight, dbias]) r.pool.release(buffer);
    });
  }

  it('without subgroups: the tiled kernels refuse a shape they do not cover, quad is refused, auto (fixed order, CPU emulation) picks by shape', async () => {
    const r = plainRt();
    expect(r.features.has('subgroups')).toBe(false);
    const cpuFixedOrder = isCpuAdapter(r) && !r.tuner.options.autotune;
    const buf = outputF32(r, 4 * 12 * 10, 'any');
    await expect(denseForward(r, { batch: 4, inputs: 12, units: 10 }, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf }, 'x', 'tiled'))
      .rejects.toThrow(/divisible by 4, got \(4, 12, 10\)/);
    if (cpuFixedOrder) {
      const auto = await denseBackwardWeight(r, { batch: 4, inputs: 12, units: 8 }, { inp: buf, dout: buf, dweight: buf });
      expect(auto.kernel.spec.name).toBe('dense_tiled_backward_weight');
      const general = await denseBackwardWeight(r, { batch: 6, inputs: 12, units: 8 }, { inp: buf, dout: buf, dweight: buf });
      expect(general.kernel.spec.name).toBe('dense_backward_weight');
    }
    await expect(denseBackwardWeight(r, { batch: 6, inputs: 12, units: 8 }, { inp: buf, dout: buf, dweight: buf }, 'x', 'quad'))
      .rejects.toThrow(/'subgroups' feature/);
    r.pool.release(buf);
  });

  it('with autotuning off and subgroups, auto takes the quad kernels on a CPU emulation and the workgroup-memory GEMM on a GPU', async (ctx) => {
    const r = rt();
    if (!denseQuadApplies(r) || r.tuner.options.autotune) ctx.skip();
    const cpu = isCpuAdapter(r);
    const buf = outputF32(r, 6 * 12 * 10, 'any');
    const fwd = await denseForward(r, { batch: 6, inputs: 12, units: 10 }, { name: 'relu' }, { inp: buf, weight: buf, bias: buf, out: buf });
    expect(fwd.kernel.spec.name).toBe(cpu ? 'dense_quad_forward' : 'gemm_bias_act');
    const dw = await denseBackwardWeight(r, { batch: 4, inputs: 12, units: 8 }, { inp: buf, dout: buf, dweight: buf });
    expect(dw.kernel.spec.name).toBe(cpu ? 'dense_quad_backward_weight' : 'gemm');
    r.pool.release(buf);
  });

  it('bias_backward over many rows (rows 65, cols 3)', async () => {
    const r = rt();
    const rng = makeRng(77);
    const dy = normalF32(rng, 65 * 3);
    const dout = r.storage(dy, 'dy');
    const dbias = outputF32(r, 3, 'db');
    r.submit([await biasBackward(r, { rows: 65, cols: 3 }, { dout, dbias })]);
    const want = [0, 1, 2].map((c) => {
      let s = 0;
      for (let row = 0; row < 65; row++) s += dy[row * 3 + c]!;
      return s;
    });
    assertClose(await r.readF32(dbias, 3), want, { ...TOL, label: 'bias 65x3' });
  });
});

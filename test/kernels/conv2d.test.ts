/**
 * Conv2d kernels (shaders/conv2d.wgsl, the implicit GEMM of
 * shaders/conv2d_gemm.wgsl and its quad forward, shaders/conv2d_quad.wgsl) and
 * the conv bias gradient (bias_backward over rows B·OH·OW) against
 * src/reference/conv2d.ts.
 */
import { describe, expect, it } from 'vitest';
import { biasBackward } from '../../src/ops/bias.js';
import {
  conv2dBackwardInput,
  conv2dBackwardInputAuto,
  conv2dBackwardWeight,
  conv2dBackwardWeightAuto,
  conv2dForwardAuto,
  conv2dGemmApplies,
  conv2dQuadApplies,
  conv2dInputGradPlan,
  conv2dWeightGradPlan,
  conv2dBackwardWeightSplit,
  conv2dForward,
  conv2dGeometry,
  type Conv2dShape,
} from '../../src/ops/conv2d.js';
import { activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { conv2dBackward, conv2dForward as conv2dForwardRef, conv2dGeometry as conv2dGeometryRef } from '../../src/reference/conv2d.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

type Case = [B: number, H: number, W: number, CIN: number, COUT: number, KH: number, KW: number, SH: number, SW: number, padding: 'valid' | 'same'];

const CASES: Case[] = [
  [1, 5, 7, 1, 1, 3, 3, 1, 1, 'valid'],
  [3, 5, 7, 2, 3, 3, 3, 1, 1, 'same'],
  [1, 12, 12, 3, 5, 5, 5, 2, 2, 'valid'],
  [3, 12, 12, 1, 32, 5, 5, 1, 1, 'same'],
  [1, 5, 7, 3, 5, 2, 3, 2, 2, 'same'],
  [3, 12, 12, 2, 3, 2, 3, 1, 1, 'valid'],
  [1, 12, 12, 1, 32, 3, 3, 2, 2, 'same'],
  [3, 5, 7, 3, 1, 5, 5, 1, 1, 'same'],
  [1, 5, 7, 2, 5, 5, 5, 2, 2, 'valid'],
  [3, 12, 12, 2, 3, 3, 3, 1, 2, 'same'],
  [1, 12, 12, 3, 32, 3, 3, 2, 1, 'valid'],
  // More than 4 input channels: dinp's 4-channel blocks with a partial last block.
  [3, 5, 7, 5, 3, 3, 3, 2, 2, 'same'],
];

function shapeOf([B, H, W, CIN, COUT, KH, KW, SH, SW, padding]: Case): Conv2dShape {
  return { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW, strideH: SH, strideW: SW, padding };
}

function describeCase(c: Case): string {
  const [B, H, W, CIN, COUT, KH, KW, SH, SW, padding] = c;
  return `B${B} ${H}x${W}x${CIN} → ${COUT}, k${KH}x${KW} s${SH}x${SW} ${padding}`;
}

describe('conv2d', () => {
  CASES.forEach((c, index) => {
    it(describeCase(c), async () => {
      const r = rt();
      const s = shapeOf(c);
      const g = conv2dGeometry(s);
      expect(g).toEqual(conv2dGeometryRef(s));
      const { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW } = s;
      const nIn = B * H * W * CIN;
      const nOut = B * g.outH * g.outW * COUT;
      const nW = KH * KW * CIN * COUT;
      const rng = makeRng(3000 + index);
      const x = normalF32(rng, nIn);
      const w = normalF32(rng, nW, 1 / Math.sqrt(KH * KW * CIN));
      const b = normalF32(rng, COUT, 0.5);
      const dy = normalF32(rng, nOut);

      const inp = r.storage(x, 'x');
      const weight = r.storage(w, 'w');
      const bias = r.storage(b, 'b');
      const dout = r.storage(dy, 'dy');
      const outLinear = outputF32(r, nOut, 'out linear');
      const outRelu = outputF32(r, nOut, 'out relu');
      const dinp = outputF32(r, nIn, 'dx');
      const dweight = outputF32(r, nW, 'dw');
      const dbias = outputF32(r, COUT, 'db');
      const dweightSplit = outputF32(r, nW, 'dw split');
      const partial = outputF32(r, B * nW, 'dw partial');
      const dbiasPartial = outputF32(r, B * COUT, 'db partial');
      const dbiasSplit = outputF32(r, COUT, 'db split');

      r.submit([
        await conv2dForward(r, s, { name: 'linear' }, { inp, weight, bias, out: outLinear }),
        await conv2dForward(r, s, { name: 'relu' }, { inp, weight, bias, out: outRelu }),
        await conv2dBackwardInput(r, s, { dout, weight, dinp }),
        await conv2dBackwardWeight(r, s, { inp, dout, dweight }),
        await biasBackward(r, { rows: B * g.outH * g.outW, cols: COUT }, { dout, dbias }),
        ...(await conv2dBackwardWeightSplit(r, s, { inp, dout, partial, dweight: dweightSplit })),
        await biasBackward(r, { rows: B * g.outH * g.outW, cols: COUT, groups: B }, { dout, dbias: dbiasPartial }),
        await biasBackward(r, { rows: B, cols: COUT }, { dout: dbiasPartial, dbias: dbiasSplit }),
      ]);

      const label = describeCase(c);
      const forward = conv2dForwardRef(x, w, b, s);
      const grads = conv2dBackward(x, w, dy, s);
      assertClose(await r.readF32(outLinear, nOut), forward, { ...TOL, label: `${label} forward linear` });
      assertClose(await r.readF32(outRelu, nOut), activationForward('relu', forward, COUT), { ...TOL, label: `${label} forward relu` });
      assertClose(await r.readF32(dinp, nIn), grads.dx, { ...TOL, label: `${label} dx` });
      assertClose(await r.readF32(dweight, nW), grads.dw, { ...TOL, label: `${label} dw` });
      assertClose(await r.readF32(dbias, COUT), grads.db, { ...TOL, label: `${label} db` });
      assertClose(await r.readF32(dweightSplit, nW), grads.dw, { ...TOL, label: `${label} dw, batch-split kernel` });
      assertClose(await r.readF32(dbiasSplit, COUT), grads.db, { ...TOL, label: `${label} db, two passes` });
      expectNoGpuErrors(r);
      for (const buffer of [inp, weight, bias, dout, outLinear, outRelu, dinp, dweight, dbias, dweightSplit, partial, dbiasPartial, dbiasSplit]) r.pool.release(buffer);
    });
  });
});

// The implicit-GEMM kernels (shaders/conv2d_gemm.wgsl) on shapes they cover:
// against the f64 twin and against the direct kernels, with padding, strides,
// CIN a multiple of 4 (vec4 patches) or not, and pixel and weight-row counts
// that are not multiples of the 4×4 tile.
const GEMM_CASES: Case[] = [
  [2, 13, 13, 32, 64, 3, 3, 1, 1, 'valid'],
  [3, 7, 9, 4, 8, 3, 3, 1, 1, 'same'],
  [1, 12, 12, 8, 4, 5, 5, 2, 2, 'same'],
  [3, 11, 10, 1, 32, 3, 3, 1, 1, 'valid'],
  // Three input channels, read one at a time (the quad kernels without VEC_CIN), strided.
  [2, 8, 9, 3, 8, 3, 2, 2, 1, 'valid'],
  [2, 9, 9, 3, 12, 5, 5, 2, 1, 'same'],
  [5, 6, 6, 12, 16, 2, 3, 2, 2, 'valid'],
  [2, 24, 24, 32, 32, 5, 5, 1, 1, 'valid'],
  // Stride 1, 'same' with even kernels: TensorFlow's uneven padding (0 above, 1 below; 1 left, 2 right).
  [2, 6, 7, 8, 4, 2, 4, 1, 1, 'same'],
];

describe('conv2d implicit GEMM', () => {
  GEMM_CASES.forEach((c, index) => {
    it(describeCase(c), async () => {
      const r = rt();
      const s = shapeOf(c);
      const g = conv2dGeometry(s);
      const { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW } = s;
      const nIn = B * H * W * CIN;
      const nOut = B * g.outH * g.outW * COUT;
      const nW = KH * KW * CIN * COUT;
      const rng = makeRng(5000 + index);
      const x = normalF32(rng, nIn);
      const w = normalF32(rng, nW, 1 / Math.sqrt(KH * KW * CIN));
      const b = normalF32(rng, COUT, 0.5);
      const dy = normalF32(rng, nOut);
      const inp = r.storage(x, 'x');
      const weight = r.storage(w, 'w');
      const bias = r.storage(b, 'b');
      const dout = r.storage(dy, 'dy');
      const applies = conv2dGemmApplies(s);
      expect(applies.forward && applies.backwardWeight).toBe(true);
      const plan = conv2dWeightGradPlan(s, 'gemm');
      const partial = outputF32(r, Math.max(1, plan.partialElements), 'dw partial');
      const results: Record<string, GPUBuffer> = {};
      const dispatches = [];
      for (const variant of ['gemm', 'direct'] as const) {
        const out = (results[`out ${variant}`] = outputF32(r, nOut, `out ${variant}`));
        const dweight = (results[`dw ${variant}`] = outputF32(r, nW, `dw ${variant}`));
        const directPartial = variant === 'direct' ? outputF32(r, B * nW, 'direct partial') : partial;
        results[`partial ${variant}`] = directPartial;
        dispatches.push(await conv2dForwardAuto(r, s, { name: 'relu' }, { inp, weight, bias, out }, 'forward', variant));
        dispatches.push(...(await conv2dBackwardWeightAuto(r, s, { inp, dout, dweight, partial: directPartial }, 'dw', variant)));
        if (applies.backwardInput) {
          const dinp = (results[`dx ${variant}`] = outputF32(r, nIn, `dx ${variant}`));
          dispatches.push(...(await conv2dBackwardInputAuto(r, s, { dout, weight, dinp }, 'dx', variant)));
          if (variant === 'gemm' && s.strideH === 1 && s.strideW === 1) {
            // The stride-1 route: a forward conv of the padded gradient with flipped weights.
            const plan = conv2dInputGradPlan(s, 'flipped');
            expect(plan.route).toBe('flipped');
            const scratch = {
              padded: (results['padded'] = outputF32(r, plan.paddedElements, 'padded')),
              flipped: (results['flipped'] = outputF32(r, plan.flippedElements, 'flipped')),
              zeros: (results['zeros'] = r.storage(new Float32Array(plan.zeroElements), 'zeros')),
            };
            const flippedDx = (results['dx flipped'] = outputF32(r, nIn, 'dx flipped'));
            const list = await conv2dBackwardInputAuto(r, s, { dout, weight, dinp: flippedDx, scratch }, 'dx', 'flipped');
            const inner = r.features.has('subgroups') ? 'conv2d_quad_forward' : 'conv2d_gemm_forward';
            expect(list.map((d) => d.kernel.spec.name)).toEqual(['conv2d_gemm_pad_gradient', 'conv2d_gemm_flip_weights', inner]);
            dispatches.push(...list);
          }
        }
      }
      expect(dispatches[0]!.kernel.spec.name).toBe('conv2d_gemm_forward');
      const quad = conv2dQuadApplies(r, s);
      if (quad) {
        const out = (results['out quad'] = outputF32(r, nOut, 'out quad'));
        const d = await conv2dForwardAuto(r, s, { name: 'relu' }, { inp, weight, bias, out }, 'forward', 'quad');
        expect(d.kernel.spec.name).toBe('conv2d_quad_forward');
        // Stores without checks (FULL) exactly where every workgroup's 8 pixels and every thread's 4 channels
        // exist (threads per workgroup: 4 per 16 channels, at most 16); [3, 11, 10, 1, 32] and [2, 24, 24, 32, 32] are such cases.
        const threads = Math.min(16, 4 * Math.ceil(COUT / 16));
        const whole = (B * g.outH * g.outW) % 8 === 0 && COUT % (4 * threads) === 0;
        expect(d.kernel.spec.overrides?.FULL).toBe(whole ? 1 : 0);
        dispatches.push(d);
      }
      // The quad weight gradient covers 'same' padding too where CIN % 4 == 0.
      const quadDw = r.features.has('subgroups') && (CIN % 4 === 0 || s.padding === 'valid');
      if (quadDw) {
        const dweight = (results['dw quad'] = outputF32(r, nW, 'dw quad'));
        const quadPlan = conv2dWeightGradPlan(s, 'quad', r);
        const quadPartial = (results['partial quad'] = outputF32(r, Math.max(1, quadPlan.partialElements), 'dw partial quad'));
        const list = await conv2dBackwardWeightAuto(r, s, { inp, dout, dweight, partial: quadPartial }, 'dw', 'quad');
        expect(list[0]!.kernel.spec.name).toBe('conv2d_quad_backward_weight');
        dispatches.push(...list);
      }
      r.submit(dispatches);
      const label = `${describeCase(c)} gemm`;
      const forward = activationForward('relu', conv2dForwardRef(x, w, b, s), COUT);
      const grads = conv2dBackward(x, w, dy, s);
      const gemmOut = await r.readF32(results['out gemm']!, nOut);
      assertClose(gemmOut, forward, { ...TOL, label: `${label} forward relu (split ${plan.split})` });
      assertClose(gemmOut, await r.readF32(results['out direct']!, nOut), { ...TOL, label: `${label} forward = direct` });
      if (quad) assertClose(await r.readF32(results['out quad']!, nOut), forward, { ...TOL, label: `${describeCase(c)} quad forward relu` });
      // dw sums B·OH·OW products per element; f32 rounding grows with the square root of that count.
      const dwTol = { ...TOL, atol: Math.max(TOL.atol, 2e-6 * Math.sqrt(B * g.outH * g.outW)) };
      const gemmDw = await r.readF32(results['dw gemm']!, nW);
      assertClose(gemmDw, grads.dw, { ...dwTol, label: `${label} dw` });
      assertClose(gemmDw, await r.readF32(results['dw direct']!, nW), { ...dwTol, label: `${label} dw = direct` });
      if (quadDw) assertClose(await r.readF32(results['dw quad']!, nW), grads.dw, { ...dwTol, label: `${describeCase(c)} quad dw` });
      if (applies.backwardInput) {
        const gemmDx = await r.readF32(results['dx gemm']!, nIn);
        assertClose(gemmDx, grads.dx, { ...TOL, label: `${label} dx` });
        assertClose(gemmDx, await r.readF32(results['dx direct']!, nIn), { ...TOL, label: `${label} dx = direct` });
        if (results['dx flipped']) {
          assertClose(await r.readF32(results['dx flipped']!, nIn), grads.dx, { ...TOL, label: `${label} dx, flipped route` });
        }
      }
      expectNoGpuErrors(r);
      for (const buffer of new Set([inp, weight, bias, dout, partial, ...Object.values(results)])) r.pool.release(buffer);
    });
  });

  it('the GEMM kernels refuse what they do not cover, and auto falls back to the direct ones', async () => {
    const r = rt();
    const s = shapeOf([1, 5, 5, 3, 6, 3, 3, 1, 1, 'valid']);
    const buf = outputF32(r, 1024, 'any');
    await expect(conv2dForwardAuto(r, s, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf }, 'f', 'gemm')).rejects.toThrow(/divisible by 4, got CIN 3, COUT 6/);
    expect((await conv2dForwardAuto(r, s, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf })).kernel.spec.name).toBe('conv2d_forward');
    const s2 = shapeOf([1, 5, 5, 3, 8, 3, 3, 1, 1, 'valid']);
    expect((await conv2dBackwardInputAuto(r, s2, { dout: buf, weight: buf, dinp: buf }))[0]!.kernel.spec.name).toBe('conv2d_backward_input');
    await expect(conv2dBackwardInputAuto(r, shapeOf([1, 5, 5, 4, 8, 3, 3, 2, 2, 'valid']), { dout: buf, weight: buf, dinp: buf }, 'dx', 'flipped')).rejects.toThrow(/stride 1/);
    const s3 = shapeOf([1, 5, 5, 4, 8, 3, 3, 1, 1, 'same']);
    expect((await conv2dForwardAuto(r, s3, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf })).kernel.spec.name).toBe('conv2d_gemm_forward');
    await expect(conv2dForwardAuto(r, s3, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf }, 'f', 'quad')).rejects.toThrow(/'valid' padding/);
    if (r.features.has('subgroups')) {
      await expect(conv2dBackwardWeightAuto(r, shapeOf([1, 5, 5, 3, 8, 3, 3, 1, 1, 'same']), { inp: buf, dout: buf, dweight: buf, partial: buf }, 'dw', 'quad'))
        .rejects.toThrow(/got CIN 3, COUT 8, padding 'same'/);
    }
    const s4 = shapeOf([1, 5, 5, 4, 8, 3, 3, 1, 1, 'valid']);
    expect((await conv2dForwardAuto(r, s4, { name: 'linear' }, { inp: buf, weight: buf, bias: buf, out: buf })).kernel.spec.name)
      .toBe(r.features.has('subgroups') ? 'conv2d_quad_forward' : 'conv2d_gemm_forward');
    r.pool.release(buf);
  });
});

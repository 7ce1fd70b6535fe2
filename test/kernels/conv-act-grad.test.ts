/**
 * conv2d's input gradient with the previous layer's activation derivative
 * applied, dinp = (the transposed conv of dout) ⊙ act'(y), in every variant of
 * the family (direct, gemm, flipped, igemm, igemm-splitk) against the f64
 * twins (src/reference/conv2d.ts's dx, then activations.ts's backward), for
 * relu, sigmoid and tanh. The direct kernel runs on a shape with padding, a
 * stride and channel counts that are not multiples of 4; the others on shapes
 * they apply to (channels in fours; the flipped route at stride 1; split K
 * with few output tiles and a long K).
 */
import { describe, expect, it } from 'vitest';
import type { ActivationSpec } from '../../src/ops/common.js';
import { CONV2D_BACKWARD_INPUT, conv2dBackwardInputList, type Conv2dShape } from '../../src/ops/conv2d.js';
import { applicableVariants } from '../../src/ops/family.js';
import { activationBackward, activationForward } from '../../src/reference/activations.js';
import { assertClose } from '../../src/reference/compare.js';
import { conv2dBackward, conv2dGeometry } from '../../src/reference/conv2d.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

const ACTIVATIONS: ActivationSpec[] = [{ name: 'relu' }, { name: 'sigmoid' }, { name: 'tanh' }];

const shape = (batch: number, inH: number, inW: number, inC: number, outC: number, k: number, stride: [number, number], padding: 'valid' | 'same'): Conv2dShape =>
  ({ batch, inH, inW, inC, outC, kH: k, kW: k, strideH: stride[0], strideW: stride[1], padding });

/** Per variant: a shape it applies to, and the kernels its dispatches run. */
const CASES: [string, Conv2dShape, (act: string) => RegExp[]][] = [
  ['direct', shape(3, 7, 9, 3, 5, 3, [2, 1], 'same'), () => [/^conv2d_backward_input_act_grad$/]],
  ['gemm', shape(2, 9, 8, 4, 8, 3, [1, 2], 'same'), () => [/^conv2d_gemm_backward_input_act_grad$/]],
  // The flipped route's third dispatch is the forward family's choice on this adapter.
  ['flipped', shape(2, 9, 8, 4, 8, 3, [1, 1], 'valid'), () => [/pad_gradient$/, /flip_weights$/, /./, /^activation_backward/]],
  ['igemm', shape(3, 7, 9, 3, 5, 3, [2, 1], 'same'), () => [/^conv2d_igemm:gemm_act_grad$/]],
  ['igemm-splitk', shape(2, 9, 9, 4, 8, 3, [1, 1], 'same'), () => [/^conv2d_igemm:gemm$/, /^gemm_reduce_act_grad$/]],
];

describe('conv2d backward input with act\'(y) applied', () => {
  for (const [variant, s, kernels] of CASES) for (const act of ACTIVATIONS) {
    it(`${variant}: B${s.batch} ${s.inH}x${s.inW}x${s.inC} → ${s.outC}, k${s.kH} s${s.strideH}x${s.strideW} ${s.padding}, ${act.name}`, async () => {
      const r = rt();
      const g = conv2dGeometry(s);
      const nIn = s.batch * s.inH * s.inW * s.inC, nOut = s.batch * g.outH * g.outW * s.outC, nW = s.kH * s.kW * s.inC * s.outC;
      const rng = makeRng(7000 + nIn + nW + act.name.length);
      // y is the previous layer's output: act of some pre-activations (relu's has exact zeros).
      const y = Float32Array.from(activationForward(act.name, normalF32(rng, nIn), s.inC));
      const w = normalF32(rng, nW, 1 / Math.sqrt(s.kH * s.kW * s.inC));
      const dy = normalF32(rng, nOut);
      const [yBuf, weight, dout] = [y, w, dy].map((d, i) => r.storage(d, `in ${i}`));
      const dinp = outputF32(r, nIn, 'dx');
      const scratch: GPUBuffer[] = [];
      const alloc = (elements: number, name: string) => {
        const buffer = r.storage(Math.max(4, elements * 4), name);
        scratch.push(buffer);
        return buffer;
      };
      const list = await conv2dBackwardInputList(r, s, { dout, weight, dinp, activationGrad: { activation: act, y: yBuf } }, 'dx', { variant, alloc });
      const names = list.map((d) => d.kernel.spec.name);
      const want = kernels(act.name);
      expect(names.length, names.join(', ')).toBe(want.length);
      names.forEach((name, i) => expect(name).toMatch(want[i]!));
      r.submit(list);
      const expected = activationBackward(act.name, y, conv2dBackward(new Float64Array(nIn), w, dy, s).dx, s.inC);
      assertClose(await r.readF32(dinp, nIn), expected, { ...TOL, label: `conv dx act-grad ${variant} ${act.name}` });
      expectNoGpuErrors(r);
      for (const buffer of [yBuf, weight, dout, dinp, ...scratch]) r.pool.release(buffer);
    });
  }

  it('the tuner keys the folded product apart, and every variant of the plain product applies to it', () => {
    const s = shape(32, 13, 13, 32, 64, 3, [1, 1], 'valid');
    expect(CONV2D_BACKWARD_INPUT.shapeKey({ shape: s })).toBe('32x13x13x32>64 k3x3 s1x1 valid');
    expect(CONV2D_BACKWARD_INPUT.shapeKey({ shape: s, activationGrad: { name: 'sigmoid' } })).toBe('32x13x13x32>64 k3x3 s1x1 valid act-grad');
    const r = rt();
    const names = (a?: ActivationSpec) => applicableVariants(r, CONV2D_BACKWARD_INPUT, { shape: s, ...(a ? { activationGrad: a } : {}) }, true).map((v) => v.name);
    expect(names({ name: 'relu' })).toEqual(names());
  });

  it('softmax cannot ride on the product', async () => {
    const r = rt();
    const buf = outputF32(r, 64, 'any');
    await expect(conv2dBackwardInputList(r, shape(1, 4, 4, 1, 1, 3, [1, 1], 'valid'),
      { dout: buf, weight: buf, dinp: buf, activationGrad: { activation: { name: 'softmax' }, y: buf } })).rejects.toThrow(/softmax/);
    r.pool.release(buf);
  });
});

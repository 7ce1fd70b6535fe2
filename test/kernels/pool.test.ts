/**
 * Max pooling kernels (shaders/pool.wgsl) against src/reference/pool.ts:
 * output values and argmax indices must be exactly equal (a max is exact in
 * f32); the backward pass is a sum of dout values, exact without overlap.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES } from '../../src/ops/family.js';
import { MAXPOOL2D_BACKWARD, MAXPOOL2D_FORWARD, maxPool2dBackward, maxPool2dForward, pool2dGeometry, type Pool2dShape } from '../../src/ops/pool.js';
import { assertClose } from '../../src/reference/compare.js';
import {
  maxPool2dBackward as maxPool2dBackwardRef,
  maxPool2dForward as maxPool2dForwardRef,
  pool2dGeometry as pool2dGeometryRef,
} from '../../src/reference/pool.js';
import { activationBackward } from '../../src/reference/activations.js';
import { distinctF32, expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

interface Case {
  name: string;
  shape: Pool2dShape;
  /** Added to every input value (a negative offset checks padded cells never win). */
  offset?: number;
  /** Every input equal: ties go to the first cell in scan order. */
  constant?: boolean;
}

function shape(batch: number, inH: number, inW: number, channels: number, pool: [number, number], stride: [number, number], padding: 'valid' | 'same'): Pool2dShape {
  return { batch, inH, inW, channels, poolH: pool[0], poolW: pool[1], strideH: stride[0], strideW: stride[1], padding };
}

const CASES: Case[] = [
  { name: '2x2/2 valid, 12x12', shape: shape(2, 12, 12, 3, [2, 2], [2, 2], 'valid') },
  { name: '2x2/2 valid, odd 5x7 (last row and column dropped)', shape: shape(3, 5, 7, 2, [2, 2], [2, 2], 'valid') },
  { name: '3x3/3 valid, 11x11 (s001-cnn)', shape: shape(2, 11, 11, 4, [3, 3], [3, 3], 'valid') },
  { name: '3x3/2 valid, overlapping, 11x11', shape: shape(2, 11, 11, 3, [3, 3], [2, 2], 'valid') },
  { name: '3x3/1 valid, overlapping, 5x7', shape: shape(1, 5, 7, 1, [3, 3], [1, 1], 'valid') },
  { name: '2x2/2 same, 5x7', shape: shape(2, 5, 7, 3, [2, 2], [2, 2], 'same') },
  { name: '3x3/2 same, overlapping, 11x11', shape: shape(2, 11, 11, 2, [3, 3], [2, 2], 'same') },
  { name: '3x3/1 same, all inputs negative (padding never wins)', shape: shape(2, 5, 7, 2, [3, 3], [1, 1], 'same'), offset: -100 },
  { name: '2x3/1x2 same, 12x12', shape: shape(1, 12, 12, 5, [2, 3], [1, 2], 'same') },
  { name: '2x2/2 valid, all inputs equal (ties to the first in scan order)', shape: shape(1, 4, 6, 2, [2, 2], [2, 2], 'valid'), constant: true },
  // Channels in multiples of 4: the vec4 kernels.
  { name: '3x3/2 same, overlapping, 11x11, 8 channels', shape: shape(2, 11, 11, 8, [3, 3], [2, 2], 'same') },
  { name: '3x3/1 same, 8 channels, all inputs negative', shape: shape(1, 5, 7, 8, [3, 3], [1, 1], 'same'), offset: -100 },
  { name: '2x2/2 valid, 4 channels, all inputs equal (ties)', shape: shape(1, 4, 6, 4, [2, 2], [2, 2], 'valid'), constant: true },
];

/** The variants of a family that apply to a shape, by name. */
function variantsFor<S>(family: { variants: readonly { name: string; applies(rt: never, s: S): true | string }[] }, s: S): string[] {
  return family.variants.filter((v) => v.applies(undefined as never, s) === true).map((v) => v.name);
}

describe('maxpool2d', () => {
  CASES.forEach((c, index) => {
    it(c.name, async () => {
      const r = rt();
      const s = c.shape;
      const g = pool2dGeometry(s);
      expect(g).toEqual(pool2dGeometryRef(s));
      const nIn = s.batch * s.inH * s.inW * s.channels;
      const nOut = s.batch * g.outH * g.outW * s.channels;
      const rng = makeRng(4000 + index);
      const x = c.constant ? new Float32Array(nIn).fill(0.25) : distinctF32(rng, nIn);
      if (c.offset) for (let i = 0; i < nIn; i++) x[i] = x[i]! + c.offset;
      const dy = normalF32(rng, nOut);
      const want = maxPool2dForwardRef(x, s);
      const wantDx = maxPool2dBackwardRef(dy, want.argmax, s);
      // 'auto', then every variant of each family that applies, by name (each pairing at least once).
      const forward = ['auto', ...variantsFor(MAXPOOL2D_FORWARD, { shape: s, reluGate: false })];
      const backward = ['auto', ...variantsFor(MAXPOOL2D_BACKWARD, s)];
      for (let run = 0; run < Math.max(forward.length, backward.length); run++) {
        const fv = forward[run % forward.length]!;
        const bv = backward[run % backward.length]!;
        const inp = r.storage(x, 'x');
        const out = outputF32(r, nOut, 'out');
        const argmax = r.storage(new Uint32Array(nOut).fill(0xdeadbeef), 'argmax');
        const dout = r.storage(dy, 'dy');
        const dinp = outputF32(r, nIn, 'dx');
        r.submit([
          await maxPool2dForward(r, s, { inp, out, argmax }, 'maxpool2d forward', false, { variant: fv }),
          await maxPool2dBackward(r, s, { dout, argmax, dinp }, 'maxpool2d backward', { variant: bv }),
        ]);
        const gotOut = await r.readF32(out, nOut);
        const gotArgmax = await r.readU32(argmax, nOut);
        expect(Array.from(gotArgmax), fv).toEqual(Array.from(want.argmax));
        expect(Array.from(gotOut), fv).toEqual(Array.from(want.out));
        const gotDx = await r.readF32(dinp, nIn);
        const overlapping = s.strideH < s.poolH || s.strideW < s.poolW;
        if (overlapping) assertClose(gotDx, wantDx, { ...TOL, label: `${c.name} dx (${bv})` });
        else expect(Array.from(gotDx), bv).toEqual(Array.from(wantDx));
        expectNoGpuErrors(r);
        for (const buffer of [inp, out, argmax, dout, dinp]) r.pool.release(buffer);
      }
    });
  });

  it('is two kernel families whose variants say when they apply', () => {
    const s = shape(1, 4, 6, 3, [2, 2], [2, 2], 'valid');
    expect(variantsFor(MAXPOOL2D_FORWARD, { shape: s, reluGate: false })).toEqual(['scalar']);
    expect(variantsFor(MAXPOOL2D_FORWARD, { shape: { ...s, channels: 8 }, reluGate: false })).toEqual(['vec4', 'scalar']);
    expect(variantsFor(MAXPOOL2D_BACKWARD, s)).toEqual(['scatter', 'gather']);
    expect(variantsFor(MAXPOOL2D_BACKWARD, { ...s, strideH: 1 })).toEqual(['gather']);
    expect(FAMILIES.map((f) => f.name)).toEqual(expect.arrayContaining(['maxpool2d.forward', 'maxpool2d.backward']));
  });
});

describe('maxpool2d with the relu gate (the derivative of a relu before it, applied by the pooling)', () => {
  const GATED: Case[] = [
    { name: '2x2/2 valid, 4 channels (vec4)', shape: shape(3, 6, 8, 4, [2, 2], [2, 2], 'valid') },
    { name: '3x3/3 valid, 11x11, 1 channel, last rows dropped', shape: shape(2, 11, 11, 1, [3, 3], [3, 3], 'valid') },
    { name: '3x3/2 same, overlapping, 8 channels', shape: shape(2, 9, 9, 8, [3, 3], [2, 2], 'same') },
  ];
  GATED.forEach((c, index) => {
    it(c.name, async () => {
      const r = rt();
      const s = c.shape;
      const g = pool2dGeometry(s);
      const nIn = s.batch * s.inH * s.inW * s.channels;
      const nOut = s.batch * g.outH * g.outW * s.channels;
      const rng = makeRng(4100 + index);
      // A relu's output: about half the cells 0, and some whole windows 0 (the first sample's first rows).
      const y = distinctF32(rng, nIn).map((v) => Math.max(0, v));
      y.fill(0, 0, 3 * s.inW * s.channels);
      const dy = normalF32(rng, nOut);
      const inp = r.storage(y, 'y');
      const out = outputF32(r, nOut, 'out');
      const argmax = r.storage(new Uint32Array(nOut), 'argmax');
      const dout = r.storage(dy, 'dy');
      const dinp = outputF32(r, nIn, 'dx');
      r.submit([
        await maxPool2dForward(r, s, { inp, out, argmax }, 'gated forward', true),
        await maxPool2dBackward(r, s, { dout, argmax, dinp }),
      ]);
      const want = maxPool2dForwardRef(y, s);
      expect(Array.from(await r.readF32(out, nOut))).toEqual(Array.from(want.out));
      // The relu's backward on the pooling's: what the two passes would give.
      const wantDz = activationBackward('relu', y, maxPool2dBackwardRef(dy, want.argmax, s), s.channels);
      expect(want.out.some((v) => v === 0)).toBe(true);
      assertClose(await r.readF32(dinp, nIn), wantDz, { ...TOL, label: `${c.name} gated dx` });
      expectNoGpuErrors(r);
      for (const buffer of [inp, out, argmax, dout, dinp]) r.pool.release(buffer);
    });
  });
});

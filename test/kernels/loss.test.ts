/**
 * Fused loss kernels (shaders/loss.wgsl) against src/reference/losses.ts: the
 * gradient dz (zero on padding rows), and what the kernel adds to the StepState:
 * lossSum (the SUM of per-row losses = twin mean · validRows), the correct
 * count, seen, and the halt flag on a non-finite loss.
 */
import { describe, expect, it } from 'vitest';
import { lossForwardBackward, type LossKernel } from '../../src/ops/loss.js';
import { createStepState, readStepState, resetStepState, type StepStateValues } from '../../src/ops/step.js';
import { assertClose } from '../../src/reference/compare.js';
import { binaryCrossEntropyWithLogits, meanSquaredError, softmaxCrossEntropy } from '../../src/reference/losses.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { expectNoGpuErrors, makeRng, normalF32, outputF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

/** f32 values as the u32 bit patterns the dense-target kernels read. */
function bits(values: ArrayLike<number>): Uint32Array {
  return new Uint32Array(Float32Array.from(values).buffer);
}

interface LossRun {
  dz: Float32Array;
  state: StepStateValues;
}

/**
 * Runs one loss dispatch on a fresh StepState reset to `sampleCount` (with
 * `step` written into word 0 when given) and reads dz and the state back.
 */
async function runLoss(
  r: Runtime,
  kind: LossKernel,
  s: { batch: number; classes: number; sparse: boolean },
  z: Float32Array,
  targets: Uint32Array,
  sampleCount: number,
  step = 0,
): Promise<LossRun> {
  const zBuffer = r.storage(z, 'z');
  const targetBuffer = r.storage(targets, 'targets');
  const dz = outputF32(r, s.batch * s.classes, 'dz');
  const state = createStepState(r, 'loss state');
  resetStepState(r, state, sampleCount);
  if (step) r.write(state, new Uint32Array([step]), 0);
  r.submit([await lossForwardBackward(r, kind, s, { z: zBuffer, targets: targetBuffer, dz, state })]);
  const result = { dz: await r.readF32(dz, s.batch * s.classes), state: await readStepState(r, state) };
  expectNoGpuErrors(r);
  for (const buffer of [zBuffer, targetBuffer, dz, state]) r.pool.release(buffer);
  return result;
}

function validRowsOf(B: number, sampleCount: number, step = 0): number {
  return Math.max(0, Math.min(B, sampleCount - step * B));
}

/** Rows ≥ valid must be exactly 0 (the dz buffer starts as NaN). */
function expectPaddingZero(dz: Float32Array, valid: number, C: number): void {
  const padding = Array.from(dz.subarray(valid * C));
  expect(padding).toEqual(new Array(padding.length).fill(0));
}

function expectSums(state: StepStateValues, meanLoss: number, valid: number, correct: number): void {
  expect(state.halted).toBe(false);
  expect(state.seen).toBe(valid);
  expect(state.correct).toBe(correct);
  const want = meanLoss * valid;
  expect(Math.abs(state.lossSum - want), `lossSum ${state.lossSum} vs ${want}`).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(want));
}

function argmax(a: ArrayLike<number>, base: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[base + c]! > a[base + best]!) best = c;
  return best;
}

// (B, sampleCount, step): all rows valid, a short last batch, a later step, more rows than threads.
const BATCHES: [number, number, number][] = [
  [7, 7, 0],
  [7, 3, 0],
  [7, 17, 2],
  [1, 1, 0],
  [300, 300, 0],
  [300, 257, 0],
];

describe('softmax_cross_entropy', () => {
  const C = 10;
  for (const [B, sampleCount, step] of BATCHES) {
    const valid = validRowsOf(B, sampleCount, step);
    it(`sparse labels, B ${B}, ${valid} valid rows (sampleCount ${sampleCount}, step ${step})`, async () => {
      const rng = makeRng(6000 + B * 31 + sampleCount + step);
      const z = normalF32(rng, B * C, 3);
      const labels = new Uint32Array(B);
      for (let i = 0; i < B; i++) labels[i] = rng.int(C);
      // Make some rows right, so the correct count is not trivially 0.
      for (let i = 0; i < B; i += 2) labels[i] = argmax(z, i * C, C);
      const got = await runLoss(rt(), 'softmax_cross_entropy', { batch: B, classes: C, sparse: true }, z, labels, sampleCount, step);
      // The twin sees the batch's own rows, so it is called with the rows of this step.
      const want = softmaxCrossEntropy(z, labels, B, C, valid);
      assertClose(got.dz, want.dlogits, { ...TOL, label: 'dz' });
      expectPaddingZero(got.dz, valid, C);
      expectSums(got.state, want.loss, valid, want.correct);
    });

    it(`dense one-hot targets, B ${B}, ${valid} valid rows (sampleCount ${sampleCount}, step ${step})`, async () => {
      const rng = makeRng(6500 + B * 31 + sampleCount + step);
      const z = normalF32(rng, B * C, 3);
      const t = new Float32Array(B * C);
      for (let i = 0; i < B; i++) t[i * C + (i % 2 ? rng.int(C) : argmax(z, i * C, C))] = 1;
      const got = await runLoss(rt(), 'softmax_cross_entropy', { batch: B, classes: C, sparse: false }, z, bits(t), sampleCount, step);
      const want = softmaxCrossEntropy(z, t, B, C, valid);
      assertClose(got.dz, want.dlogits, { ...TOL, label: 'dz' });
      expectPaddingZero(got.dz, valid, C);
      expectSums(got.state, want.loss, valid, want.correct);
    });
  }

  it('dense soft targets (rows not summing to 1) and logits of ±100', async () => {
    const B = 5;
    const rng = makeRng(6900);
    const z = normalF32(rng, B * C, 2);
    z[3] = 100;
    z[17] = -100;
    z[25] = 100;
    z[26] = 100;
    const t = new Float32Array(B * C);
    for (let i = 0; i < B * C; i++) t[i] = rng.next() < 0.3 ? Math.fround(rng.next()) : 0;
    const got = await runLoss(rt(), 'softmax_cross_entropy', { batch: B, classes: C, sparse: false }, z, bits(t), B);
    const want = softmaxCrossEntropy(z, t, B, C);
    expect(got.dz.every(Number.isFinite)).toBe(true);
    assertClose(got.dz, want.dlogits, { ...TOL, label: 'dz' });
    expectSums(got.state, want.loss, B, want.correct);
  });
});

describe('sigmoid_cross_entropy', () => {
  for (const [B, sampleCount, step] of BATCHES) {
    const valid = validRowsOf(B, sampleCount, step);
    it(`B ${B}, ${valid} valid rows (sampleCount ${sampleCount}, step ${step})`, async () => {
      const rng = makeRng(7000 + B * 31 + sampleCount + step);
      const z = normalF32(rng, B, 3);
      const t = new Float32Array(B);
      // Hard labels, and some soft ones.
      for (let i = 0; i < B; i++) t[i] = i % 3 === 2 ? Math.fround(rng.next()) : rng.int(2);
      const got = await runLoss(rt(), 'sigmoid_cross_entropy', { batch: B, classes: 1, sparse: false }, z, bits(t), sampleCount, step);
      const want = binaryCrossEntropyWithLogits(z, t, B, valid);
      assertClose(got.dz, want.dz, { ...TOL, label: 'dz' });
      expectPaddingZero(got.dz, valid, 1);
      expectSums(got.state, want.loss, valid, want.correct);
    });
  }

  it('z = 1e6, t = 0: lossSum 1e6 and dz = 1/B', async () => {
    const got = await runLoss(rt(), 'sigmoid_cross_entropy', { batch: 1, classes: 1, sparse: false }, new Float32Array([1e6]), bits([0]), 1);
    expect(got.state.halted).toBe(false);
    expect(got.state.lossSum).toBe(1e6);
    expect(Array.from(got.dz)).toEqual([1]);
  });

  it('z = 1e6, t = 1: lossSum 0 and dz = 0', async () => {
    const got = await runLoss(rt(), 'sigmoid_cross_entropy', { batch: 1, classes: 1, sparse: false }, new Float32Array([1e6]), bits([1]), 1);
    expect(got.state.halted).toBe(false);
    expect(got.state.lossSum).toBe(0);
    expect(Array.from(got.dz)).toEqual([0]);
    expect(got.state.correct).toBe(1);
  });

  it('z = ±1e6 over a batch of 4: lossSum 2e6, dz ±1/4 or 0, no NaN', async () => {
    const z = new Float32Array([1e6, 1e6, -1e6, -1e6]);
    const got = await runLoss(rt(), 'sigmoid_cross_entropy', { batch: 4, classes: 1, sparse: false }, z, bits([0, 1, 0, 1]), 4);
    expect(got.state.halted).toBe(false);
    expect(got.state.lossSum).toBe(2e6);
    expect(Array.from(got.dz)).toEqual([0.25, 0, 0, -0.25]);
    expect(got.state.correct).toBe(2);
    expect(got.state.seen).toBe(4);
  });

  it('a NaN logit halts: halted true, haltedStep 0, lossSum unchanged', async () => {
    const z = new Float32Array([0.5, Number.NaN, -0.5]);
    const got = await runLoss(rt(), 'sigmoid_cross_entropy', { batch: 3, classes: 1, sparse: false }, z, bits([1, 0, 1]), 3);
    expect(got.state.halted).toBe(true);
    expect(got.state.haltedStep).toBe(0);
    expect(got.state.lossSum).toBe(0);
    expect(got.state.seen).toBe(0);
    expect(got.state.correct).toBe(0);
  });
});

describe('mean_squared_error', () => {
  for (const C of [3, 1]) {
    for (const [B, sampleCount, step] of BATCHES) {
      const valid = validRowsOf(B, sampleCount, step);
      it(`C ${C}, B ${B}, ${valid} valid rows (sampleCount ${sampleCount}, step ${step})`, async () => {
        const rng = makeRng(8000 + C * 1000 + B * 31 + sampleCount + step);
        const y = normalF32(rng, B * C);
        const t = normalF32(rng, B * C);
        const got = await runLoss(rt(), 'mean_squared_error', { batch: B, classes: C, sparse: false }, y, bits(t), sampleCount, step);
        const want = meanSquaredError(y, t, B, C, valid);
        let correct = 0;
        for (let row = 0; row < valid; row++) {
          if (C === 1) correct += (y[row]! > 0.5) === (t[row]! > 0.5) ? 1 : 0;
          else correct += argmax(y, row * C, C) === argmax(t, row * C, C) ? 1 : 0;
        }
        assertClose(got.dz, want.dy, { ...TOL, label: 'dz' });
        expectPaddingZero(got.dz, valid, C);
        expectSums(got.state, want.loss, valid, correct);
      });
    }
  }
});

describe('StepState accumulation', () => {
  it('sums over two batches, and a halted state stays put with its halted step', async () => {
    const r = rt();
    const B = 4;
    const C = 3;
    const rng = makeRng(9000);
    const z = normalF32(rng, B * C);
    const labels = new Uint32Array([0, 1, 2, 1]);
    const zBuffer = r.storage(z, 'z');
    const targets = r.storage(labels, 'labels');
    const dz = outputF32(r, B * C, 'dz');
    const state = createStepState(r, 'state');
    resetStepState(r, state, 6);
    const loss = await lossForwardBackward(r, 'softmax_cross_entropy', { batch: B, classes: C, sparse: true }, { z: zBuffer, targets, dz, state });
    r.submit([loss]);
    r.write(state, new Uint32Array([1]), 0); // step 1: rows 0 and 1 are valid
    r.submit([loss]);
    const both = await readStepState(r, state);
    const first = softmaxCrossEntropy(z, labels, B, C, 4);
    const second = softmaxCrossEntropy(z, labels, B, C, 2);
    expect(both.seen).toBe(6);
    expect(both.correct).toBe(first.correct + second.correct);
    const want = first.loss * 4 + second.loss * 2;
    expect(Math.abs(both.lossSum - want)).toBeLessThanOrEqual(1e-5 + 1e-4 * want);

    // A NaN at step 1 halts with haltedStep 1; a further batch adds nothing.
    r.write(zBuffer, new Float32Array([Number.NaN]), 4);
    r.submit([loss]);
    r.write(zBuffer, z);
    r.write(state, new Uint32Array([0]), 0);
    r.submit([loss]);
    const halted = await readStepState(r, state);
    expect(halted.halted).toBe(true);
    expect(halted.haltedStep).toBe(1);
    expect(halted.lossSum).toBe(both.lossSum);
    expect(halted.seen).toBe(6);
    expect(halted.correct).toBe(both.correct);
    expectNoGpuErrors(r);
    for (const buffer of [zBuffer, targets, dz, state]) r.pool.release(buffer);
  });
});

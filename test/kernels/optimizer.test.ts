/**
 * Optimizer kernels (shaders/optimizer.wgsl) against src/reference/optimizers.ts:
 * three steps on a 37-element tensor (the f32 kernels) and a 64-element one
 * (the vec4 kernels), with the iteration count kept on the GPU
 * (state.iteration, advanced by advance_step between steps) and the twin called
 * with t = 1, 2, 3 and the scheduled learning rate. Params and every slot are
 * compared after each step.
 */
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime.js';
import { advanceStep } from '../../src/ops/batch.js';
import { FAMILIES } from '../../src/ops/family.js';
import { hyperUniform, OPTIMIZER_STEP, optimizerStep, slotCount, type OptimizerHyper, type OptimizerKind } from '../../src/ops/optimizer.js';
import { createStepState, readStepState, resetStepState } from '../../src/ops/step.js';
import { assertClose } from '../../src/reference/compare.js';
import {
  initSlots,
  learningRateAt,
  optimizerStep as optimizerStepRef,
  type OptimizerHyper as RefHyper,
  type Schedule,
} from '../../src/reference/optimizers.js';
import { expectNoGpuErrors, makeRng, normalF32, TOL, useRuntime } from './gpu.js';

const rt = useRuntime();

const N = 37;
const KINDS: OptimizerKind[] = ['sgd', 'momentum', 'momentumAverage', 'nesterov', 'rmsprop', 'adam', 'adagrad', 'adadelta'];
const INITIAL_ACCUMULATOR = 0.1;

/** Per-kind base hyperparameters; learning rates large enough that every step moves the weights visibly. */
function baseHyper(kind: OptimizerKind): OptimizerHyper {
  const h: OptimizerHyper = {
    lr: 0.05,
    momentum: 0,
    beta1: 0.9,
    beta2: 0.999,
    rho: 0.9,
    epsilon: 1e-7,
    l2: 0,
    weightDecay: 0,
    decayRate: 1,
    decaySteps: 1,
    staircase: false,
  };
  if (kind === 'momentum' || kind === 'momentumAverage' || kind === 'nesterov') h.momentum = 0.9;
  // Adadelta's steps are ~sqrt(epsilon)·lr: a larger epsilon and lr 1 make them ~0.03.
  if (kind === 'adadelta') Object.assign(h, { lr: 1, epsilon: 1e-3 });
  return h;
}

interface Variant {
  name: string;
  change: Partial<OptimizerHyper>;
}

const VARIANTS: Variant[] = [
  { name: 'constant rate', change: {} },
  { name: 'l2 0.01 and weightDecay 0.02', change: { l2: 0.01, weightDecay: 0.02 } },
  { name: 'exponential decay, staircase, decaySteps 2, rate 0.5', change: { decayRate: 0.5, decaySteps: 2, staircase: true } },
  { name: 'exponential decay, smooth, decaySteps 2, rate 0.5', change: { decayRate: 0.5, decaySteps: 2, staircase: false } },
];

/** The twin's hyperparameters, each rounded to f32 as the GPU's uniform holds it. */
function refHyper(h: OptimizerHyper): RefHyper {
  const f = Math.fround;
  return {
    lr: f(h.lr),
    momentum: f(h.momentum),
    beta1: f(h.beta1),
    beta2: f(h.beta2),
    rho: f(h.rho),
    epsilon: f(h.epsilon),
    l2: f(h.l2),
    weightDecay: f(h.weightDecay),
    initialAccumulator: f(INITIAL_ACCUMULATOR),
  };
}

function scheduleOf(h: OptimizerHyper): Schedule {
  return h.decayRate === 1 ? { kind: 'constant' } : { kind: 'exponentialDecay', decaySteps: h.decaySteps, decayRate: Math.fround(h.decayRate), staircase: h.staircase };
}

interface Setup {
  param: GPUBuffer;
  grad: GPUBuffer;
  hyper: GPUBuffer;
  state: GPUBuffer;
  slots: GPUBuffer[];
  w0: Float32Array;
  grads: Float32Array[];
  slotCount: number;
  step: Awaited<ReturnType<typeof optimizerStep>>;
  advance: Awaited<ReturnType<typeof advanceStep>>;
}


async function setup(r: Runtime, kind: OptimizerKind, h: OptimizerHyper, seed: number, count = N): Promise<Setup> {
  const rng = makeRng(seed);
  const w0 = normalF32(rng, count);
  const grads = [normalF32(rng, count), normalF32(rng, count), normalF32(rng, count)];
  const slots = slotCount(kind);
  const param = r.storage(w0, 'param');
  const grad = r.storage(grads[0]!, 'grad');
  const hyper = r.uniform(hyperUniform(h), 'hyper');
  const state = createStepState(r, 'state');
  resetStepState(r, state, 1, 0);
  const slotBuffers: GPUBuffer[] = [];
  for (let s = 0; s < slots; s++) {
    slotBuffers.push(r.storage(new Float32Array(count).fill(kind === 'adagrad' ? INITIAL_ACCUMULATOR : 0), `slot${s}`));
  }
  const step = await optimizerStep(r, kind, { count, slots }, { param, grad, hyper, state, slot0: slotBuffers[0], slot1: slotBuffers[1] });
  const advance = await advanceStep(r, true, state);
  return { param, grad, hyper, state, slots: slotBuffers, w0, grads, slotCount: slots, step, advance };
}

function release(r: Runtime, s: Setup): void {
  for (const buffer of [s.param, s.grad, s.hyper, s.state, ...s.slots]) r.pool.release(buffer);
}

describe('optimizer kernels, three steps against the twin', () => {
  KINDS.forEach((kind, k) => {
    const variants = kind === 'rmsprop' ? [...VARIANTS, { name: 'momentum 0.9 (two slots)', change: { momentum: 0.9 } }] : VARIANTS;
    variants.forEach((variant, v) => [37, 64].forEach((N) => {
      it(`${kind}: ${variant.name}, ${N} values`, async () => {
        const r = rt();
        const h = { ...baseHyper(kind), ...variant.change };
        const s = await setup(r, kind, h, 10_000 + k * 100 + v, N);
        const ref = refHyper(h);
        const schedule = scheduleOf(h);
        const w = Float64Array.from(s.w0);
        const refSlots = initSlots(kind, ref, N);
        for (let t = 1; t <= 3; t++) {
          const g = s.grads[t - 1]!;
          r.write(s.grad, g);
          r.submit([s.step, s.advance]);
          optimizerStepRef(kind, { ...ref, lr: learningRateAt(ref.lr, schedule, t) }, w, g, refSlots, t);
          const label = `${kind} ${variant.name}, step ${t}`;
          const got = await r.readF32(s.param, N);
          assertClose(got, w, { ...TOL, label: `${label} param` });
          for (let slot = 0; slot < s.slotCount; slot++) {
            assertClose(await r.readF32(s.slots[slot]!, N), refSlots[slot]!, { ...TOL, label: `${label} slot${slot}` });
          }
        }
        // The weights did move: the comparison above is not of two unchanged arrays.
        const moved = Array.from(w).filter((value, i) => Math.abs(value - s.w0[i]!) > 1e-3).length;
        expect(moved).toBeGreaterThan(N / 2);
        const state = await readStepState(r, s.state);
        expect(state.iteration).toBe(3);
        expect(state.step).toBe(3);
        expectNoGpuErrors(r);
        release(r, s);
      });
    }));
  });
});

describe('optimizer kernels with state.halted set', () => {
  KINDS.forEach((kind, k) => {
    it(`${kind} leaves params and slots unchanged, and iteration stays`, async () => {
      const r = rt();
      const h = { ...baseHyper(kind), l2: 0.01, weightDecay: 0.02 };
      const s = await setup(r, kind, h, 20_000 + k);
      const slotsBefore = await Promise.all(s.slots.map((slot) => r.readF32(slot, N)));
      r.write(s.state, new Uint32Array([1]), 12); // halted
      r.submit([s.step, s.advance]);
      r.submit([s.step, s.advance]);
      expect(Array.from(await r.readF32(s.param, N))).toEqual(Array.from(s.w0));
      for (let slot = 0; slot < s.slotCount; slot++) {
        expect(Array.from(await r.readF32(s.slots[slot]!, N))).toEqual(Array.from(slotsBefore[slot]!));
      }
      const state = await readStepState(r, s.state);
      expect(state.halted).toBe(true);
      expect(state.iteration).toBe(0);
      expectNoGpuErrors(r);
      release(r, s);
    });
  });
});

describe('slotCount matches what the kernels bind', () => {
  // rmsprop_step uses slot1 inside a run-time branch on momentum, so the
  // pipeline always has binding 5: slotCount must count it even at momentum 0.
  it('rmsprop with momentum 0 builds and steps with slotCount(...) slot buffers', async () => {
    const r = rt();
    const h = baseHyper('rmsprop');
    expect(h.momentum).toBe(0);
    const count = 41;
    const s = await setup(r, 'rmsprop', h, 30_000, count);
    const ref = refHyper(h);
    const w = Float64Array.from(s.w0);
    const refSlots = initSlots('rmsprop', ref, count);
    r.write(s.grad, s.grads[0]!);
    r.submit([s.step, s.advance]);
    optimizerStepRef('rmsprop', ref, w, s.grads[0]!, refSlots, 1);
    assertClose(await r.readF32(s.param, count), w, { ...TOL, label: 'rmsprop momentum 0, one slot' });
    expectNoGpuErrors(r);
    release(r, s);
  });
});

describe('optimizer.step family', () => {
  it('has exactly one variant for each count (a timing run would be an extra step): vec4 for multiples of 4, scalar otherwise', () => {
    const applying = (count: number) =>
      OPTIMIZER_STEP.variants.filter((v) => v.applies(undefined as never, { kind: 'adam', count, slots: 2 }) === true).map((v) => v.name);
    expect(applying(64)).toEqual(['vec4']);
    expect(applying(37)).toEqual(['scalar']);
    expect(FAMILIES).toContain(OPTIMIZER_STEP);
  });
});

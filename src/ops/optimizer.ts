/**
 * Optimizer update kernels (shaders/optimizer.wgsl), as the kernel family
 * `optimizer.step` (src/ops/family.ts): 'vec4' (four values per load, where
 * the count is a multiple of 4) and 'scalar' (the other counts). The step
 * updates the parameters and slots in place, so a second run is a second
 * step: exactly one variant applies to each shape, and the tuner never times
 * (runs) it. Both read the same formula per value, so both give the same
 * numbers.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, type Resource } from './common.js';
import { defineFamily, runFamily } from './family.js';
import { WGSL } from './sources.js';

export type OptimizerKind = 'sgd' | 'momentum' | 'momentumAverage' | 'nesterov' | 'rmsprop' | 'adam' | 'adagrad' | 'adadelta';

export interface OptimizerHyper {
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  rho: number;
  epsilon: number;
  /** L2 penalty as a loss term: g += 2·l2·w. */
  l2: number;
  /** Decoupled decay: w −= lr·g + weightDecay·w. */
  weightDecay: number;
  /** Learning-rate schedule: lr · decayRate^(iteration / decaySteps). */
  decayRate: number;
  decaySteps: number;
  staircase: boolean;
}

const ENTRY: Record<OptimizerKind, string> = {
  sgd: 'sgd_step',
  momentum: 'momentum_step',
  momentumAverage: 'momentum_average_step',
  nesterov: 'nesterov_step',
  rmsprop: 'rmsprop_step',
  adam: 'adam_step',
  adagrad: 'adagrad_step',
  adadelta: 'adadelta_step',
};

/** Optimizer state vectors per parameter. */
export function slotCount(kind: OptimizerKind): number {
  switch (kind) {
    case 'sgd':
      return 0;
    case 'momentum':
    case 'momentumAverage':
    case 'nesterov':
    case 'adagrad':
      return 1;
    case 'rmsprop': // ms, and mom (bound even when momentum is 0: the WGSL branch is decided at run time)
    case 'adam':
    case 'adadelta':
      return 2;
  }
}

/** The uniform block of shaders/optimizer.wgsl's `Hyper`. */
export function hyperUniform(h: OptimizerHyper): Float32Array {
  return new Float32Array([
    h.lr, h.momentum, h.beta1, h.beta2, h.rho, h.epsilon, h.l2, h.weightDecay,
    h.decayRate, h.decaySteps, h.staircase ? 1 : 0, 0,
  ]);
}

const WG = 64;
/** Values (f32, or vec4 where the count allows) each thread updates (PER_THREAD in optimizer.wgsl). */
const PER_THREAD = 16;

/** What the family's variants take. */
export interface OptimizerStepCall { kind: OptimizerKind; count: number; slots: number }
export interface OptimizerStepOperands { param: Resource; grad: Resource; hyper: Resource; state: Resource; slot0?: Resource; slot1?: Resource }

async function stepKernel(rt: Runtime, s: OptimizerStepCall, r: OptimizerStepOperands, label: string, vec: 1 | 4): Promise<Dispatch[]> {
  const { kind } = s;
  const bindings = [
    { name: 'param', kind: 'storage' as const },
    { name: 'grad', kind: 'read-only-storage' as const },
    { name: 'hyper', kind: 'uniform' as const },
    { name: 'state', kind: 'read-only-storage' as const },
    { name: 'slot0', kind: 'storage' as const },
    { name: 'slot1', kind: 'storage' as const },
  ].slice(0, 4 + s.slots);
  const kernel = await rt.kernel({
    name: ENTRY[kind],
    sources: [WGSL.stepState, WGSL.optimizer],
    entryPoint: ENTRY[kind],
    bindings,
    overrides: { COUNT: s.count },
    defines: { VEC4: vec === 4 },
    workgroupSize: [WG],
  });
  const slots = [r.slot0, r.slot1].slice(0, s.slots);
  if (slots.some((slot) => !slot)) throw new Error(`${kind} needs ${s.slots} slot buffers.`);
  return [rt.dispatch(kernel, [r.param, r.grad, r.hyper, r.state, ...(slots as Resource[])], grid1d(Math.ceil(s.count / vec / PER_THREAD), WG), label)];
}

export const OPTIMIZER_STEP = defineFamily<OptimizerStepCall, OptimizerStepOperands>({
  name: 'optimizer.step',
  summary: 'param, slots = the optimizer\'s update from grad (in place)',
  shapeKey: (s) => `${s.kind} ${s.count}`,
  variants: [
    {
      name: 'vec4', files: ['stepState', 'optimizer'],
      applies: (_rt, s) => s.count % 4 === 0 || `it needs a count divisible by 4, got ${s.count}`,
      record: (rt, s, r, label) => stepKernel(rt, s, r, label, 4),
    },
    {
      name: 'scalar', files: ['stepState', 'optimizer'],
      // Not where vec4 applies: one candidate per shape, never timed (a timing run would be an extra step).
      applies: (_rt, s) => s.count % 4 !== 0 || 'the count is divisible by 4: the vec4 variant does this step',
      record: (rt, s, r, label) => stepKernel(rt, s, r, label, 1),
    },
  ],
  order: { cpu: ['vec4', 'scalar'], gpu: ['vec4', 'scalar'] },
});

/** One optimizer step over `count` parameters, in place. */
export async function optimizerStep(
  rt: Runtime,
  kind: OptimizerKind,
  s: { count: number; slots: number },
  r: OptimizerStepOperands,
  label = `${kind} step`,
): Promise<Dispatch> {
  const [d] = await runFamily(rt, OPTIMIZER_STEP, { kind, count: s.count, slots: s.slots }, r, label);
  return d!;
}

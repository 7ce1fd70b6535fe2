/** Optimizer update kernels (shaders/optimizer.wgsl). */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { grid1d, type Resource } from './common.js';
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

export async function optimizerStep(
  rt: Runtime,
  kind: OptimizerKind,
  s: { count: number; slots: number },
  r: { param: Resource; grad: Resource; hyper: Resource; state: Resource; slot0?: Resource; slot1?: Resource },
  label = `${kind} step`,
): Promise<Dispatch> {
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
    defines: { VEC4: s.count % 4 === 0 },
    workgroupSize: [WG],
  });
  const slots = [r.slot0, r.slot1].slice(0, s.slots);
  if (slots.some((slot) => !slot)) throw new Error(`${kind} needs ${s.slots} slot buffers.`);
  return rt.dispatch(kernel, [r.param, r.grad, r.hyper, r.state, ...(slots as Resource[])], grid1d(Math.ceil(s.count / (s.count % 4 === 0 ? 4 : 1) / PER_THREAD), WG), label);
}

/**
 * Optimizers as configurations: what shaders/optimizer.wgsl needs to run them.
 * Defaults are Keras's. The learning rate is a number or a schedule; schedules
 * are evaluated on the GPU from the iteration count, so a step never waits on
 * the CPU.
 */
import { slotCount, type OptimizerHyper, type OptimizerKind } from '../ops/optimizer.js';

export type Schedule =
  | { kind: 'constant'; learningRate: number }
  | { kind: 'exponentialDecay'; initialLearningRate: number; decaySteps: number; decayRate: number; staircase: boolean };

export interface Optimizer {
  readonly kind: OptimizerKind;
  readonly name: string;
  readonly schedule: Schedule;
  readonly hyper: Omit<OptimizerHyper, 'l2' | 'lr' | 'decayRate' | 'decaySteps' | 'staircase'>;
  /**
   * The state the update keeps beside every parameter: one entry per slot
   * (shaders/optimizer.wgsl's slot0, slot1), the value that slot starts at.
   */
  readonly slots: readonly number[];
  /** A short description for reports, e.g. 'SGD(lr=0.01, momentum=0.9)'. */
  describe(): string;
}

/** Keras ExponentialDecay: lr · decayRate^(step / decaySteps), floored when staircase. */
export function exponentialDecay(options: {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}): Schedule {
  if (!(options.decaySteps > 0)) throw new Error('exponentialDecay: decaySteps must be > 0.');
  return { kind: 'exponentialDecay', staircase: false, ...options };
}

export function scheduleHyper(schedule: Schedule): Pick<OptimizerHyper, 'lr' | 'decayRate' | 'decaySteps' | 'staircase'> {
  return schedule.kind === 'constant'
    ? { lr: schedule.learningRate, decayRate: 1, decaySteps: 1, staircase: false }
    : { lr: schedule.initialLearningRate, decayRate: schedule.decayRate, decaySteps: schedule.decaySteps, staircase: schedule.staircase };
}

export function learningRateAt(schedule: Schedule, iteration: number): number {
  const h = scheduleHyper(schedule);
  const progress = h.staircase ? Math.floor(iteration / h.decaySteps) : iteration / h.decaySteps;
  return h.lr * Math.pow(h.decayRate, progress);
}

type LearningRate = number | Schedule;

interface Common {
  learningRate?: LearningRate;
  /** Decoupled weight decay: w −= lr·g + weightDecay·w. */
  weightDecay?: number;
}

function toSchedule(lr: LearningRate): Schedule {
  if (typeof lr === 'number') {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`learningRate must be a positive number, got ${lr}.`);
    return { kind: 'constant', learningRate: lr };
  }
  return lr;
}

function describeSchedule(s: Schedule): string {
  return s.kind === 'constant'
    ? `lr=${s.learningRate}`
    : `lr=${s.initialLearningRate}·${s.decayRate}^(step/${s.decaySteps})${s.staircase ? ' staircase' : ''}`;
}

function make(
  kind: OptimizerKind,
  name: string,
  schedule: Schedule,
  hyper: Partial<Optimizer['hyper']>,
  extras: string[],
  slots: readonly number[] = new Array<number>(slotCount(kind)).fill(0),
): Optimizer {
  const full = { momentum: 0, beta1: 0.9, beta2: 0.999, rho: 0.9, epsilon: 1e-7, weightDecay: 0, ...hyper };
  return {
    kind,
    name,
    schedule,
    hyper: full,
    slots,
    describe: () => `${name}(${[describeSchedule(schedule), ...extras, ...(full.weightDecay ? [`weightDecay=${full.weightDecay}`] : [])].join(', ')})`,
  };
}

/**
 * SGD, Keras's defaults (lr 0.01). With `momentum`: v = momentum·v + lr·g, w −= v
 * (Keras's form); `nesterov: true` for Nesterov momentum; `averaged: true` for
 * the exponential-average form v = momentum·v + (1 − momentum)·g, w −= lr·v.
 */
export function sgd(options: Common & { momentum?: number; nesterov?: boolean; averaged?: boolean } = {}): Optimizer {
  const schedule = toSchedule(options.learningRate ?? 0.01);
  const momentum = options.momentum ?? 0;
  if (momentum < 0 || momentum >= 1) throw new Error(`sgd: momentum must be in [0, 1), got ${momentum}.`);
  const kind: OptimizerKind = options.averaged ? 'momentumAverage' : options.nesterov ? 'nesterov' : momentum > 0 ? 'momentum' : 'sgd';
  const extras = momentum > 0 ? [`momentum=${momentum}`, ...(options.nesterov ? ['nesterov'] : []), ...(options.averaged ? ['averaged'] : [])] : [];
  return make(kind, 'SGD', schedule, { momentum, weightDecay: options.weightDecay ?? 0 }, extras);
}

/** RMSprop: lr 0.001, rho 0.9, optional momentum, epsilon 1e-7. */
export function rmsprop(options: Common & { rho?: number; momentum?: number; epsilon?: number } = {}): Optimizer {
  const momentum = options.momentum ?? 0;
  const rho = options.rho ?? 0.9;
  return make('rmsprop', 'RMSprop', toSchedule(options.learningRate ?? 0.001), {
    rho, momentum, epsilon: options.epsilon ?? 1e-7, weightDecay: options.weightDecay ?? 0,
  }, [`rho=${rho}`, ...(momentum > 0 ? [`momentum=${momentum}`] : [])]);
}

/** Adam: lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7. */
export function adam(options: Common & { beta1?: number; beta2?: number; epsilon?: number } = {}): Optimizer {
  return make('adam', 'Adam', toSchedule(options.learningRate ?? 0.001), {
    beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-7, weightDecay: options.weightDecay ?? 0,
  }, []);
}

/** Adagrad: lr 0.001, accumulator starting at 0.1, epsilon 1e-7. */
export function adagrad(options: Common & { initialAccumulator?: number; epsilon?: number } = {}): Optimizer {
  return make('adagrad', 'Adagrad', toSchedule(options.learningRate ?? 0.001), {
    epsilon: options.epsilon ?? 1e-7, weightDecay: options.weightDecay ?? 0,
  }, [], [options.initialAccumulator ?? 0.1]);
}

/** Adadelta: lr 0.001, rho 0.95, epsilon 1e-7. */
export function adadelta(options: Common & { rho?: number; epsilon?: number } = {}): Optimizer {
  const rho = options.rho ?? 0.95;
  return make('adadelta', 'Adadelta', toSchedule(options.learningRate ?? 0.001), {
    rho, epsilon: options.epsilon ?? 1e-7, weightDecay: options.weightDecay ?? 0,
  }, [`rho=${rho}`]);
}

export type OptimizerName = 'sgd' | 'rmsprop' | 'adam' | 'adagrad' | 'adadelta';

export function resolveOptimizer(optimizer: Optimizer | OptimizerName): Optimizer {
  if (typeof optimizer !== 'string') return optimizer;
  const factories = { sgd, rmsprop, adam, adagrad, adadelta };
  const factory = factories[optimizer];
  if (!factory) throw new Error(`Unknown optimizer '${optimizer}'. Known: ${Object.keys(factories).join(', ')}.`);
  return factory();
}

/**
 * Optimizer updates with Keras 3 semantics, CPU twins of the optimizer WGSL kernels.
 *
 * One call = one step t (t = 1 on the first step) on one weight tensor, elementwise:
 *   1. L2 regularisation (Keras kernel_regularizer = l2(l2), a loss term l2·Σw²):
 *        if l2 > 0: g ← g + 2·l2·w
 *   2. the optimizer's own update of w and its slots (below), with lr = hyper.lr
 *      (the caller puts learningRateAt(...) there when a schedule is used)
 *   3. decoupled weight decay: if weightDecay > 0, additionally w ← w − weightDecay·w_old,
 *      where w_old is the weight before this step. NOTE: this is not multiplied by lr
 *      (Keras 3's `weight_decay` option multiplies by lr; this project's kernels do not).
 *
 * Slots (state arrays, one per slot, each the length of w) must be created by the
 * caller — see initSlots: all zero, except adagrad's accumulator, which starts at
 * hyper.initialAccumulator (Keras default 0.1).
 */

export type OptimizerKind =
  | 'sgd'
  | 'momentum'
  | 'momentumAverage'
  | 'nesterov'
  | 'rmsprop'
  | 'adam'
  | 'adagrad'
  | 'adadelta';

export interface OptimizerHyper {
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  rho: number;
  epsilon: number;
  /** L2 regularisation factor (loss term l2·Σw²); 0 = off. */
  l2: number;
  /** Decoupled weight decay (w −= weightDecay·w_old per step); 0 = off. */
  weightDecay: number;
  /** Adagrad's starting accumulator value (used by initSlots only). */
  initialAccumulator: number;
}

/**
 * Number of state arrays each optimizer keeps, and their order in `slots`:
 *   sgd 0; momentum, momentumAverage, nesterov 1 [v]; adagrad 1 [acc];
 *   rmsprop 2 [ms, mom]; adam 2 [m, v]; adadelta 2 [accGrad, accDelta]
 */
export function slotCount(kind: OptimizerKind): number {
  switch (kind) {
    case 'sgd':
      return 0;
    case 'momentum':
    case 'momentumAverage':
    case 'nesterov':
    case 'adagrad':
      return 1;
    case 'rmsprop':
    case 'adam':
    case 'adadelta':
      return 2;
    default:
      return unknownKind(kind);
  }
}

/** Fresh slots for a tensor of n weights: zeros, except adagrad's acc = initialAccumulator. */
export function initSlots(kind: OptimizerKind, hyper: OptimizerHyper, n: number): Float64Array[] {
  const slots: Float64Array[] = [];
  for (let s = 0; s < slotCount(kind); s++) slots.push(new Float64Array(n));
  if (kind === 'adagrad') slots[0]!.fill(hyper.initialAccumulator);
  return slots;
}

/**
 * One update step t ≥ 1, in place on w and slots (g is not modified). Per element,
 * after g ← g + 2·l2·w:
 *   sgd:             w −= lr·g
 *   momentum:        v = μ·v + lr·g;            w −= v
 *   momentumAverage: v = μ·v + (1 − μ)·g;       w −= lr·v
 *   nesterov:        v = μ·v − lr·g;            w += μ·v − lr·g
 *   rmsprop:         ms = ρ·ms + (1 − ρ)·g²;  inc = lr·g / √(ms + ε);
 *                    μ > 0: mom = μ·mom + inc; w −= mom    else: w −= inc
 *   adam:            m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²;
 *                    αt = lr·√(1 − β2^t) / (1 − β1^t);  w −= αt·m / (√v + ε)
 *   adagrad:         acc += g²;  w −= lr·g / √(acc + ε)
 *   adadelta:        accGrad = ρ·accGrad + (1 − ρ)·g²;
 *                    δ = √(accDelta + ε) / √(accGrad + ε) · g;
 *                    accDelta = ρ·accDelta + (1 − ρ)·δ²;  w −= lr·δ
 * then, if weightDecay > 0: w −= weightDecay·w_old.
 * w, g and each slot are (n)
 */
export function optimizerStep(
  kind: OptimizerKind,
  hyper: OptimizerHyper,
  w: Float64Array,
  g: ArrayLike<number>,
  slots: Float64Array[],
  t: number,
): void {
  const n = w.length;
  if (g.length !== n) throw new Error(`optimizerStep: g length ${g.length}, w length ${n}`);
  const need = slotCount(kind);
  if (slots.length !== need) throw new Error(`optimizerStep(${kind}): needs ${need} slots, got ${slots.length}`);
  for (const s of slots) if (s.length !== n) throw new Error(`optimizerStep: slot length ${s.length}, w length ${n}`);
  if (!(t >= 1)) throw new Error(`optimizerStep: iteration t must be ≥ 1, got ${t}`);

  const { lr, momentum: mu, beta1, beta2, rho, epsilon: eps, l2, weightDecay } = hyper;
  // Adam's step size with both bias corrections folded in (Keras form).
  const alphaT = kind === 'adam' ? (lr * Math.sqrt(1 - Math.pow(beta2, t))) / (1 - Math.pow(beta1, t)) : 0;

  for (let i = 0; i < n; i++) {
    const wOld = w[i]!;
    const gi = l2 > 0 ? g[i]! + 2 * l2 * wOld : g[i]!;
    let wNew: number;
    switch (kind) {
      case 'sgd':
        wNew = wOld - lr * gi;
        break;
      case 'momentum': {
        const v = slots[0]!;
        v[i] = mu * v[i]! + lr * gi;
        wNew = wOld - v[i]!;
        break;
      }
      case 'momentumAverage': {
        const v = slots[0]!;
        v[i] = mu * v[i]! + (1 - mu) * gi;
        wNew = wOld - lr * v[i]!;
        break;
      }
      case 'nesterov': {
        const v = slots[0]!;
        v[i] = mu * v[i]! - lr * gi;
        wNew = wOld + mu * v[i]! - lr * gi;
        break;
      }
      case 'rmsprop': {
        const [ms, mom] = slots as [Float64Array, Float64Array];
        ms[i] = rho * ms[i]! + (1 - rho) * gi * gi;
        const inc = (lr * gi) / Math.sqrt(ms[i]! + eps);
        if (mu > 0) {
          mom[i] = mu * mom[i]! + inc;
          wNew = wOld - mom[i]!;
        } else {
          wNew = wOld - inc;
        }
        break;
      }
      case 'adam': {
        const [m, v] = slots as [Float64Array, Float64Array];
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        wNew = wOld - (alphaT * m[i]!) / (Math.sqrt(v[i]!) + eps);
        break;
      }
      case 'adagrad': {
        const acc = slots[0]!;
        acc[i] = acc[i]! + gi * gi;
        wNew = wOld - (lr * gi) / Math.sqrt(acc[i]! + eps);
        break;
      }
      case 'adadelta': {
        const [accGrad, accDelta] = slots as [Float64Array, Float64Array];
        accGrad[i] = rho * accGrad[i]! + (1 - rho) * gi * gi;
        const delta = (Math.sqrt(accDelta[i]! + eps) / Math.sqrt(accGrad[i]! + eps)) * gi;
        accDelta[i] = rho * accDelta[i]! + (1 - rho) * delta * delta;
        wNew = wOld - lr * delta;
        break;
      }
      default:
        return unknownKind(kind);
    }
    if (weightDecay > 0) wNew -= weightDecay * wOld;
    w[i] = wNew;
  }
}

/**
 * The twin of the schedule shaders/optimizer.wgsl evaluates from its Hyper
 * block: the learning rate stays apart, as it does there. The product's one
 * Schedule (src/optimizers/optimizers.ts) carries its learning rate; this
 * twin shares no code with it on purpose.
 */
export type Schedule =
  | { kind: 'constant' }
  | { kind: 'exponentialDecay'; decaySteps: number; decayRate: number; staircase: boolean };

/**
 * Learning rate for update number `iteration` (1 for the first step):
 *   constant:          baseLr
 *   exponentialDecay:  baseLr · decayRate^(step / decaySteps), step = iteration − 1
 *                      (floor(step / decaySteps) when staircase)
 * step is Keras's `optimizer.iterations` before the update (updates already applied).
 */
export function learningRateAt(baseLr: number, schedule: Schedule, iteration: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'exponentialDecay': {
      const step = iteration - 1;
      let p = step / schedule.decaySteps;
      if (schedule.staircase) p = Math.floor(p);
      return baseLr * Math.pow(schedule.decayRate, p);
    }
    default:
      return unknownKind(schedule);
  }
}

function unknownKind(kind: never): never {
  throw new Error(`unknown kind ${JSON.stringify(kind)}`);
}

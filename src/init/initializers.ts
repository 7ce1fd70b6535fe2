/**
 * Weight initialisers, Keras's names and formulas, drawn on the CPU in f64 from
 * the model's seeded Rng and uploaded once.
 *
 * fanIn/fanOut: a dense kernel (IN, OUT) has fanIn = IN, fanOut = OUT; a conv
 * kernel (KH, KW, CIN, COUT) has fanIn = KH·KW·CIN, fanOut = KH·KW·COUT.
 */
import type { Rng } from '../data/random.js';

export type Distribution = 'truncatedNormal' | 'normal' | 'uniform';

export type Initializer =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; mean: number; stddev: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Keras VarianceScaling: variance scale / n, n = fanIn, fanOut or their mean. */
  | { kind: 'varianceScaling'; scale: number; mode: 'fanIn' | 'fanOut' | 'fanAvg'; distribution: Distribution };

export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'xavierNormal'
  | 'heNormal'
  | 'heUniform'
  | 'lecunNormal'
  | 'lecunUniform';

/** Named initialisers. */
export const INITIALIZERS: Record<InitializerName, Initializer> = {
  zeros: { kind: 'zeros' },
  ones: { kind: 'ones' },
  /** Keras default: U(−l, l), l = sqrt(6 / (fanIn + fanOut)). */
  glorotUniform: { kind: 'varianceScaling', scale: 1, mode: 'fanAvg', distribution: 'uniform' },
  /** Keras: truncated normal with stddev sqrt(2 / (fanIn + fanOut)) (before truncation correction). */
  glorotNormal: { kind: 'varianceScaling', scale: 1, mode: 'fanAvg', distribution: 'truncatedNormal' },
  /** Plain N(0, 2 / (fanIn + fanOut)), as the notebooks write Xavier by hand. */
  xavierNormal: { kind: 'varianceScaling', scale: 1, mode: 'fanAvg', distribution: 'normal' },
  heNormal: { kind: 'varianceScaling', scale: 2, mode: 'fanIn', distribution: 'truncatedNormal' },
  heUniform: { kind: 'varianceScaling', scale: 2, mode: 'fanIn', distribution: 'uniform' },
  lecunNormal: { kind: 'varianceScaling', scale: 1, mode: 'fanIn', distribution: 'truncatedNormal' },
  lecunUniform: { kind: 'varianceScaling', scale: 1, mode: 'fanIn', distribution: 'uniform' },
};

export const normal = (stddev: number, mean = 0): Initializer => ({ kind: 'normal', mean, stddev });
export const uniform = (min: number, max: number): Initializer => ({ kind: 'uniform', min, max });
export const constant = (value: number): Initializer => ({ kind: 'constant', value });
export const varianceScaling = (
  scale: number,
  mode: 'fanIn' | 'fanOut' | 'fanAvg',
  distribution: Distribution,
): Initializer => ({ kind: 'varianceScaling', scale, mode, distribution });

export function resolveInitializer(init: Initializer | InitializerName): Initializer {
  if (typeof init !== 'string') return init;
  const found = INITIALIZERS[init];
  if (!found) throw new Error(`Unknown initializer '${init}'. Known: ${Object.keys(INITIALIZERS).join(', ')}.`);
  return found;
}

/** Standard deviation of N(0,1) truncated to ±2, which Keras divides out. */
const TRUNCATED_STD = 0.87962566103423978;

export function initialize(
  init: Initializer | InitializerName,
  count: number,
  fans: { fanIn: number; fanOut: number },
  rng: Rng,
): Float32Array {
  const spec = resolveInitializer(init);
  const out = new Float32Array(count);
  switch (spec.kind) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'constant':
      return out.fill(spec.value);
    case 'normal':
      for (let i = 0; i < count; i++) out[i] = spec.mean + spec.stddev * rng.normal();
      return out;
    case 'uniform':
      for (let i = 0; i < count; i++) out[i] = spec.min + (spec.max - spec.min) * rng.next();
      return out;
    case 'varianceScaling': {
      const n = spec.mode === 'fanIn' ? fans.fanIn : spec.mode === 'fanOut' ? fans.fanOut : (fans.fanIn + fans.fanOut) / 2;
      const variance = spec.scale / Math.max(1, n);
      if (spec.distribution === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        for (let i = 0; i < count; i++) out[i] = -limit + 2 * limit * rng.next();
      } else if (spec.distribution === 'normal') {
        const stddev = Math.sqrt(variance);
        for (let i = 0; i < count; i++) out[i] = stddev * rng.normal();
      } else {
        const stddev = Math.sqrt(variance) / TRUNCATED_STD;
        for (let i = 0; i < count; i++) {
          let z = rng.normal();
          while (Math.abs(z) > 2) z = rng.normal();
          out[i] = stddev * z;
        }
      }
      return out;
    }
  }
}

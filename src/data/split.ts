/**
 * Index sets for training/validation splits and class-balanced subsets. All results
 * are Uint32Array lists of example indices, in ascending order.
 */
import { Rng } from './random.js';

export interface Split {
  train: Uint32Array;
  validation: Uint32Array;
}

function range(start: number, end: number): Uint32Array {
  const out = new Uint32Array(Math.max(0, end - start));
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}

/** Keras' split point: the first int(count·(1 − fraction)) examples train, the rest validate. */
function splitPoint(count: number, fraction: number, what: string): number {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`${what}: count must be an integer ≥ 0, got ${count}.`);
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`${what}: fraction must be in [0, 1), got ${fraction}.`);
  }
  const splitAt = Math.floor(count * (1 - fraction));
  if (fraction > 0 && (splitAt === 0 || splitAt === count)) {
    throw new RangeError(
      `${what}: ${count} examples are too few to split with fraction ${fraction} ` +
        `(the ${splitAt === 0 ? 'training' : 'validation'} set would be empty).`,
    );
  }
  return splitAt;
}

/**
 * Keras' `validation_split`: split_at = floor(count·(1 − fraction)); training is
 * [0, split_at) and validation the LAST count − split_at examples, before any shuffling.
 */
export function validationSplit(count: number, fraction: number): Split {
  const splitAt = splitPoint(count, fraction, 'validationSplit');
  return { train: range(0, splitAt), validation: range(splitAt, count) };
}

/**
 * A seeded random split with the same sizes as `validationSplit`: a permutation from
 * `Rng(seed)`, its tail is the validation set; both sets sorted ascending.
 */
export function shuffledSplit(count: number, fraction: number, seed: number): Split {
  const splitAt = splitPoint(count, fraction, 'shuffledSplit');
  const order = new Rng(seed).fork('shuffledSplit').permutation(count);
  return { train: order.slice(0, splitAt).sort(), validation: order.slice(splitAt).sort() };
}

/**
 * `perClass` indices of every class 0 … max(label), drawn without replacement with
 * `Rng(seed)`; returned sorted ascending. Throws when a class has fewer examples.
 */
export function balancedSubset(labels: Uint8Array, perClass: number, seed: number): Uint32Array {
  if (!Number.isInteger(perClass) || perClass < 0) {
    throw new RangeError(`balancedSubset: perClass must be an integer ≥ 0, got ${perClass}.`);
  }
  let classes = 0;
  for (let i = 0; i < labels.length; i++) classes = Math.max(classes, labels[i]! + 1);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const rng = new Rng(seed).fork('balancedSubset');
  const out = new Uint32Array(classes * perClass);
  let at = 0;
  for (let c = 0; c < classes; c++) {
    const members = byClass[c]!;
    if (members.length < perClass) {
      throw new RangeError(
        `balancedSubset: class ${c} has only ${members.length} examples, fewer than perClass = ${perClass}.`,
      );
    }
    // Partial Fisher–Yates: the first perClass slots end up a uniform sample.
    for (let k = 0; k < perClass; k++) {
      const j = k + rng.nextInt(members.length - k);
      const tmp = members[k]!;
      members[k] = members[j]!;
      members[j] = tmp;
      out[at++] = members[k]!;
    }
  }
  return out.sort();
}

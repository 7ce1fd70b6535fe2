/**
 * What the classic (non-neural) baselines take: labelled images as bytes
 * (`ImageSet`), one row of rows × cols pixels per example. Each algorithm
 * uploads what it needs once, in the layout its kernels want, and frees it in
 * `destroy()`.
 *
 * A set is checked once: `checkImageSet` validates it and returns a
 * `CheckedImageSet`, which the internal functions take and the public entry
 * points pass on without checking again (a set that is already checked comes
 * back as it is). Check the sets once before a run that calls several entry
 * points (src/experiments/classic.ts does).
 */
import { imageFeatures, type ImageSet } from '../data/images.js';

declare const CHECKED: unique symbol;

/** An ImageSet that checkImageSet validated, with its pixels per image. */
export type CheckedImageSet = Readonly<ImageSet> & {
  /** rows × cols: the length of one row of `images`. */
  readonly features: number;
  readonly [CHECKED]: true;
};

/** How many sets checkImageSet has validated (not counting sets it was given already checked). */
export const imageSetChecks = { count: 0 };

const checkedSets = new WeakSet<object>();

/** Whether `set` came from checkImageSet. */
export function isCheckedImageSet(set: ImageSet): set is CheckedImageSet {
  return checkedSets.has(set);
}

/**
 * Checks that an ImageSet's arrays hold what its sizes say; throws a message
 * that names the problem (`what` says whose set it is). Returns the set as a
 * CheckedImageSet (the same object when it already is one).
 */
export function checkImageSet(what: string, set: ImageSet): CheckedImageSet {
  if (isCheckedImageSet(set)) return set;
  imageSetChecks.count++;
  const { rows, cols } = set;
  if (!Number.isInteger(set.count) || set.count < 1 || !Number.isInteger(rows) || rows < 1 || !Number.isInteger(cols) || cols < 1) {
    throw new RangeError(`${what}: count (${set.count}), rows (${rows}) and cols (${cols}) must be integers ≥ 1.`);
  }
  const features = imageFeatures(set);
  if (set.images.length < set.count * features) {
    throw new RangeError(
      `${what}: images hold ${set.images.length} bytes, fewer than count × features = ${set.count} × ${features} (${rows} × ${cols} pixels per image).`,
    );
  }
  if (set.labels.length < set.count) {
    throw new RangeError(`${what}: ${set.labels.length} labels for ${set.count} examples.`);
  }
  const checked = Object.freeze({ ...set, features }) as unknown as CheckedImageSet;
  checkedSets.add(checked);
  return checked;
}

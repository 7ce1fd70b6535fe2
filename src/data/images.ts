/**
 * Labelled images as bytes, in two views of the same arrays: a split as the
 * loaders give it (`LabeledImages`, images of rows × cols pixels, named), and
 * as the classic baselines take it (`ImageSet`, one row of `features` pixels
 * per example). `imageSet` turns the first into the second without a copy;
 * `firstImages` cuts either, `pick` copies chosen examples of an ImageSet.
 */

/** One split of a labelled image set. */
export interface LabeledImages {
  /** (count, rows, cols) row-major pixel values 0–255; may be a view into a larger buffer (mind `byteOffset`). */
  images: Uint8Array;
  /** One class label 0–9 per image. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
  /** 'mnist-train' or 'mnist-test'. */
  name: string;
}

/** Examples of `features` pixels each, with their labels. */
export interface ImageSet {
  /** count × features pixel values 0–255, row-major; may be a view (mind `byteOffset`). */
  images: Uint8Array;
  /** One class label per example. */
  labels: Uint8Array;
  count: number;
  features: number;
}

/** An MNIST split as an ImageSet (no copy). */
export function imageSet(set: LabeledImages): ImageSet {
  return { images: set.images, labels: set.labels, count: set.count, features: set.rows * set.cols };
}

/**
 * The first `count` examples of an ImageSet or an MNIST split, as a view (no
 * copy); the set itself when `count` is undefined or not smaller than it.
 */
export function firstImages<T extends ImageSet | LabeledImages>(set: T, count: number | undefined): T {
  if (count === undefined || count >= set.count) return set;
  const features = 'features' in set ? set.features : set.rows * set.cols;
  return { ...set, count, images: set.images.subarray(0, count * features), labels: set.labels.subarray(0, count) };
}

/** The examples at `indices`, in that order, copied into a new ImageSet. */
export function pick(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const { features } = set;
  const images = new Uint8Array(indices.length * features);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const n = indices[i]!;
    if (!Number.isInteger(n) || n < 0 || n >= set.count) {
      throw new RangeError(`pick: index ${n} is outside the set of ${set.count} examples.`);
    }
    images.set(set.images.subarray(n * features, (n + 1) * features), i * features);
    labels[i] = set.labels[n]!;
  }
  return { images, labels, count: indices.length, features };
}

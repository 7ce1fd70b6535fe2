/**
 * What the classic (non-neural) baselines take: labelled images as bytes,
 * one row of `features` pixels per example. Each algorithm uploads what it
 * needs once, in the layout its kernels want, and frees it in `destroy()`.
 */
import type { LabeledImages } from '../data/mnist.js';

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

/** The first `count` examples (a view, no copy). */
export function head(set: ImageSet, count: number): ImageSet {
  const n = Math.min(count, set.count);
  return {
    images: set.images.subarray(0, n * set.features),
    labels: set.labels.subarray(0, n),
    count: n,
    features: set.features,
  };
}

/** Checks that an ImageSet's arrays hold what its sizes say; throws a message that names the problem. */
export function checkImageSet(what: string, set: ImageSet): void {
  if (!Number.isInteger(set.count) || set.count < 1 || !Number.isInteger(set.features) || set.features < 1) {
    throw new RangeError(`${what}: count (${set.count}) and features (${set.features}) must be integers ≥ 1.`);
  }
  if (set.images.length < set.count * set.features) {
    throw new RangeError(
      `${what}: images hold ${set.images.length} bytes, fewer than count × features = ${set.count} × ${set.features}.`,
    );
  }
  if (set.labels.length < set.count) {
    throw new RangeError(`${what}: ${set.labels.length} labels for ${set.count} examples.`);
  }
}

/**
 * Labelled images as bytes: one type, `ImageSet`, for a split as the loaders
 * give it and as the classic baselines take it (each image rows × cols
 * pixels, `imageFeatures(set)` of them per row of `images`). `firstImages`
 * cuts a set, `pick` copies chosen examples of one.
 */

/** Labelled images: `count` images of rows × cols pixels, with their labels. */
export interface ImageSet {
  /** (count, rows, cols) row-major pixel values 0–255; may be a view into a larger buffer (mind `byteOffset`). */
  images: Uint8Array;
  /** One class label per image (0–9 for MNIST). */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
  /** Where the images came from, e.g. 'mnist-train' or 'mnist-test'. */
  name?: string;
}

/**
 * The old name of a loader's split.
 * @deprecated Use `ImageSet`: the same fields (`name` is optional there).
 */
export type LabeledImages = ImageSet;

/** Pixels per image: rows × cols, the length of one row of `images`. */
export function imageFeatures(set: Pick<ImageSet, 'rows' | 'cols'>): number {
  return set.rows * set.cols;
}

/**
 * The set itself (a split and an ImageSet are one type now).
 * @deprecated Pass the set as it is.
 */
export function imageSet(set: ImageSet): ImageSet {
  return set;
}

/** The first `count` examples, as a view (no copy); the set itself when `count` is undefined or not smaller than it. */
export function firstImages(set: ImageSet, count: number | undefined): ImageSet {
  if (count === undefined || count >= set.count) return set;
  return {
    images: set.images.subarray(0, count * imageFeatures(set)), labels: set.labels.subarray(0, count), count,
    rows: set.rows, cols: set.cols, ...(set.name !== undefined ? { name: set.name } : {}),
  };
}

/** The examples at `indices`, in that order, copied into a new ImageSet (same image size and name). */
export function pick(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const features = imageFeatures(set);
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
  return { images, labels, count: indices.length, rows: set.rows, cols: set.cols, ...(set.name !== undefined ? { name: set.name } : {}) };
}

/**
 * What the classic (non-neural) baselines take: labelled images as bytes,
 * one row of `features` pixels per example. Each algorithm uploads what it
 * needs once, in the layout its kernels want, and frees it in `destroy()`.
 */
import type { ImageSet } from '../data/images.js';

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

/**
 * A classic run checks each image set once: checkImageSet returns a
 * CheckedImageSet, which the entry points take without checking again, and
 * the internal functions accept only checked sets (a type-level check).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ImageSet, LabeledImages } from '../../src/data/images.js';
import { checkImageSet, imageSetChecks, isCheckedImageSet, type CheckedImageSet } from '../../src/classic/types.js';
import type { imageRows } from '../../src/classic/logistic-rows.js';
import { fitGaussian, scoreGaussian } from '../../src/classic/gaussian.js';
import { NearestNeighbour } from '../../src/classic/knn.js';
import { predictLogistic, trainLogistic } from '../../src/classic/logistic.js';
import { makeRng, useRuntime } from '../kernels/gpu.js';

const rt = useRuntime();

function randomSet(seed: number, count: number): ImageSet {
  const rng = makeRng(seed);
  return {
    images: Uint8Array.from({ length: count * 8 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: count }, (_, n) => n % 4),
    count, rows: 2, cols: 4,
  };
}

describe('image sets are checked once', () => {
  it('types: a plain ImageSet is not a CheckedImageSet; the internal row builder takes only checked sets; LabeledImages is ImageSet', () => {
    expectTypeOf<ImageSet>().not.toMatchTypeOf<CheckedImageSet>();
    expectTypeOf<CheckedImageSet>().toMatchTypeOf<Readonly<ImageSet>>();
    expectTypeOf<Parameters<typeof imageRows>[0]>().toEqualTypeOf<CheckedImageSet>();
    expectTypeOf<LabeledImages>().toEqualTypeOf<ImageSet>();
  });

  it('checkImageSet validates a set once and gives the checked set back as it is', () => {
    const set = randomSet(1, 5);
    const before = imageSetChecks.count;
    const checked = checkImageSet('set', set);
    expect(isCheckedImageSet(checked)).toBe(true);
    expect(isCheckedImageSet(set)).toBe(false);
    expect(checked.features).toBe(8);
    expect(checkImageSet('again', checked)).toBe(checked);
    expect(imageSetChecks.count - before).toBe(1);
    expect(() => checkImageSet('short', { ...set, count: 6 })).toThrow(/short: images hold 40 bytes, fewer than count × features = 6 × 8/);
  });

  it('a run of every method on checked sets checks nothing again; an unchecked set is checked at the entry point', async () => {
    const r = rt();
    const before = imageSetChecks.count;
    const train = checkImageSet('train', randomSet(2, 40));
    const test = checkImageSet('test', randomSet(3, 12));
    expect(imageSetChecks.count - before).toBe(2);

    const gaussian = await fitGaussian(r, train);
    await scoreGaussian(r, gaussian, test);
    const nn = await NearestNeighbour.create(r, train);
    try {
      await nn.query(test);
    } finally {
      nn.destroy();
    }
    const model = await trainLogistic(r, train, { targets: { kind: 'binary', positive: 1 }, steps: 2, test });
    await predictLogistic(r, model, test);
    expect(imageSetChecks.count - before).toBe(2);

    await scoreGaussian(r, gaussian, randomSet(3, 12));
    expect(imageSetChecks.count - before).toBe(3);
  });
});

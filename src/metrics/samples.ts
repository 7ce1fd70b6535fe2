/** What a report shows of a test set: its classes, and sample images with their predictions. */

/** One image of the report's picture grids. */
export interface SampleImage {
  /** Index in the test set. */
  index: number;
  label: number;
  predicted: number;
  /** rows·cols pixel values 0–255, row-major. */
  pixels: number[];
}

/** Images per class. */
export function countClasses(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  return counts;
}

/** The first 25 test images, and the first 25 the model got wrong; `pixels` holds `features` bytes per image. */
export function pickSamples(
  pixels: Uint8Array, features: number, labels: ArrayLike<number>, predicted: ArrayLike<number>,
): { first: SampleImage[]; mislabelled: SampleImage[] } {
  const sample = (index: number): SampleImage => ({
    index, label: labels[index]!, predicted: predicted[index]!,
    pixels: Array.from(pixels.subarray(index * features, (index + 1) * features)),
  });
  const first = Array.from({ length: Math.min(25, labels.length) }, (_, i) => sample(i));
  const mislabelled: SampleImage[] = [];
  for (let i = 0; i < labels.length && mislabelled.length < 25; i++) if (labels[i] !== predicted[i]) mislabelled.push(sample(i));
  return { first, mislabelled };
}

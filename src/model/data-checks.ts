/**
 * A dataset checked against the model before any GPU work: its sample shape
 * against the input shape, its targets against the loss and the output layer.
 * Each message names the dataset and says what would fit.
 */
import type { Dataset } from '../data/dataset.js';
import { sizeOf, type Shape } from '../layers/layer.js';

/**
 * The samples' shape must be the model's input shape; axes of length 1 may
 * differ ([28, 28] data fits a [28, 28, 1] model), others may not: 56×14
 * images have the elements of 28×28 ones but not their rows.
 */
export function checkSampleShape(dataset: Dataset, expected: Shape | undefined, what: string): void {
  if (!expected) return;
  const squeeze = (shape: readonly number[]) => shape.filter((d) => d !== 1).join(',');
  if (squeeze(dataset.sampleShape) !== squeeze(expected)) {
    const same = sizeOf(dataset.sampleShape) === sizeOf(expected);
    throw new Error(
      `${what} '${dataset.name}' has samples of shape (${dataset.sampleShape.join(', ')}) but the model expects ` +
        `(${expected.join(', ')}).` +
        (same ? ` If the values are laid out as the model expects, view them so with dataset.reshape([${expected.join(', ')}]).` : ''),
    );
  }
}

/** Targets that fit the loss (named `lossName`) and a model with `outputs` outputs. */
export function checkTargets(dataset: Dataset, lossName: string, outputs: number, what: string): void {
  if (lossName === 'sparseCategoricalCrossentropy' && dataset.targetWidth !== 1) {
    throw new Error(`${what} '${dataset.name}' has one-hot targets; sparseCategoricalCrossentropy wants class indices. Use categoricalCrossentropy.`);
  }
  if (lossName === 'categoricalCrossentropy' && dataset.targetWidth === 1) {
    throw new Error(`${what} '${dataset.name}' has class indices; categoricalCrossentropy wants one-hot rows. Create it with { oneHot: true } or use sparseCategoricalCrossentropy.`);
  }
  if (dataset.targetWidth > 1 && dataset.targetWidth !== outputs) {
    throw new Error(`${what} '${dataset.name}' has ${dataset.targetWidth} targets per sample but the model outputs ${outputs}.`);
  }
  if (dataset.targetWidth === 1 && lossName === 'binaryCrossentropy') {
    // The sigmoid cross-entropy takes the label itself as the target: anything but 0 and 1 gives a meaningless (even negative) loss.
    const labels = dataset.labels();
    let max = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
    if (max > 1) {
      throw new Error(
        `${what} '${dataset.name}' has class labels up to ${max}; binaryCrossentropy needs labels 0 and 1. ` +
          'Map them to two classes (e.g. Dataset option mapLabel: (d) => (d === 5 ? 1 : 0)), or use ' +
          `sparseCategoricalCrossentropy with a softmax last layer of ${max + 1} units.`,
      );
    }
  }
  if (dataset.targetWidth === 1 && lossName !== 'binaryCrossentropy' && lossName !== 'meanSquaredError' && dataset.classes > outputs) {
    throw new Error(`${what} '${dataset.name}' has ${dataset.classes} classes but the model outputs ${outputs}.`);
  }
}

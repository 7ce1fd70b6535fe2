/**
 * Losses as configurations. All of them run as one fused kernel
 * (shaders/loss.wgsl) that also computes the gradient and the batch metrics.
 * The cross-entropies always work on logits: a final softmax (or sigmoid) of
 * the model is absorbed into the loss during training, which is both faster
 * and numerically stable, and applied for real by `predict`.
 */
import type { LossKernel } from '../ops/loss.js';

export type LossName = 'sparseCategoricalCrossentropy' | 'categoricalCrossentropy' | 'binaryCrossentropy' | 'meanSquaredError';

export interface Loss {
  readonly name: LossName;
  /** Outputs are logits rather than probabilities. */
  readonly fromLogits: boolean;
}

export function loss(name: LossName, options: { fromLogits?: boolean } = {}): Loss {
  return { name, fromLogits: options.fromLogits ?? false };
}

export const sparseCategoricalCrossentropy = (options: { fromLogits?: boolean } = {}) => loss('sparseCategoricalCrossentropy', options);
export const categoricalCrossentropy = (options: { fromLogits?: boolean } = {}) => loss('categoricalCrossentropy', options);
export const binaryCrossentropy = (options: { fromLogits?: boolean } = {}) => loss('binaryCrossentropy', options);
export const meanSquaredError = () => loss('meanSquaredError');

const ALIASES: Record<string, LossName> = {
  sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  categoricalCrossentropy: 'categoricalCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
  binaryCrossentropy: 'binaryCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  meanSquaredError: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
};

export function resolveLoss(value: Loss | string): Loss {
  if (typeof value !== 'string') return value;
  const name = ALIASES[value];
  if (!name) throw new Error(`Unknown loss '${value}'. Known: ${Object.keys(ALIASES).join(', ')}.`);
  return loss(name);
}

/**
 * How a loss runs against a model whose last layer ends in `outputActivation`:
 * which kernel, and whether that activation is absorbed into it.
 */
export function planLoss(
  value: Loss,
  outputActivation: string,
  outputUnits: number,
): { kernel: LossKernel; absorbsActivation: boolean } {
  switch (value.name) {
    case 'sparseCategoricalCrossentropy':
    case 'categoricalCrossentropy':
      if (value.fromLogits) {
        if (outputActivation !== 'linear') {
          throw new Error(
            `${value.name}({ fromLogits: true }) expects logits, but the last layer applies '${outputActivation}'. ` +
              `Use a 'linear' last layer, or fromLogits: false with a softmax last layer (softmax twice is a known bug).`,
          );
        }
        return { kernel: 'softmax_cross_entropy', absorbsActivation: false };
      }
      if (outputActivation !== 'softmax') {
        throw new Error(
          `${value.name} expects probabilities from a softmax last layer, but it applies '${outputActivation}'. ` +
            `Give the last layer activation 'softmax', or pass fromLogits: true for a linear last layer.`,
        );
      }
      return { kernel: 'softmax_cross_entropy', absorbsActivation: true };
    case 'binaryCrossentropy':
      if (outputUnits !== 1) throw new Error(`binaryCrossentropy needs one output unit; the last layer has ${outputUnits}.`);
      if (value.fromLogits) {
        if (outputActivation !== 'linear') {
          throw new Error(`binaryCrossentropy({ fromLogits: true }) expects logits, but the last layer applies '${outputActivation}'.`);
        }
        return { kernel: 'sigmoid_cross_entropy', absorbsActivation: false };
      }
      if (outputActivation !== 'sigmoid') {
        throw new Error(`binaryCrossentropy expects a sigmoid last layer (it applies '${outputActivation}'), or fromLogits: true.`);
      }
      return { kernel: 'sigmoid_cross_entropy', absorbsActivation: true };
    case 'meanSquaredError':
      return { kernel: 'mean_squared_error', absorbsActivation: false };
  }
}

/**
 * Where fusion is decided: one pass over the model's layers, before any
 * kernel is recorded, says per layer which activation work it does and which
 * it leaves to a neighbour. The plan (src/model/plan.ts) consults it once and
 * hands each layer its own record (LayerIO.fusion); layers never look at
 * their neighbours.
 *
 * Decisions:
 * - the loss absorbs the last layer's softmax or sigmoid (the loss kernel
 *   applies it and gives dL/d(pre-activation)): that layer's forward emits
 *   pre-activations and its backward skips the activation;
 * - a layer that can apply the previous layer's activation derivative in its
 *   own work (`Layer.foldsInputActivation`) does so, and that previous layer
 *   skips its activation's backward pass: max pooling after relu (relu'
 *   passes exactly the window maxima that are > 0), and a dense or conv2d
 *   layer's input gradient after relu, sigmoid or tanh (dinp = (dout · Wᵀ) ⊙
 *   act'(y) in the product's epilogue).
 * Shape-only layers (Flatten, Reshape) alias their buffers, so the pass looks
 * through them: conv(relu) → flatten → dense folds like dense → dense.
 */
import type { FusionOptions, Layer, LayerFusion } from '../layers/layer.js';

export type { FusionOptions, LayerFusion } from '../layers/layer.js';

/** Defaults of the fusion pass; tests may flip them. */
export const FUSION_DEFAULTS: FusionOptions = { foldActivations: true };

export interface PlanFusionOptions extends Partial<FusionOptions> {
  /**
   * Per layer, whether its input gradient is computed at all (the plan knows:
   * not before the first layer with parameters). Default: every layer but the first.
   */
  inputGradients?: readonly boolean[];
}

/** Shape-only layers: their output is their input seen with another shape, and their input gradient their output gradient. */
function shapeOnly(layer: Layer): boolean {
  return layer.aliasesOutput && layer.aliasesGradient;
}

/**
 * The fusion decisions for a model: one record per layer. `loss` says
 * whether the loss absorbs the last layer's activation (LossPlan).
 */
export function planFusion(layers: readonly Layer[], loss: { absorbsActivation: boolean } | null, options: PlanFusionOptions = {}): LayerFusion[] {
  const fold: FusionOptions = { foldActivations: options.foldActivations ?? FUSION_DEFAULTS.foldActivations };
  const plan: LayerFusion[] = layers.map(() => ({
    forwardActivation: true, outputGradient: 'raw', inputGradient: 'plain', previousActivation: null,
  }));
  const last = layers.length - 1;
  if (last >= 0 && loss?.absorbsActivation) {
    plan[last]!.forwardActivation = false;
    plan[last]!.outputGradient = 'activation-applied';
  }
  for (let i = 1; i < layers.length; i++) {
    const layer = layers[i]!;
    if (shapeOnly(layer)) continue;
    if (!(options.inputGradients?.[i] ?? true)) continue;
    // The layer whose output this one reads, through shape-only layers.
    let j = i - 1;
    while (j >= 0 && shapeOnly(layers[j]!)) j--;
    if (j < 0) continue;
    const producer = layers[j]!;
    const activation = producer.activation;
    if (activation.name === 'linear' || !plan[j]!.forwardActivation || plan[j]!.outputGradient === 'activation-applied') continue;
    if (!layer.foldsInputActivation(activation, fold)) continue;
    plan[i]!.inputGradient = 'apply-previous-activation';
    plan[i]!.previousActivation = activation;
    plan[j]!.outputGradient = 'activation-applied';
  }
  return plan;
}

/** A layer's record when it runs alone (no neighbours, no loss): it does all its activation work itself. */
export const STANDALONE: LayerFusion = Object.freeze({
  forwardActivation: true, outputGradient: 'raw', inputGradient: 'plain', previousActivation: null,
}) as LayerFusion;

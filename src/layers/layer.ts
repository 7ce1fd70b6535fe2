/**
 * The layer contract. A layer knows its shapes and parameters, and records the
 * dispatches of its forward and backward pass into a plan, once; the plan is
 * then replayed every step. Buffers are owned by the plan: a layer sees views
 * of the model's flat parameter and gradient buffers and of the plan's
 * activation buffers.
 */
import type { BoundResource, Dispatch, Runtime } from '../gpu/runtime.js';
import type { Initializer, InitializerName } from '../init/initializers.js';
import type { ActivationSpec } from '../ops/common.js';

export type Shape = readonly number[];

export interface ParamSpec {
  name: 'kernel' | 'bias';
  shape: number[];
  initializer: Initializer | InitializerName;
  fans: { fanIn: number; fanOut: number };
  /** Coefficient of the L2 penalty l2·Σw² added to the loss (Keras kernel_regularizer). */
  l2: number;
}

/** Which folds the fusion pass (src/model/fusion.ts) may make; the new ones can be switched off (tests compare training with and without them). */
export interface FusionOptions {
  /** Fold an activation's backward into the next layer's input-gradient product (dense). Default: FUSION_DEFAULTS. */
  foldActivations: boolean;
}

/** What one layer does about activations, decided by `planFusion` (src/model/fusion.ts). */
export interface LayerFusion {
  /** Apply the layer's own activation in its forward pass (false where the loss absorbs it). */
  forwardActivation: boolean;
  /** 'activation-applied': dL/doutput already includes act'(output) (the loss or the next layer applied it): skip the activation's backward. */
  outputGradient: 'raw' | 'activation-applied';
  /** 'apply-previous-activation': this layer applies `previousActivation`'s derivative, act'(input), to the gradient it passes back. */
  inputGradient: 'plain' | 'apply-previous-activation';
  /** The activation whose derivative this layer applies ('apply-previous-activation' only), else null. */
  previousActivation: ActivationSpec | null;
}

/** The buffers one layer works on in one plan; all activations have the batch as their first axis. */
export interface LayerIO {
  batch: number;
  input: BoundResource;
  output: BoundResource;
  /** Where to write dL/dinput; null when nothing before this layer needs it. */
  dinput: BoundResource | null;
  /** dL/doutput; layers may overwrite it (it is used by nobody after them). */
  doutput: BoundResource;
  /** Views of this layer's parameters and their gradients, in `params()` order. */
  params: BoundResource[];
  grads: BoundResource[];
  /**
   * What this layer does about activations, as the model's fusion pass
   * (src/model/fusion.ts) decided: whether its forward applies its own
   * activation, whether dL/doutput already includes act'(output), and whether
   * it applies the previous layer's act'(input) to the gradient it passes back.
   */
  fusion: LayerFusion;
  /** Per-layer buffers that forward and backward share (e.g. maxpool's argmax), allocated with `alloc`. */
  scratch: Map<string, GPUBuffer>;
  alloc(bytes: number, label: string): GPUBuffer;
}

export class LayerShapeError extends Error {
  constructor(layer: string, message: string) {
    super(`Layer '${layer}': ${message}`);
    this.name = 'LayerShapeError';
  }
}

export abstract class Layer {
  /** Assigned by the model when not given: 'dense', 'dense_1', ... */
  name: string;
  /** Keras's class name, for summaries: 'Dense', 'Conv2D', ... */
  abstract readonly typeName: string;
  /** The output is the input buffer seen with another shape (Flatten, Reshape). */
  readonly aliasesOutput: boolean = false;
  /** dinput is doutput, transformed in place (Flatten, Reshape, Activation). */
  readonly aliasesGradient: boolean = false;

  constructor(name?: string) {
    this.name = name ?? '';
  }

  /** The activation applied last by this layer. */
  get activation(): ActivationSpec {
    return { name: 'linear' };
  }

  /**
   * Whether this layer can apply the previous layer's activation derivative,
   * act'(input), to the input gradient it computes (the fusion pass then lets
   * that layer skip its activation's backward). Default: it cannot.
   */
  foldsInputActivation(_activation: ActivationSpec, _options: FusionOptions): boolean {
    return false;
  }

  /** Output shape for an input shape (without the batch axis); throws LayerShapeError. */
  abstract outputShape(input: Shape): Shape;

  /** Parameters for an input shape. */
  params(_input: Shape): ParamSpec[] {
    return [];
  }

  abstract forward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]>;
  abstract backward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]>;

  /** Configuration in a few words, for reports. */
  describe(): string {
    return this.typeName;
  }
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: Shape): string {
  return `(None, ${shape.join(', ')})`;
}

/** Activation names as users write them, and the Activation layer. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { activationBackward, activationForward } from '../ops/activation.js';
import type { Activation, ActivationSpec } from '../ops/common.js';
import { Layer, sizeOf, type LayerFusion, type LayerIO, type Shape } from './layer.js';

export type ActivationInput = Activation | 'leaky_relu' | ActivationSpec | undefined;

export function resolveActivation(value: ActivationInput): ActivationSpec {
  if (value === undefined) return { name: 'linear' };
  if (typeof value !== 'string') return value;
  if (value === 'leaky_relu') return { name: 'leakyRelu' };
  const known: Activation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'softmax'];
  if (!known.includes(value)) throw new Error(`Unknown activation '${value}'. Known: ${known.join(', ')}.`);
  return { name: value };
}

/** Leaky ReLU with slope `alpha` below zero (Keras's LeakyReLU default is 0.3). */
export function leakyRelu(alpha = 0.3): ActivationSpec {
  return { name: 'leakyRelu', alpha };
}

/**
 * How a layer with activation `spec` applies it, given its fusion record:
 * `fused` in its kernels' epilogue (linear where the loss absorbs it), or
 * `separate`, a kernel of its own after them (softmax, which works on rows).
 */
export function kernelActivation(spec: ActivationSpec, fusion: LayerFusion): { fused: ActivationSpec; separate: ActivationSpec | null } {
  if (!fusion.forwardActivation || spec.name === 'linear') return { fused: { name: 'linear' }, separate: null };
  if (spec.name === 'softmax') return { fused: { name: 'linear' }, separate: spec };
  return { fused: spec, separate: null };
}

export function describeActivation(a: ActivationSpec): string {
  return a.name === 'leakyRelu' ? `leakyRelu(${a.alpha ?? 0.3})` : a.name;
}

export class ActivationLayer extends Layer {
  readonly typeName = 'Activation';
  override readonly aliasesGradient = true;
  private readonly spec: ActivationSpec;

  constructor(activation: ActivationInput, name?: string) {
    super(name);
    this.spec = resolveActivation(activation);
  }

  override get activation(): ActivationSpec {
    return this.spec;
  }

  outputShape(input: Shape): Shape {
    return input;
  }

  async forward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    if (!io.fusion.forwardActivation) {
      throw new Error(`Layer '${this.name}': a final Activation cannot be absorbed by the loss; use the activation argument of the previous layer.`);
    }
    const count = io.batch * sizeOf(input);
    return [await activationForward(rt, this.spec, { count, columns: input[input.length - 1]! }, { inp: io.input, out: io.output }, `${this.name} forward`)];
  }

  async backward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    if (io.fusion.outputGradient === 'activation-applied') return [];
    const count = io.batch * sizeOf(input);
    return [await activationBackward(rt, this.spec, { count, columns: input[input.length - 1]! }, { y: io.output, grad: io.doutput }, `${this.name} backward`)];
  }

  override describe(): string {
    return `Activation(${describeActivation(this.spec)})`;
  }
}

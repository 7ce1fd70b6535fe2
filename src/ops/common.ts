/** Helpers shared by the op wrappers: activation codes, grids, tensor views. */
import type { BoundResource } from '../gpu/runtime.js';

export type Activation = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';

/** Elementwise activations and their ACT code in shaders/lib/activation_fn.wgsl. */
export const ACTIVATION_CODES: Record<Exclude<Activation, 'softmax'>, number> = {
  linear: 0,
  relu: 1,
  leakyRelu: 2,
  sigmoid: 3,
  tanh: 4,
};

export interface ActivationSpec {
  name: Activation;
  /** Slope below zero for leakyRelu (Keras's default is 0.3). */
  alpha?: number;
}

export function activationOverrides(activation: ActivationSpec | Activation): Record<string, number> {
  const spec = typeof activation === 'string' ? { name: activation } : activation;
  if (spec.name === 'softmax') throw new Error('softmax is not elementwise; use softmaxForward.');
  return { ACT: ACTIVATION_CODES[spec.name], ALPHA: spec.alpha ?? 0.3 };
}

/** Workgroups for `threads` threads of a 1-D kernel, folded into 2-D past 65,535 groups. */
export function grid1d(threads: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / workgroupSize));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** A view of part of a buffer, in f32 elements. */
export function view(buffer: GPUBuffer, offsetElements: number, countElements: number, shape?: readonly number[]): BoundResource {
  return { buffer, offset: offsetElements * 4, size: Math.max(4, countElements * 4), ...(shape ? { shape } : {}) };
}

/** A whole-buffer binding with a shape attached (for the shader view). */
export function shaped(buffer: GPUBuffer | BoundResource, shape: readonly number[]): BoundResource {
  return 'mapState' in buffer ? { buffer, shape } : { ...buffer, shape };
}

export type Resource = GPUBuffer | BoundResource;

/**
 * The previous layer's activation and output, whose derivative act'(y) an
 * input gradient's epilogue applies: dinp = (the product) ⊙ act'(y), y shaped
 * as dinp (that layer's activation backward pass folded into this product).
 */
export interface ActivationGrad {
  activation: ActivationSpec;
  y: Resource;
}

/** Layer factories, Keras's names in camelCase. */
import type { ActivationInput } from './activations.js';
import { ActivationLayer } from './activations.js';
import { Conv2d, type Conv2dOptions } from './conv2d.js';
import { Dense, type DenseOptions } from './dense.js';
import { MaxPool2d, type MaxPool2dOptions } from './pool.js';
import { Flatten, Reshape } from './reshape.js';

export { Layer, LayerShapeError, formatShape, sizeOf, type LayerIO, type ParamSpec, type Shape } from './layer.js';
export { ActivationLayer, leakyRelu, resolveActivation, type ActivationInput } from './activations.js';
export { Conv2d, type Conv2dOptions } from './conv2d.js';
export { Dense, type DenseOptions } from './dense.js';
export { MaxPool2d, type MaxPool2dOptions } from './pool.js';
export { Flatten, Reshape } from './reshape.js';

/** Dense(units, activation): `dense(128, 'relu')`, `dense(10, 'softmax', { kernelInitializer: 'heNormal' })`. */
export function dense(units: number, activation?: ActivationInput, options: Omit<DenseOptions, 'activation'> = {}): Dense {
  return new Dense(units, { ...options, activation });
}

/** Conv2D(filters, kernelSize): `conv2d(32, 3, { activation: 'relu' })`, `conv2d(32, [5, 5], { padding: 'same' })`. */
export function conv2d(filters: number, kernelSize: number | [number, number], options: Omit<Conv2dOptions, 'kernelSize'> = {}): Conv2d {
  return new Conv2d(filters, { ...options, kernelSize });
}

export function maxPool2d(options: MaxPool2dOptions = {}): MaxPool2d {
  return new MaxPool2d(options);
}

export function flatten(name?: string): Flatten {
  return new Flatten(name);
}

export function reshape(shape: readonly number[], name?: string): Reshape {
  return new Reshape(shape, name);
}

export function activation(value: ActivationInput, name?: string): ActivationLayer {
  return new ActivationLayer(value, name);
}

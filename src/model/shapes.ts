/** The layers of a model as Keras names and shapes them. */
import { LayerShapeError, type Layer, type Shape } from '../layers/layer.js';

/**
 * Gives every unnamed layer Keras's default name (dense, dense_1, conv2d,
 * max_pooling2d, ...) and throws when two layers share a name.
 */
export function nameLayers(layers: readonly Layer[]): void {
  const counts = new Map<string, number>();
  const names = new Set<string>();
  for (const layer of layers) {
    if (!layer.name) {
      const base = layer.typeName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace('max_pooling2_d', 'max_pooling2d').replace('conv2_d', 'conv2d');
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      layer.name = n ? `${base}_${n}` : base;
    }
    if (names.has(layer.name)) throw new Error(`Two layers are named '${layer.name}'; layer names must be unique.`);
    names.add(layer.name);
  }
}

/**
 * The input shape, then each layer's output shape; throws at the first layer
 * that cannot take its input, or when the model was built for another shape.
 */
export function layerShapes(layers: readonly Layer[], inputShape: Shape, builtFor: Shape | undefined): Shape[] {
  if (!inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`Input shape [${inputShape.join(', ')}] must be positive integers (without the batch axis).`);
  }
  if (builtFor && builtFor.join(',') !== inputShape.join(',')) {
    throw new Error(`The model was built for inputs of shape (None, ${builtFor.join(', ')}) but got (None, ${inputShape.join(', ')}).`);
  }
  const shapes: Shape[] = [inputShape];
  let shape = inputShape;
  for (const layer of layers) {
    shape = layer.outputShape(shape);
    if (shape.some((d) => !(d > 0))) {
      throw new LayerShapeError(layer.name, `its output shape (None, ${shape.join(', ')}) has an empty dimension.`);
    }
    shapes.push(shape);
  }
  return shapes;
}

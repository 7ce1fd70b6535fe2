/** Flatten and Reshape: the same buffer seen with another shape; no kernel at all. */
import type { Dispatch } from '../gpu/runtime.js';
import { Layer, LayerShapeError, sizeOf, type Shape } from './layer.js';

export class Flatten extends Layer {
  readonly typeName = 'Flatten';
  override readonly aliasesOutput = true;
  override readonly aliasesGradient = true;

  outputShape(input: Shape): Shape {
    return [sizeOf(input)];
  }

  async forward(): Promise<Dispatch[]> {
    return [];
  }

  async backward(): Promise<Dispatch[]> {
    return [];
  }
}

export class Reshape extends Layer {
  readonly typeName = 'Reshape';
  override readonly aliasesOutput = true;
  override readonly aliasesGradient = true;

  constructor(readonly targetShape: readonly number[], name?: string) {
    super(name);
  }

  outputShape(input: Shape): Shape {
    if (sizeOf(input) !== sizeOf(this.targetShape)) {
      throw new LayerShapeError(this.name, `cannot reshape (None, ${input.join(', ')}) to (None, ${this.targetShape.join(', ')}): sizes differ.`);
    }
    return this.targetShape;
  }

  async forward(): Promise<Dispatch[]> {
    return [];
  }

  async backward(): Promise<Dispatch[]> {
    return [];
  }

  override describe(): string {
    return `Reshape(${this.targetShape.join(', ')})`;
  }
}

/** Max pooling, NHWC. Kernels: shaders/pool.wgsl; twin: src/reference/pool.ts. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { ActivationSpec } from '../ops/common.js';
import type { Padding } from '../ops/conv2d.js';
import { maxPool2dBackward, maxPool2dForward, pool2dGeometry, type Pool2dShape } from '../ops/pool.js';
import { imageShape, pair } from './conv2d.js';
import { Layer, LayerShapeError, sizeOf, type LayerIO, type Shape } from './layer.js';

export interface MaxPool2dOptions {
  /** Window size; default 2. */
  poolSize?: number | [number, number];
  /** Default: the pool size (non-overlapping windows), as in Keras. */
  strides?: number | [number, number];
  padding?: Padding;
  name?: string;
}

export class MaxPool2d extends Layer {
  readonly typeName = 'MaxPooling2D';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(options: MaxPool2dOptions = {}) {
    super(options.name);
    this.poolSize = pair(options.poolSize ?? 2, 'maxPool2d poolSize');
    this.strides = pair(options.strides ?? this.poolSize, 'maxPool2d strides');
    this.padding = options.padding ?? 'valid';
  }

  /** Relu only: the gradient goes to window maxima, which relu' passes exactly where the pooled value is > 0. */
  override foldsInputActivation(activation: ActivationSpec): boolean {
    return activation.name === 'relu';
  }

  shapeFor(batch: number, input: Shape): Pool2dShape {
    const [inH, inW, channels] = imageShape(this.name, input);
    return {
      batch, inH, inW, channels, poolH: this.poolSize[0], poolW: this.poolSize[1],
      strideH: this.strides[0], strideW: this.strides[1], padding: this.padding,
    };
  }

  outputShape(input: Shape): Shape {
    const s = this.shapeFor(1, input);
    if (s.padding === 'valid' && (s.poolH > s.inH || s.poolW > s.inW)) {
      throw new LayerShapeError(this.name, `pool ${s.poolH}×${s.poolW} is larger than its input ${s.inH}×${s.inW}.`);
    }
    const g = pool2dGeometry(s);
    return [g.outH, g.outW, s.channels];
  }

  private argmax(io: LayerIO, input: Shape): GPUBuffer {
    let buffer = io.scratch.get('argmax');
    if (!buffer) {
      buffer = io.alloc(io.batch * sizeOf(this.outputShape(input)) * 4, `${this.name} argmax`);
      io.scratch.set('argmax', buffer);
    }
    return buffer;
  }

  async forward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    const s = this.shapeFor(io.batch, input);
    return [await maxPool2dForward(rt, s, { inp: io.input, out: io.output, argmax: this.argmax(io, input) }, `${this.name} forward`,
      io.fusion.inputGradient === 'apply-previous-activation')];
  }

  async backward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    if (!io.dinput) return [];
    const s = this.shapeFor(io.batch, input);
    return [await maxPool2dBackward(rt, s, { dout: io.doutput, argmax: this.argmax(io, input), dinp: io.dinput }, `${this.name} backward`)];
  }

  override describe(): string {
    return `MaxPooling2D(${this.poolSize.join('×')}, stride ${this.strides.join('×')})`;
  }
}

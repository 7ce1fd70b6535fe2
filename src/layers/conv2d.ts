/**
 * 2-D convolution, NHWC, kernel (KH, KW, CIN, COUT). Kernels:
 * shaders/conv2d.wgsl; twin: src/reference/conv2d.ts. A (H, W) input is read as
 * (H, W, 1).
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { Initializer, InitializerName } from '../init/initializers.js';
import { activationBackward, activationForward } from '../ops/activation.js';
import type { ActivationSpec } from '../ops/common.js';
import {
  conv2dBackwardInputList, conv2dBackwardWeightList, conv2dForwardList, conv2dGeometry,
  type Conv2dShape, type Padding,
} from '../ops/conv2d.js';
import { describeActivation, kernelActivation, resolveActivation, type ActivationInput } from './activations.js';
import { Layer, LayerShapeError, sizeOf, type FusionOptions, type LayerIO, type ParamSpec, type Shape } from './layer.js';

export interface Conv2dOptions {
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  activation?: ActivationInput;
  kernelInitializer?: Initializer | InitializerName;
  biasInitializer?: Initializer | InitializerName;
  kernelL2?: number;
  name?: string;
}

export function pair(value: number | [number, number], what: string): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : value;
  if (!p.every((v) => Number.isInteger(v) && v > 0)) throw new Error(`${what} must be positive integers, got ${JSON.stringify(value)}.`);
  return p;
}

/** (H, W) → (H, W, 1); (H, W, C) as is. */
export function imageShape(layer: string, input: Shape): [number, number, number] {
  if (input.length === 2) return [input[0]!, input[1]!, 1];
  if (input.length === 3) return [input[0]!, input[1]!, input[2]!];
  throw new LayerShapeError(layer, `expects images (H, W, C), got shape (None, ${input.join(', ')}).`);
}

export class Conv2d extends Layer {
  readonly typeName = 'Conv2D';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  private readonly spec: ActivationSpec;

  constructor(readonly filters: number, private readonly options: Conv2dOptions) {
    super(options.name);
    if (!Number.isInteger(filters) || filters <= 0) throw new Error(`conv2d: filters must be a positive integer, got ${filters}.`);
    this.kernelSize = pair(options.kernelSize, 'conv2d kernelSize');
    this.strides = pair(options.strides ?? 1, 'conv2d strides');
    this.padding = options.padding ?? 'valid';
    if (this.padding !== 'valid' && this.padding !== 'same') throw new Error(`conv2d: padding must be 'valid' or 'same'.`);
    this.spec = resolveActivation(options.activation);
  }

  override get activation(): ActivationSpec {
    return this.spec;
  }

  shapeFor(batch: number, input: Shape): Conv2dShape {
    const [inH, inW, inC] = imageShape(this.name, input);
    return {
      batch, inH, inW, inC, outC: this.filters, kH: this.kernelSize[0], kW: this.kernelSize[1],
      strideH: this.strides[0], strideW: this.strides[1], padding: this.padding,
    };
  }

  outputShape(input: Shape): Shape {
    const s = this.shapeFor(1, input);
    if (s.padding === 'valid' && (s.kH > s.inH || s.kW > s.inW)) {
      throw new LayerShapeError(this.name, `kernel ${s.kH}×${s.kW} is larger than its input ${s.inH}×${s.inW} ('valid' padding).`);
    }
    const g = conv2dGeometry(s);
    return [g.outH, g.outW, this.filters];
  }

  override params(input: Shape): ParamSpec[] {
    const [, , inC] = imageShape(this.name, input);
    const [kH, kW] = this.kernelSize;
    const fans = { fanIn: kH * kW * inC, fanOut: kH * kW * this.filters };
    return [
      { name: 'kernel', shape: [kH, kW, inC, this.filters], initializer: this.options.kernelInitializer ?? 'glorotUniform', fans, l2: this.options.kernelL2 ?? 0 },
      { name: 'bias', shape: [this.filters], initializer: this.options.biasInitializer ?? 'zeros', fans, l2: 0 },
    ];
  }

  async forward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    const s = this.shapeFor(io.batch, input);
    const count = io.batch * sizeOf(this.outputShape(input));
    const { fused, separate } = kernelActivation(this.spec, io.fusion);
    if (!separate) {
      return conv2dForwardList(rt, s, fused, { inp: io.input, weight: io.params[0]!, bias: io.params[1]!, out: io.output }, `${this.name} forward`);
    }
    let pre = io.scratch.get('pre');
    if (!pre) {
      pre = io.alloc(count * 4, `${this.name} pre-activation`);
      io.scratch.set('pre', pre);
    }
    return [
      ...(await conv2dForwardList(rt, s, fused, { inp: io.input, weight: io.params[0]!, bias: io.params[1]!, out: pre }, `${this.name} forward`)),
      await activationForward(rt, separate, { count, columns: this.filters }, { inp: pre, out: io.output }, `${this.name} ${separate.name}`),
    ];
  }

  async backward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    const s = this.shapeFor(io.batch, input);
    const out = this.outputShape(input);
    const { fused, separate } = kernelActivation(this.spec, io.fusion);
    const act = separate ?? fused;
    const list: Dispatch[] = [];
    if (act.name !== 'linear' && io.fusion.outputGradient === 'raw') {
      list.push(await activationBackward(rt, act, { count: io.batch * sizeOf(out), columns: this.filters }, { y: io.output, grad: io.doutput }, `${this.name} ${act.name} backward`));
    }
    // Both parameter gradients sum over B·OH·OW terms; the weight gradient's family gives the bias
    // gradient too (the ones row of the implicit GEMM, else bias.wgsl's two passes).
    const alloc = { alloc: (elements: number, name: string) => this.scratchBuffer(io, name, elements) };
    list.push(...(await conv2dBackwardWeightList(rt, s, { inp: io.input, dout: io.doutput, dweight: io.grads[0]!, dbias: io.grads[1]! },
      `${this.name} backward weight`, alloc)));
    if (io.dinput) {
      // With the previous layer's activation folded in: dinp = (the transposed conv) ⊙ act'(input).
      const previous = io.fusion.inputGradient === 'apply-previous-activation' ? io.fusion.previousActivation : null;
      list.push(...(await conv2dBackwardInputList(rt, s,
        { dout: io.doutput, weight: io.params[0]!, dinp: io.dinput, ...(previous ? { activationGrad: { activation: previous, y: io.input } } : {}) },
        `${this.name} backward input`, alloc)));
    }
    return list;
  }

  /** Activations whose derivative is a function of the output y, applied to the input gradient (an epilogue, or a pass after it). */
  override foldsInputActivation(activation: ActivationSpec, options: FusionOptions): boolean {
    return options.foldActivations && (activation.name === 'relu' || activation.name === 'sigmoid' || activation.name === 'tanh');
  }

  private scratchBuffer(io: LayerIO, name: string, elements: number): GPUBuffer {
    let buffer = io.scratch.get(name);
    if (!buffer || buffer.size < elements * 4) {
      buffer = io.alloc(elements * 4, `${this.name} ${name}`);
      io.scratch.set(name, buffer);
    }
    return buffer;
  }

  override describe(): string {
    const [kH, kW] = this.kernelSize;
    const stride = this.strides[0] === 1 && this.strides[1] === 1 ? '' : `, stride ${this.strides.join('×')}`;
    return `Conv2D(${this.filters}, ${kH}×${kW}${stride}, ${this.padding}, ${describeActivation(this.spec)})`;
  }
}

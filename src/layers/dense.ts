/** Dense layer: y = act(x·W + b), W is (IN, OUT). Kernels: shaders/dense.wgsl, twin: src/reference/dense.ts. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { Initializer, InitializerName } from '../init/initializers.js';
import { activationBackward, activationForward } from '../ops/activation.js';
import type { ActivationSpec } from '../ops/common.js';
import { denseBackwardInputList, denseBackwardWeightList, denseForwardList, type DenseRunOptions } from '../ops/dense.js';
import { describeActivation, kernelActivation, resolveActivation, type ActivationInput } from './activations.js';
import { Layer, LayerShapeError, type FusionOptions, type LayerIO, type ParamSpec, type Shape } from './layer.js';

export interface DenseOptions {
  activation?: ActivationInput;
  kernelInitializer?: Initializer | InitializerName;
  biasInitializer?: Initializer | InitializerName;
  /** L2 penalty coefficient on the kernel (Keras kernel_regularizer=l2(x)). */
  kernelL2?: number;
  name?: string;
}

export class Dense extends Layer {
  readonly typeName = 'Dense';
  private readonly spec: ActivationSpec;

  constructor(readonly units: number, private readonly options: DenseOptions = {}) {
    super(options.name);
    if (!Number.isInteger(units) || units <= 0) throw new Error(`dense: units must be a positive integer, got ${units}.`);
    this.spec = resolveActivation(options.activation);
  }

  override get activation(): ActivationSpec {
    return this.spec;
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 1) {
      throw new LayerShapeError(this.name, `expects a flat input (features), got shape (None, ${input.join(', ')}). Put flatten() before it.`);
    }
    return [this.units];
  }

  override params(input: Shape): ParamSpec[] {
    const inputs = input[0]!;
    return [
      { name: 'kernel', shape: [inputs, this.units], initializer: this.options.kernelInitializer ?? 'glorotUniform',
        fans: { fanIn: inputs, fanOut: this.units }, l2: this.options.kernelL2 ?? 0 },
      { name: 'bias', shape: [this.units], initializer: this.options.biasInitializer ?? 'zeros',
        fans: { fanIn: inputs, fanOut: this.units }, l2: 0 },
    ];
  }

  async forward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    const shape = { batch: io.batch, inputs: input[0]!, units: this.units };
    const { fused, separate } = kernelActivation(this.spec, io.fusion);
    if (!separate) {
      return denseForwardList(rt, shape, fused, { inp: io.input, weight: io.params[0]!, bias: io.params[1]!, out: io.output }, `${this.name} forward`, scratch(io));
    }
    let pre = io.scratch.get('pre');
    if (!pre) {
      pre = io.alloc(io.batch * this.units * 4, `${this.name} pre-activation`);
      io.scratch.set('pre', pre);
    }
    return [
      ...(await denseForwardList(rt, shape, fused, { inp: io.input, weight: io.params[0]!, bias: io.params[1]!, out: pre }, `${this.name} forward`, scratch(io))),
      await activationForward(rt, separate, { count: io.batch * this.units, columns: this.units }, { inp: pre, out: io.output }, `${this.name} ${separate.name}`),
    ];
  }

  async backward(rt: Runtime, input: Shape, io: LayerIO): Promise<Dispatch[]> {
    const shape = { batch: io.batch, inputs: input[0]!, units: this.units };
    const { fused, separate } = kernelActivation(this.spec, io.fusion);
    const act = separate ?? fused;
    const list: Dispatch[] = [];
    if (act.name !== 'linear' && io.fusion.outputGradient === 'raw') {
      list.push(await activationBackward(rt, act, { count: io.batch * this.units, columns: this.units }, { y: io.output, grad: io.doutput }, `${this.name} ${act.name} backward`));
    }
    // The weight gradient's family gives the bias gradient too (inside the product where its variant can).
    list.push(...(await denseBackwardWeightList(rt, shape, { inp: io.input, dout: io.doutput, dweight: io.grads[0]!, dbias: io.grads[1]! },
      `${this.name} backward weight`, scratch(io))));
    if (io.dinput) {
      // With the previous layer's activation folded in: dinp = (dout · Wᵀ) ⊙ act'(input).
      const previous = io.fusion.inputGradient === 'apply-previous-activation' ? io.fusion.previousActivation : null;
      list.push(...(await denseBackwardInputList(rt, shape,
        { dout: io.doutput, weight: io.params[0]!, dinp: io.dinput, ...(previous ? { activationGrad: { activation: previous, y: io.input } } : {}) },
        `${this.name} backward input`, scratch(io))));
    }
    return list;
  }

  /** Activations whose derivative is a function of the output y, applied in the input gradient's epilogue. */
  override foldsInputActivation(activation: ActivationSpec, options: FusionOptions): boolean {
    return options.foldActivations && (activation.name === 'relu' || activation.name === 'sigmoid' || activation.name === 'tanh');
  }

  override describe(): string {
    return `Dense(${this.units}, ${describeActivation(this.spec)})`;
  }
}

/** Scratch for the kernel variants that need it (split K's partial sums), one buffer per name, owned by the plan. */
function scratch(io: LayerIO): DenseRunOptions {
  return {
    alloc: (elements, name) => {
      let buffer = io.scratch.get(name);
      if (!buffer || buffer.size < elements * 4) {
        buffer = io.alloc(Math.max(4, elements * 4), name);
        io.scratch.set(name, buffer);
      }
      return buffer;
    },
  };
}

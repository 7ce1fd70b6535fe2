/**
 * Execution plans. A Workspace holds, for one batch size, every activation and
 * gradient buffer of the model and the recorded forward and backward
 * dispatches. A Stream ties a workspace to a dataset and a StepState: its
 * gather, loss and step-advance dispatches. Both are built once and replayed;
 * a training step is
 *
 *   gather inputs, gather targets, forward…, loss, backward… (reversed), optimizer…, advance
 *
 * with no CPU work in between.
 */
import type { BoundResource, Dispatch, Runtime } from '../gpu/runtime.js';
import type { Layer, LayerIO, Shape } from '../layers/layer.js';
import { sizeOf } from '../layers/layer.js';
import { planFusion, type LayerFusion } from './fusion.js';
import { activationForward } from '../ops/activation.js';
import { advanceStep, gatherInputs, scatterRows } from '../ops/batch.js';
import type { ActivationSpec } from '../ops/common.js';
import { lossForwardBackward, type LossKernel } from '../ops/loss.js';
import type { Dataset } from '../data/dataset.js';
import { planLoss, resolveLoss, type Loss } from '../losses/losses.js';

export interface ParamView {
  offset: number;
  count: number;
  shape: number[];
}

export interface ModelLayout {
  layers: readonly Layer[];
  /** Input shape of each layer, and the model's output shape last. */
  shapes: readonly Shape[];
  /** Per layer, per parameter: where it lies in the flat buffers (f32 elements). */
  params: readonly (readonly ParamView[])[];
  paramBuffer: GPUBuffer;
  gradBuffer: GPUBuffer;
}

export interface LossPlan {
  kernel: LossKernel;
  absorbsActivation: boolean;
  outputActivation: ActivationSpec;
}

/**
 * How the loss meets the last layer: with a cross-entropy after softmax (or
 * sigmoid) the loss kernel applies that activation itself. Without a loss (a
 * model that only predicts) every layer applies its own activation.
 */
export function lossPlan(layers: readonly Layer[], shapes: readonly Shape[], loss: Loss | undefined): LossPlan {
  const last = layers[layers.length - 1]!;
  const plan = planLoss(loss ?? resolveLoss('meanSquaredError'), last.activation.name, sizeOf(shapes[shapes.length - 1]!));
  return { ...plan, outputActivation: last.activation };
}

function view(buffer: GPUBuffer, p: ParamView): BoundResource {
  return { buffer, offset: p.offset * 4, size: p.count * 4, shape: p.shape };
}

/** Buffers and dispatches of the model for one batch size and target width. */
export class Workspace {
  readonly x: GPUBuffer;
  readonly targets: GPUBuffer;
  /** dL/d(model output): what the loss writes. */
  readonly dz: GPUBuffer;
  /** Output of each layer (aliases included). */
  readonly outputs: GPUBuffer[] = [];
  /** dL/d(input) of each layer, where one exists. */
  readonly dinputs: (GPUBuffer | null)[] = [];
  /** Probabilities (or whatever the last activation gives), when the loss absorbed it. */
  readonly probabilities: GPUBuffer | null;
  forward: Dispatch[] = [];
  backward: Dispatch[] = [];
  /** Applies the absorbed output activation, for predict. */
  outputActivation: Dispatch[] = [];
  /** Per layer, what it does about activations (src/model/fusion.ts). */
  readonly fusion: readonly LayerFusion[];
  private readonly owned: GPUBuffer[] = [];

  private constructor(
    readonly rt: Runtime,
    readonly batch: number,
    readonly targetWidth: number,
    private readonly layout: ModelLayout,
    readonly loss: LossPlan,
  ) {
    const { layers, shapes } = layout;
    // Every activation buffer holds the batch: the widest one decides the largest batch that fits one buffer
    // (a binding is limited by maxStorageBufferBindingSize too). Checked before anything is allocated.
    const widest = Math.max(...shapes.map(sizeOf), targetWidth);
    const limitBytes = Math.min(rt.limits.maxBufferSize, rt.limits.maxStorageBufferBindingSize);
    if (batch * widest * 4 > limitBytes) {
      const fits = Math.floor(limitBytes / (widest * 4));
      throw new Error(
        `A batch of ${batch.toLocaleString('en-US')} needs activation buffers of ${(batch * widest * 4).toLocaleString('en-US')} bytes ` +
          `(${widest.toLocaleString('en-US')} floats a sample), more than this adapter's buffer limit of ${limitBytes.toLocaleString('en-US')} bytes. ` +
          `Use a batch size of at most ${fits.toLocaleString('en-US')}.`,
      );
    }
    const alloc = (elements: number, label: string) => {
      const buffer = rt.storage(elements * 4, label);
      this.owned.push(buffer);
      return buffer;
    };
    this.x = alloc(batch * sizeOf(shapes[0]!), 'batch inputs');
    this.targets = alloc(batch * targetWidth, 'batch targets');
    let current = this.x;
    for (let i = 0; i < layers.length; i++) {
      current = layers[i]!.aliasesOutput ? current : alloc(batch * sizeOf(shapes[i + 1]!), `${layers[i]!.name} output`);
      this.outputs.push(current);
    }
    const outputs = sizeOf(shapes[layers.length]!);
    this.dz = alloc(batch * outputs, 'loss gradient');
    this.probabilities = loss.absorbsActivation ? alloc(batch * outputs, 'probabilities') : null;
    // Gradients flow backward: each layer's dinput is the previous layer's doutput.
    // The first layers with no parameters before them need no input gradient.
    const firstWithParams = layout.params.findIndex((p) => p.length > 0);
    let doutput = this.dz;
    const dinputs: (GPUBuffer | null)[] = new Array(layers.length).fill(null);
    for (let i = layers.length - 1; i >= 0; i--) {
      const needed = i > firstWithParams;
      const layer = layers[i]!;
      dinputs[i] = layer.aliasesGradient ? doutput : needed ? alloc(batch * sizeOf(shapes[i]!), `${layer.name} input gradient`) : null;
      if (dinputs[i]) doutput = dinputs[i]!;
    }
    this.dinputs = dinputs;
    // Fusion is decided once, here; each layer gets its own record.
    this.fusion = planFusion(layers, loss, { inputGradients: dinputs.map((d) => d !== null) });
  }

  static async create(rt: Runtime, batch: number, targetWidth: number, layout: ModelLayout, loss: LossPlan): Promise<Workspace> {
    const ws = new Workspace(rt, batch, targetWidth, layout, loss);
    await ws.record();
    return ws;
  }

  private io(i: number): LayerIO {
    const { layers, params, paramBuffer, gradBuffer } = this.layout;
    const last = i === layers.length - 1;
    return {
      batch: this.batch,
      input: { buffer: i === 0 ? this.x : this.outputs[i - 1]! },
      output: { buffer: this.outputs[i]! },
      dinput: this.dinputs[i] ? { buffer: this.dinputs[i]! } : null,
      doutput: { buffer: last ? this.dz : this.dinputs[i + 1]! },
      params: params[i]!.map((p) => view(paramBuffer, p)),
      grads: params[i]!.map((p) => view(gradBuffer, p)),
      fusion: this.fusion[i]!,
      scratch: this.scratch(i),
      alloc: (bytes, label) => {
        const buffer = this.rt.storage(bytes, label);
        this.owned.push(buffer);
        return buffer;
      },
    };
  }

  private readonly scratches = new Map<number, Map<string, GPUBuffer>>();
  private scratch(i: number): Map<string, GPUBuffer> {
    let s = this.scratches.get(i);
    if (!s) this.scratches.set(i, (s = new Map()));
    return s;
  }

  /** Records forward for every layer, and backward down to the first layer that has parameters. */
  private async record(): Promise<void> {
    const { layers, shapes } = this.layout;
    // Every layer's kernels are built at once (pipeline builds overlap; the tuner times one family at a time);
    // the lists keep the layers' order.
    const backwardLayers: number[] = [];
    for (let i = layers.length - 1; i >= 0; i--) {
      if (this.layout.params.slice(0, i + 1).every((p) => p.length === 0)) break;
      backwardLayers.push(i);
    }
    const [forward, backward] = await Promise.all([
      Promise.all(layers.map((layer, i) => layer.forward(this.rt, shapes[i]!, this.io(i)))),
      Promise.all(backwardLayers.map((i) => layers[i]!.backward(this.rt, shapes[i]!, this.io(i)))),
    ]);
    this.forward.push(...forward.flat());
    this.backward.push(...backward.flat());
    if (this.probabilities) {
      const outputs = sizeOf(shapes[layers.length]!);
      this.outputActivation.push(
        await activationForward(this.rt, this.loss.outputActivation, { count: this.batch * outputs, columns: outputs },
          { inp: this.outputs[layers.length - 1]!, out: this.probabilities }, `output ${this.loss.outputActivation.name}`),
      );
    }
  }

  /** The model's final output as the user sees it (after the output activation). */
  get finalOutput(): GPUBuffer {
    return this.probabilities ?? this.outputs[this.outputs.length - 1]!;
  }

  get outputSize(): number {
    return sizeOf(this.layout.shapes[this.layout.layers.length]!);
  }

  dispose(): void {
    for (const buffer of this.owned) this.rt.pool.release(buffer);
    this.owned.length = 0;
  }
}

export type StreamRole = 'train' | 'evaluate' | 'predict';

/** One dataset flowing through a workspace: its index list, state, and per-step dispatches. */
export class Stream {
  gather: Dispatch[] = [];
  loss: Dispatch | null = null;
  advance!: Dispatch;
  scatter: Dispatch | null = null;
  readonly indices: GPUBuffer;
  readonly results: GPUBuffer | null;

  private constructor(
    readonly rt: Runtime,
    readonly role: StreamRole,
    readonly workspace: Workspace,
    readonly dataset: Dataset,
    readonly state: GPUBuffer,
    readonly capacity: number,
  ) {
    this.indices = rt.storage(capacity * 4, `${role} indices`);
    this.results = role === 'predict' ? rt.storage(capacity * workspace.outputSize * 4, 'predictions') : null;
  }

  static async create(rt: Runtime, role: StreamRole, ws: Workspace, dataset: Dataset, state: GPUBuffer, capacity: number): Promise<Stream> {
    const stream = new Stream(rt, role, ws, dataset, state, capacity);
    const gpu = dataset.gpu;
    const shape = dataset.sampleShape;
    const rows = shape.length >= 2 ? shape[0]! : 1;
    // One dispatch gathers a step's inputs and (training, evaluation) its targets.
    const targets = role !== 'predict' ? { labels: gpu.labels, targets: ws.targets, targetWidth: dataset.targetWidth } : undefined;
    stream.gather.push(
      await gatherInputs(rt, {
        batch: ws.batch, features: dataset.features, rows, cols: dataset.features / rows,
        sourceU8: dataset.sourceU8, normalize: dataset.normalize, uniformAffine: dataset.uniformAffine,
      }, { images: gpu.images, indices: stream.indices, state, shift: gpu.shift, scale: gpu.scale, x: ws.x, ...(targets ? { targets } : {}) },
      targets ? `gather ${role} batch` : `gather ${role} inputs`),
    );
    if (role !== 'predict') {
      stream.loss = await lossForwardBackward(rt, ws.loss.kernel,
        { batch: ws.batch, classes: ws.outputSize, sparse: dataset.targetWidth === 1 },
        { z: ws.outputs[ws.outputs.length - 1]!, targets: ws.targets, dz: ws.dz, state }, ws.loss.kernel);
    } else {
      stream.scatter = await scatterRows(rt, { batch: ws.batch, columns: ws.outputSize },
        { rows: ws.finalOutput, state, results: stream.results! });
    }
    stream.advance = await advanceStep(rt, role === 'train', state, `advance ${role} step`);
    return stream;
  }

  /** The dispatches of one step, given the optimizer's (training only). */
  step(optimizer: readonly Dispatch[] = []): Dispatch[] {
    const ws = this.workspace;
    switch (this.role) {
      case 'train':
        return [...this.gather, ...ws.forward, this.loss!, ...ws.backward, ...optimizer, this.advance];
      case 'evaluate':
        return [...this.gather, ...ws.forward, this.loss!, this.advance];
      case 'predict':
        return [...this.gather, ...ws.forward, ...ws.outputActivation, this.scatter!, this.advance];
    }
  }

  dispose(ownsState: boolean): void {
    this.rt.pool.release(this.indices);
    if (this.results) this.rt.pool.release(this.results);
    if (ownsState) this.rt.pool.release(this.state);
  }
}

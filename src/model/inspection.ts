/**
 * One training step made visible: `inspectStep` reads back every layer's
 * activations and gradients (for the page's step view), `timeStep` times each
 * dispatch of the step (for the benchmark). Both train the model by that one
 * step; neither belongs in a training loop.
 */
import type { Dataset } from '../data/dataset.js';
import type { Dispatch } from '../gpu/runtime.js';
import { timeDispatches } from '../gpu/timing.js';
import { sizeOf, type Shape } from '../layers/layer.js';
import { resetStepState } from '../ops/step.js';
import type { GpuModel } from './gpu-model.js';
import { TrainingDivergedError } from './history.js';
import type { OptimizerState } from './optimizer-state.js';
import type { Stream } from './plan.js';
import { runPass } from './trainer.js';

/** A tensor read back from the GPU: (samples, ...shape) row-major for activations. */
export interface TensorReadback {
  shape: number[];
  values: Float32Array;
}

/** One layer in one training step, as `inspectStep` reads it back. */
export interface LayerStep {
  name: string;
  /** 'Dense', 'Conv2D', ... */
  typeName: string;
  /** e.g. 'Dense(10, softmax)'. */
  description: string;
  /** Its output over the batch, (samples, ...output shape). */
  output: TensorReadback;
  /** The output holds pre-activation sums: the loss applies this (last) layer's activation itself. */
  outputIsPreActivation: boolean;
  /**
   * The gradient its parameter kernels consumed: dL/d(pre-activation sum) when
   * the layer applies a non-linear activation, else dL/d(output); null for a
   * layer without parameters.
   */
  delta: (TensorReadback & { of: 'pre-activation' | 'output' }) | null;
  /** Gradients of its parameters in this step (kernel, bias), before the update. */
  grads: { name: string; shape: number[]; values: Float32Array }[];
}

/** One training step made visible: the batch, every layer's activations and gradients, the step's loss. */
export interface StepInspection {
  /** The batch size the step ran at, and the samples in it. */
  batch: number;
  samples: number;
  /** Mean loss and accuracy of the batch, before the update. */
  loss: number;
  accuracy: number;
  /** Updates applied so far, this step's included. */
  iteration: number;
  /** The batch as the first layer sees it (after preprocessing), (samples, ...input shape). */
  input: TensorReadback;
  /** Class of each sample. */
  labels: Uint32Array;
  layers: LayerStep[];
}

/** A one-step call's ingredients: the training stream at its batch size, and the chosen samples. */
export interface SingleStep {
  gpu: GpuModel;
  optimizer: OptimizerState;
  stream: Stream;
  chosen: Dataset;
  batch: number;
}

/** Options of a one-step call: its batch size (default 32), and which samples of the data fill it. */
export interface StepOptions {
  batchSize?: number;
  positions?: ArrayLike<number>;
}

/** The batch size of a one-step call and the samples at `positions` of `data` (default: its first batch). */
export function chooseSamples(data: Dataset, options: StepOptions, what: string): { batch: number; chosen: Dataset } {
  const batch = options.batchSize ?? 32;
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`batchSize must be a positive integer, got ${batch}.`);
  const positions = options.positions ?? Array.from({ length: Math.min(batch, data.count) }, (_, i) => i);
  if (positions.length < 1 || positions.length > batch) {
    throw new Error(`${what}: give 1 to ${batch} (the batch size) sample positions, got ${positions.length}.`);
  }
  return { batch, chosen: data.subset(positions) };
}

/** Runs the step on the chosen samples and reads back, per layer, the activations and gradients it produced. */
export async function inspectStep({ gpu, optimizer, stream, chosen, batch }: SingleStep): Promise<StepInspection> {
  const state = await runPass(stream, chosen.indices, optimizer.dispatches, 1);
  if (state.halted) throw new TrainingDivergedError(0, state.haltedStep, state.iteration);

  const { rt, params } = gpu;
  const { layout } = params;
  const ws = stream.workspace;
  const samples = chosen.count;
  const shapes = layout.shapes;
  const read = async (buffer: GPUBuffer, shape: Shape): Promise<TensorReadback> =>
    ({ shape: [samples, ...shape], values: await rt.readF32(buffer, samples * sizeOf(shape)) });
  const last = layout.layers.length - 1;
  const layers: LayerStep[] = [];
  for (let i = 0; i <= last; i++) {
    const layer = layout.layers[i]!;
    const views = layout.params[i]!;
    const absorbed = !ws.fusion[i]!.forwardActivation; // the loss applies this (last) layer's activation
    let delta: LayerStep['delta'] = null;
    if (views.length) {
      // What the layer's backward read as dL/d(output) and turned, in place, into dL/d(pre-activation).
      const doutput = i === last ? ws.dz : ws.dinputs[i + 1]!;
      const linear = absorbed || layer.activation.name === 'linear';
      delta = { ...(await read(doutput, shapes[i + 1]!)), of: linear ? 'output' : 'pre-activation' };
    }
    const specs = layer.params(shapes[i]!);
    const grads = [];
    for (let j = 0; j < views.length; j++) {
      grads.push({ name: specs[j]!.name, shape: views[j]!.shape, values: await rt.readF32(layout.gradBuffer, views[j]!.count, views[j]!.offset) });
    }
    layers.push({
      name: layer.name, typeName: layer.typeName, description: layer.describe(),
      output: await read(ws.outputs[i]!, shapes[i + 1]!), outputIsPreActivation: absorbed, delta, grads,
    });
  }
  return {
    batch, samples, loss: state.lossSum / state.seen, accuracy: state.correct / state.seen, iteration: state.iteration,
    input: await read(ws.x, shapes[0]!), labels: chosen.labels(), layers,
  };
}

/**
 * Runs the step with every dispatch in its own timed pass: the dispatches and
 * the GPU time of each in nanoseconds (null where the device has no
 * 'timestamp-query'; the step still runs).
 */
export async function timeStep({ gpu, optimizer, stream, chosen }: SingleStep): Promise<{ dispatches: Dispatch[]; times: Float64Array | null }> {
  gpu.rt.write(stream.indices, chosen.indices);
  resetStepState(gpu.rt, stream.state, chosen.count);
  const dispatches = stream.step(optimizer.dispatches);
  const times = await timeDispatches(gpu.rt, dispatches);
  if (!times) gpu.rt.submit(dispatches);
  return { dispatches, times };
}

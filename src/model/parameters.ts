/**
 * The model's parameters on the GPU: every tensor of every layer in one flat
 * f32 buffer, each starting on a 256-byte boundary (the storage-binding offset
 * alignment), and the gradients in a second buffer of the same layout.
 * Alignment gaps hold zero weights and zero gradients.
 */
import { Rng } from '../data/random.js';
import { formatBytes } from '../gpu/buffers.js';
import type { Runtime } from '../gpu/runtime.js';
import { initialize } from '../init/initializers.js';
import { sizeOf, type Layer, type ParamSpec, type Shape } from '../layers/layer.js';
import type { ModelLayout, ParamView } from './plan.js';

/** f32 elements per 256 bytes: every parameter tensor starts on this boundary. */
const ALIGN = 64;

/** One parameter tensor: its layer and name, where it lies, and its L2 coefficient. */
export interface TensorEntry extends ParamView {
  layer: string;
  name: string;
  l2: number;
}

/** Elements a tensor of `count` values takes in the flat buffer. */
export function alignedCount(count: number): number {
  return Math.ceil(count / ALIGN) * ALIGN;
}

export class Parameters {
  private constructor(
    readonly rt: Runtime,
    readonly layout: ModelLayout,
    /** f32 elements of each flat buffer. */
    readonly total: number,
    /** Every tensor in buffer order. */
    readonly tensors: readonly TensorEntry[],
  ) {}

  /**
   * Lays out the parameters of `layers` (whose input shapes are `shapes`) and
   * uploads initial values drawn from `seed`.
   */
  static create(rt: Runtime, modelName: string, layers: readonly Layer[], shapes: readonly Shape[], seed: number): Parameters {
    const specs: ParamSpec[][] = layers.map((layer, i) => layer.params(shapes[i]!));
    const params: ParamView[][] = [];
    const tensors: TensorEntry[] = [];
    let offset = 0;
    specs.forEach((layerSpecs, i) => {
      params.push(
        layerSpecs.map((p) => {
          const view = { offset, count: sizeOf(p.shape), shape: p.shape };
          tensors.push({ ...view, layer: layers[i]!.name, name: p.name, l2: p.l2 });
          offset += alignedCount(view.count);
          return view;
        }),
      );
    });
    const total = Math.max(offset, ALIGN);
    // Checked before the host array of initial weights is made: a model too large for
    // one buffer fails at once, not after filling gigabytes of host memory.
    checkParamLimit(rt, modelName, layers, params, total);
    const initial = new Float32Array(total);
    const rng = new Rng(seed).fork('init');
    specs.forEach((layerSpecs, i) =>
      layerSpecs.forEach((p, j) => initial.set(initialize(p.initializer, sizeOf(p.shape), p.fans, rng), params[i]![j]!.offset)));
    const layout: ModelLayout = {
      layers,
      shapes,
      params,
      paramBuffer: rt.storage(initial, `${modelName} parameters`),
      gradBuffer: rt.storage(total * 4, `${modelName} gradients`),
    };
    return new Parameters(rt, layout, total, tensors);
  }

  /** The whole flat parameter buffer, read back. */
  read(): Promise<Float32Array> {
    return this.rt.readF32(this.layout.paramBuffer, this.total);
  }

  /** Replaces the whole flat parameter buffer. */
  write(all: Float32Array): void {
    this.rt.write(this.layout.paramBuffer, all);
  }

  /** Every tensor, read back: [{ layer, name, shape, values }]. */
  async getWeights(): Promise<{ layer: string; name: string; shape: number[]; values: Float32Array }[]> {
    const all = await this.read();
    return this.tensors.map((t) => ({ layer: t.layer, name: t.name, shape: t.shape, values: all.slice(t.offset, t.offset + t.count) }));
  }

  /** Replaces every tensor (same order and sizes as getWeights). */
  setWeights(weights: readonly { values: Float32Array }[]): void {
    if (weights.length !== this.tensors.length) throw new Error(`setWeights: the model has ${this.tensors.length} tensors, got ${weights.length}.`);
    const all = new Float32Array(this.total);
    this.tensors.forEach((t, k) => {
      const values = weights[k]!.values;
      if (values.length !== t.count) {
        throw new Error(`setWeights: tensor ${k} has shape (${t.shape.join(', ')}) = ${t.count} values, got ${values.length}.`);
      }
      all.set(values, t.offset);
    });
    this.write(all);
  }

  /** l2·Σw² over regularised kernels (0 when none is), as Keras adds to the loss. */
  async l2Penalty(): Promise<number> {
    const regularised = this.tensors.filter((t) => t.l2 > 0);
    if (!regularised.length) return 0;
    const all = await this.read();
    let penalty = 0;
    for (const { offset, count, l2 } of regularised) {
      let sum = 0;
      for (let k = 0; k < count; k++) sum += all[offset + k]! ** 2;
      penalty += l2 * sum;
    }
    return penalty;
  }

  dispose(): void {
    this.rt.pool.release(this.layout.paramBuffer);
    this.rt.pool.release(this.layout.gradBuffer);
  }
}

/**
 * The flat parameter buffer (bound whole by the optimizer) must fit
 * maxBufferSize and maxStorageBufferBindingSize. When it does not, the error
 * names the largest layer and the width of it that would fit.
 */
function checkParamLimit(rt: Runtime, modelName: string, layers: readonly Layer[], params: ParamView[][], totalParams: number): void {
  const limitBytes = Math.min(rt.limits.maxBufferSize, rt.limits.maxStorageBufferBindingSize);
  if (totalParams * 4 <= limitBytes) return;
  const limit = Math.floor(limitBytes / 4);
  const counts = params.map((views) => views.reduce((n, v) => n + alignedCount(v.count), 0));
  const big = counts.indexOf(Math.max(...counts));
  const layer = layers[big]! as Layer & { units?: number; filters?: number };
  const width = layer.units ?? layer.filters;
  let advice = 'Make the model smaller.';
  if (width !== undefined) {
    // The layer's parameters, and the next layer's, grow in proportion to its width.
    const next = counts[big + 1] ?? 0;
    const perUnit = (counts[big]! + next) / width;
    const fixed = totalParams - counts[big]! - next;
    const fits = Math.floor((limit - fixed - ALIGN * 4) / perUnit);
    const what = layer.units !== undefined ? 'units' : 'filters';
    advice = fits >= 1
      ? `Layer '${layer.name}' (${layer.describe()}) holds ${counts[big]!.toLocaleString('en-US')} of them: give it at most ${fits.toLocaleString('en-US')} ${what}, or make the model smaller elsewhere.`
      : `Layer '${layer.name}' (${layer.describe()}) does not fit even with 1 of its ${what}: make the model smaller before it.`;
  }
  throw new Error(
    `Model '${modelName}' has ${totalParams.toLocaleString('en-US')} parameters (${formatBytes(totalParams * 4)}), more than the ` +
      `${limit.toLocaleString('en-US')} that fit this adapter's buffer limit of ${formatBytes(limitBytes)} (maxBufferSize, maxStorageBufferBindingSize). ${advice}`,
  );
}

/**
 * A Sequential model's architecture as the Keras / TensorFlow.js Layers
 * topology (`{ class_name: 'Sequential', config: { layers: [...] } }`, the
 * `modelTopology` of a TensorFlow.js `model.json`), and back.
 *
 * Weights are named as Keras names them: `<layer>/kernel`, `<layer>/bias`, in
 * Keras's layouts (Dense kernel (in, out), Conv2D kernel (kh, kw, in, out),
 * channels last), which are shaderprop's own.
 *
 * Two places differ from shaderprop's layers and are written as Keras needs
 * them: an activation Keras has no name for (leaky ReLU) becomes a LeakyReLU
 * layer after a linear Dense or Conv2D; and an (H, W) input that a Conv2D or
 * MaxPooling2D reads as (H, W, 1) gets a Reshape to (H, W, 1) before it.
 * Read back, those are an Activation layer and a Reshape layer: the same
 * function, one layer more.
 */
import { ActivationLayer, leakyRelu } from '../layers/activations.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import { activation, conv2d, dense, flatten, maxPool2d, reshape } from '../layers/index.js';
import type { Layer, Shape } from '../layers/layer.js';
import { MaxPool2d } from '../layers/pool.js';
import { Flatten, Reshape } from '../layers/reshape.js';
import type { Activation, ActivationSpec } from '../ops/common.js';

export interface KerasLayerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** The Layers topology of a Sequential model, as TensorFlow.js and Keras write it. */
export interface SequentialTopology {
  class_name: 'Sequential';
  config: { name: string; layers: KerasLayerConfig[] };
  keras_version?: string;
  backend?: string;
}

/** What toTopology needs of a model: its layers, name and input shape. */
export interface ModelArchitecture {
  readonly name: string;
  readonly layers: readonly Layer[];
  readonly inputShape: Shape | undefined;
}

const KERAS_ACTIVATIONS: Partial<Record<Activation, string>> = {
  linear: 'linear', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax',
};

/** The model's architecture as a Keras Sequential topology; throws for a layer Keras cannot express. */
export function toTopology(model: ModelArchitecture): SequentialTopology {
  const inputShape = model.inputShape;
  if (!inputShape) throw new Error('The model has no input shape yet: pass inputShape to sequential(), or call fit first.');
  const layers: KerasLayerConfig[] = [];
  const names = new Set(model.layers.map((l) => l.name));
  const fresh = (base: string) => {
    let name = base;
    for (let n = 1; names.has(name); n++) name = `${base}_${n}`;
    names.add(name);
    return name;
  };
  let shape: Shape = inputShape;
  const push = (class_name: string, config: Record<string, unknown>) => {
    if (layers.length === 0) Object.assign(config, { batch_input_shape: [null, ...inputShape], dtype: 'float32' });
    layers.push({ class_name, config: { ...config, trainable: true } });
  };
  /** Keras's name of an activation, or a LeakyReLU layer to follow with 'linear'. */
  const split = (spec: ActivationSpec): { name: string; after: ActivationSpec | null } => {
    const name = KERAS_ACTIVATIONS[spec.name];
    if (name) return { name, after: null };
    if (spec.name === 'leakyRelu') return { name: 'linear', after: spec };
    throw new Error(`The activation '${spec.name}' has no Keras equivalent to export.`);
  };
  const leaky = (spec: ActivationSpec, name: string) => push('LeakyReLU', { name, alpha: spec.alpha ?? 0.3 });

  for (const layer of model.layers) {
    const output = layer.outputShape(shape);
    if ((layer instanceof Conv2d || layer instanceof MaxPool2d) && shape.length === 2) {
      push('Reshape', { name: fresh(`${layer.name}_channels`), target_shape: [shape[0], shape[1], 1] });
    }
    if (layer instanceof Dense) {
      const { name, after } = split(layer.activation);
      push('Dense', { name: layer.name, units: layer.units, activation: name, use_bias: true });
      if (after) leaky(after, fresh(`${layer.name}_leaky_re_lu`));
    } else if (layer instanceof Conv2d) {
      const { name, after } = split(layer.activation);
      push('Conv2D', {
        name: layer.name, filters: layer.filters, kernel_size: [...layer.kernelSize], strides: [...layer.strides],
        padding: layer.padding, data_format: 'channels_last', dilation_rate: [1, 1], activation: name, use_bias: true,
      });
      if (after) leaky(after, fresh(`${layer.name}_leaky_re_lu`));
    } else if (layer instanceof MaxPool2d) {
      push('MaxPooling2D', { name: layer.name, pool_size: [...layer.poolSize], strides: [...layer.strides], padding: layer.padding, data_format: 'channels_last' });
    } else if (layer instanceof Flatten) {
      push('Flatten', { name: layer.name });
    } else if (layer instanceof Reshape) {
      push('Reshape', { name: layer.name, target_shape: [...output] });
    } else if (layer instanceof ActivationLayer) {
      const spec = layer.activation;
      if (spec.name === 'leakyRelu') leaky(spec, layer.name);
      else push('Activation', { name: layer.name, activation: split(spec).name });
    } else {
      throw new Error(`Layer '${layer.name}' (${layer.typeName}) has no Keras equivalent to export.`);
    }
    shape = output;
  }
  return { class_name: 'Sequential', config: { name: model.name, layers }, keras_version: 'shaderprop', backend: 'tensor_flow.js' };
}

/** A Sequential model's layers, input shape and name, read from a Keras / TensorFlow.js Layers topology. */
export function fromTopology(topology: unknown, source = 'the topology'): { name: string; inputShape: number[]; layers: Layer[] } {
  const fail = (message: string): never => {
    throw new Error(`${source}: ${message}`);
  };
  const root = (topology && typeof topology === 'object' && 'modelTopology' in topology ? (topology as { modelTopology: unknown }).modelTopology : topology) as
    { class_name?: unknown; config?: unknown; model_config?: unknown } | null;
  const model = (root && typeof root === 'object' && 'model_config' in root ? root.model_config : root) as { class_name?: unknown; config?: unknown } | null;
  if (!model || typeof model !== 'object' || model.class_name !== 'Sequential') {
    fail(`expected a Keras Sequential model ({ "class_name": "Sequential", "config": { "layers": [...] } }), got ${JSON.stringify(model)?.slice(0, 80)}.`);
  }
  const config = model!.config as { name?: unknown; layers?: unknown } | unknown[];
  const entries = (Array.isArray(config) ? config : config && typeof config === 'object' ? config.layers : undefined) as KerasLayerConfig[] | undefined;
  if (!Array.isArray(entries) || entries.length === 0) fail('the Sequential model lists no layers.');
  const name = !Array.isArray(config) && typeof config?.name === 'string' ? config.name : 'sequential';

  let inputShape: number[] | undefined;
  const layers: Layer[] = [];
  entries!.forEach((entry, index) => {
    const c = (entry?.config ?? {}) as Record<string, unknown>;
    const where = `layer ${index + 1} (${String(entry?.class_name)}${typeof c.name === 'string' ? ` '${c.name}'` : ''})`;
    const batchShape = (c.batch_input_shape ?? c.batch_shape) as (number | null)[] | undefined;
    if (batchShape && !inputShape) inputShape = batchShape.slice(1).map((d) => d ?? fail(`${where}: the input shape has an unknown dimension.`));
    const layerName = typeof c.name === 'string' ? c.name : undefined;
    const activationOf = (value: unknown): Activation => {
      const known: Record<string, Activation> = { linear: 'linear', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', softmax: 'softmax' };
      const found = typeof value === 'string' ? known[value] : value === undefined || value === null ? 'linear' : undefined;
      return found ?? fail(`${where}: the activation ${JSON.stringify(value)} is not one shaderprop has (linear, relu, sigmoid, tanh, softmax).`);
    };
    const pairOf = (value: unknown, what: string, fallback?: [number, number]): [number, number] => {
      if (value === undefined && fallback) return fallback;
      const p = typeof value === 'number' ? [value, value] : value;
      if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v > 0)) return fail(`${where}: ${what} must be two positive integers, got ${JSON.stringify(value)}.`);
      return p as [number, number];
    };
    const padding = (value: unknown): 'valid' | 'same' =>
      value === undefined || value === 'valid' || value === 'same' ? (value ?? 'valid') : fail(`${where}: padding must be 'valid' or 'same', got ${JSON.stringify(value)}.`);
    const channelsLast = () => {
      if (c.data_format !== undefined && c.data_format !== null && c.data_format !== 'channels_last') fail(`${where}: only data_format 'channels_last' is supported.`);
    };
    const withBias = () => {
      if (c.use_bias === false) fail(`${where}: use_bias false is not supported; shaderprop's Dense and Conv2D always have a bias.`);
    };
    switch (entry?.class_name) {
      case 'InputLayer':
        return;
      case 'Dense': {
        withBias();
        if (!Number.isInteger(c.units) || (c.units as number) < 1) fail(`${where}: units must be a positive integer, got ${JSON.stringify(c.units)}.`);
        layers.push(dense(c.units as number, activationOf(c.activation), layerName ? { name: layerName } : {}));
        return;
      }
      case 'Conv2D': {
        withBias();
        channelsLast();
        const dilation = pairOf(c.dilation_rate, 'dilation_rate', [1, 1]);
        if (dilation[0] !== 1 || dilation[1] !== 1) fail(`${where}: dilated convolutions are not supported.`);
        if (!Number.isInteger(c.filters) || (c.filters as number) < 1) fail(`${where}: filters must be a positive integer, got ${JSON.stringify(c.filters)}.`);
        layers.push(conv2d(c.filters as number, pairOf(c.kernel_size, 'kernel_size'), {
          strides: pairOf(c.strides, 'strides', [1, 1]), padding: padding(c.padding), activation: activationOf(c.activation), ...(layerName ? { name: layerName } : {}),
        }));
        return;
      }
      case 'MaxPooling2D': {
        channelsLast();
        const poolSize = pairOf(c.pool_size, 'pool_size', [2, 2]);
        layers.push(maxPool2d({ poolSize, strides: pairOf(c.strides ?? undefined, 'strides', poolSize), padding: padding(c.padding), ...(layerName ? { name: layerName } : {}) }));
        return;
      }
      case 'Flatten':
        channelsLast();
        layers.push(flatten(layerName));
        return;
      case 'Reshape': {
        const target = c.target_shape;
        if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && d > 0)) fail(`${where}: target_shape must be positive integers, got ${JSON.stringify(target)}.`);
        layers.push(reshape(target as number[], layerName));
        return;
      }
      case 'Activation':
        layers.push(activation(activationOf(c.activation), layerName));
        return;
      case 'LeakyReLU': {
        const alpha = c.alpha ?? c.negative_slope ?? 0.3;
        if (typeof alpha !== 'number') fail(`${where}: alpha must be a number, got ${JSON.stringify(alpha)}.`);
        layers.push(activation(leakyRelu(alpha as number), layerName));
        return;
      }
      default:
        fail(`${where}: shaderprop has no layer ${JSON.stringify(entry?.class_name)} (it reads Dense, Conv2D, MaxPooling2D, Flatten, Reshape, Activation, LeakyReLU, InputLayer).`);
    }
  });
  if (!inputShape) fail('the first layer has no batch_input_shape (or an InputLayer with batch_shape): the input shape is unknown.');
  return { name, inputShape: inputShape!, layers };
}

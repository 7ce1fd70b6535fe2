/** Models read back from an exported architecture: a Keras / TensorFlow.js topology, or a safetensors file. */
import type { Runtime } from '../gpu/runtime.js';
import { getPlatform } from '../platform/platform.js';
import { decodeSafetensors } from './safetensors.js';
import { sequential, type Sequential } from './sequential.js';
import { fromTopology } from './topology.js';

export interface LoadOptions {
  runtime?: Runtime;
  /** Seeds the initial weights where none are loaded. */
  seed?: number;
}

/**
 * A new, untrained Sequential model from a Keras Sequential topology (the
 * `modelTopology` of a TensorFlow.js `model.json`, or that whole file, or the
 * `architecture` that `export('safetensors')` writes).
 */
export function sequentialFromTopology(topology: unknown, options: LoadOptions = {}, source?: string): Sequential {
  const { name, inputShape, layers } = fromTopology(topology, source);
  return sequential(layers, { name, inputShape, ...(options.runtime ? { runtime: options.runtime } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) });
}

/**
 * The model a `model.export('safetensors', path)` wrote: its architecture from
 * the metadata, its weights by their Keras names. `source` is a path or the
 * file's bytes. Compile it to train it further.
 */
export async function loadSafetensors(source: string | Uint8Array, options: LoadOptions = {}): Promise<Sequential> {
  const name = typeof source === 'string' ? source : 'safetensors bytes';
  const bytes = typeof source === 'string' ? await (await getPlatform()).readFile(source) : source;
  const { metadata, tensors } = decodeSafetensors(bytes, name);
  if (typeof metadata.architecture !== 'string') {
    throw new Error(`${name} has no architecture in its metadata: shaderprop loads the safetensors files its export writes (metadata 'architecture': a Keras Sequential topology).`);
  }
  let topology: unknown;
  try {
    topology = JSON.parse(metadata.architecture);
  } catch {
    throw new Error(`${name}: the architecture in its metadata is not JSON.`);
  }
  const model = sequentialFromTopology(topology, options, name);
  const wanted = await model.getWeights();
  const missing = wanted.map((w) => `${w.layer}/${w.name}`).filter((key) => !tensors.has(key));
  if (missing.length > 0) throw new Error(`${name} lacks the tensors ${missing.join(', ')} that its architecture needs.`);
  const values = wanted.map((w) => {
    const key = `${w.layer}/${w.name}`;
    const t = tensors.get(key)!;
    if (t.shape.join(',') !== w.shape.join(',')) {
      throw new Error(`${name}: tensor '${key}' has shape (${t.shape.join(', ')}), its architecture needs (${w.shape.join(', ')}).`);
    }
    return { values: t.values };
  });
  await model.setWeights(values);
  return model;
}

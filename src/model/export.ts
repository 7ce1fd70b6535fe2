/**
 * A trained model in other frameworks' formats:
 *
 * - 'safetensors': one file; tensors named as Keras names them
 *   (`dense/kernel`, `conv2d/bias`), and the architecture, a Keras Sequential
 *   topology (topology.ts), as JSON in the metadata under `architecture`.
 *   `loadSafetensors` reads it back.
 * - 'tfjs': a folder with TensorFlow.js's Layers format: `model.json` (the same
 *   topology and a weights manifest) and `weights.bin`, which
 *   `tf.loadLayersModel` loads.
 */
import { getPlatform } from '../platform/platform.js';
import { encodeSafetensors, type NamedTensor } from './safetensors.js';
import { toTopology, type ModelArchitecture } from './topology.js';

export type ExportFormat = 'safetensors' | 'tfjs';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['safetensors', 'tfjs'];

/** What exporting needs of a model (a Sequential). */
export interface Exportable extends ModelArchitecture {
  getWeights(): Promise<{ layer: string; name: string; shape: number[]; values: Float32Array }[]>;
}

/** The weights with their Keras names, in the model's order. */
async function namedWeights(model: Exportable): Promise<NamedTensor[]> {
  return (await model.getWeights()).map((w) => ({ name: `${w.layer}/${w.name}`, shape: w.shape, values: w.values }));
}

/**
 * The files of an export, by name (a page offers them as downloads). With
 * `name`, they are `<name>.safetensors`, or `<name>.json` and
 * `<name>.weights.bin`; else `model.safetensors`, or `model.json` and `weights.bin`.
 */
export async function exportFiles(model: Exportable, format: ExportFormat, options: { name?: string } = {}): Promise<{ name: string; data: Uint8Array }[]> {
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`Unknown export format '${String(format)}': use ${EXPORT_FORMATS.join(' or ')}.`);
  const topology = toTopology(model);
  const weights = await namedWeights(model);
  if (format === 'safetensors') {
    const metadata = { generated_by: 'shaderprop', architecture: JSON.stringify(topology) };
    return [{ name: `${options.name ?? 'model'}.safetensors`, data: encodeSafetensors(weights, metadata) }];
  }
  const total = weights.reduce((n, w) => n + w.values.length, 0);
  const data = new Uint8Array(4 * total);
  const view = new DataView(data.buffer);
  let at = 0;
  for (const w of weights) for (let i = 0; i < w.values.length; i++, at += 4) view.setFloat32(at, w.values[i]!, true);
  const weightsFile = options.name ? `${options.name}.weights.bin` : 'weights.bin';
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'shaderprop',
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: [weightsFile], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  return [
    { name: options.name ? `${options.name}.json` : 'model.json', data: new TextEncoder().encode(JSON.stringify(modelJson)) },
    { name: weightsFile, data },
  ];
}

/**
 * Writes the export: 'safetensors' to the file `path`, 'tfjs' into the folder
 * `path` (created if needed). Returns the paths written.
 */
export async function exportModel(model: Exportable, format: ExportFormat, path: string): Promise<string[]> {
  const files = await exportFiles(model, format);
  const platform = await getPlatform();
  if (format === 'safetensors') {
    await platform.writeFileAtomic(path, files[0]!.data);
    return [path];
  }
  await platform.mkdirp(path);
  const written: string[] = [];
  for (const file of files) {
    const target = platform.joinPath(path, file.name);
    await platform.writeFileAtomic(target, file.data);
    written.push(target);
  }
  return written;
}

/**
 * Checkpoints: one file holding a JSON header and the raw f32 data of the
 * model's flat parameter buffer and optimizer slots, written atomically
 * (temporary file, then rename), so a killed run never leaves a broken one.
 *
 *   bytes 0..7    "SHPROP01"
 *   bytes 8..11   header length H (u32, little-endian)
 *   bytes 12..    H bytes of JSON (CheckpointHeader), padded with spaces to a multiple of 4
 *   then          the parameters, then each optimizer slot, f32 little-endian
 */
import type { Layer, Shape } from '../layers/layer.js';
import type { Optimizer } from '../optimizers/optimizers.js';
import type { GpuModel } from './gpu-model.js';

const CHECKPOINT_MAGIC = 'SHPROP01';

export interface CheckpointHeader {
  format: 1;
  model: string;
  inputShape: number[];
  /** One line per layer, e.g. 'dense_1: Dense(64, relu)'; a load checks they match. */
  layers: string[];
  tensors: { layer: string; name: string; shape: number[]; offset: number; count: number }[];
  /** f32 elements of the flat parameter buffer (and of each slot). */
  totalParams: number;
  optimizer: { description: string; kind: string; slots: number; iteration: number } | null;
  /** Free-form: epoch, metrics, ... */
  meta: Record<string, unknown>;
}

function encodeCheckpoint(header: CheckpointHeader, params: Float32Array, slots: readonly Float32Array[]): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((4 - ((12 + new TextEncoder().encode(json).length) % 4)) % 4);
  const jsonBytes = new TextEncoder().encode(json);
  const dataBytes = 4 * header.totalParams * (1 + slots.length);
  const out = new Uint8Array(12 + jsonBytes.length + dataBytes);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, jsonBytes.length, true);
  out.set(jsonBytes, 12);
  let at = 12 + jsonBytes.length;
  for (const array of [params, ...slots]) {
    if (array.length !== header.totalParams) throw new Error('encodeCheckpoint: a buffer has the wrong length.');
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), at);
    at += array.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, name: string): { header: CheckpointHeader; params: Float32Array; slots: Float32Array[] } {
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (bytes.length < 12 || magic !== CHECKPOINT_MAGIC) {
    throw new Error(`${name} is not a shaderprop checkpoint (it starts with '${magic.replace(/[^\x20-\x7e]/g, '?')}', expected '${CHECKPOINT_MAGIC}').`);
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as CheckpointHeader;
  } catch {
    throw new Error(`${name}: the checkpoint header is damaged (not JSON).`);
  }
  const slotCount = header.optimizer?.slots ?? 0;
  const expected = 12 + length + 4 * header.totalParams * (1 + slotCount);
  if (bytes.length !== expected) {
    throw new Error(`${name}: truncated or damaged checkpoint: ${bytes.length} bytes, expected ${expected}.`);
  }
  const data = bytes.slice(12 + length).buffer;
  const arrays = Array.from({ length: 1 + slotCount }, (_, k) => new Float32Array(data, k * 4 * header.totalParams, header.totalParams));
  return { header, params: arrays[0]!, slots: arrays.slice(1) };
}

/** What a checkpoint says of the model it came from. */
export interface CheckpointedModel {
  name: string;
  inputShape: Shape;
  layers: readonly Layer[];
}

function layerLines(layers: readonly Layer[]): string[] {
  return layers.map((l) => `${l.name}: ${l.describe()}`);
}

/** The model's weights, optimizer state and iteration count as checkpoint bytes. */
export async function checkpointBytes(model: CheckpointedModel, gpu: GpuModel, meta: Record<string, unknown>): Promise<Uint8Array> {
  const { params } = gpu;
  const values = await params.read();
  const slots = gpu.optimizer ? await gpu.optimizer.readSlots(params.total) : [];
  const header: CheckpointHeader = {
    format: 1,
    model: model.name,
    inputShape: [...model.inputShape],
    layers: layerLines(model.layers),
    tensors: params.tensors.map((t) => ({ layer: t.layer, name: t.name, shape: t.shape, offset: t.offset, count: t.count })),
    totalParams: params.total,
    optimizer: gpu.optimizer
      ? { description: gpu.optimizer.config.describe(), kind: gpu.optimizer.config.kind, slots: slots.length, iteration: await gpu.iterations() }
      : null,
    meta,
  };
  return encodeCheckpoint(header, values, slots);
}

/** Throws when a checkpoint's layers or input shape are not the model's. */
export function checkSameModel(header: CheckpointHeader, model: CheckpointedModel, name: string): void {
  const mine = layerLines(model.layers);
  if (mine.join('\n') !== header.layers.join('\n') || header.inputShape.join(',') !== model.inputShape.join(',')) {
    throw new Error(
      `${name} holds a different model:\n  saved: ${header.inputShape.join('×')} → ${header.layers.join(' → ')}\n` +
        `  this:  ${model.inputShape.join('×')} → ${mine.join(' → ')}`,
    );
  }
}

/**
 * Writes a decoded checkpoint into the model's buffers: the weights, and the
 * optimizer's slots and iteration when `optimizer` is of the kind saved.
 */
export async function restoreCheckpoint(
  gpu: GpuModel,
  saved: ReturnType<typeof decodeCheckpoint>,
  optimizer: Optimizer | undefined,
  name: string,
): Promise<void> {
  const { header, params, slots } = saved;
  if (header.totalParams !== gpu.params.total) throw new Error(`${name}: ${header.totalParams} parameters saved, the model has ${gpu.params.total}.`);
  gpu.params.write(params);
  if (header.optimizer && optimizer && optimizer.kind === header.optimizer.kind) {
    (await gpu.optimizerFor(optimizer)).writeSlots(slots);
    gpu.restartSteps(header.optimizer.iteration);
  }
}

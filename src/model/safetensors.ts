/**
 * The safetensors format (https://github.com/huggingface/safetensors): an
 * 8-byte little-endian header length N, N bytes of JSON naming each tensor's
 * dtype, shape and byte range (plus `__metadata__`, string to string), then the
 * tensors' bytes. shaderprop writes and reads F32 tensors.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The file's bytes: tensors in the order given, the header padded with spaces to a multiple of 8. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`safetensors: the tensor name '${t.name}' is used twice or reserved.`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) throw new Error(`safetensors: tensor '${t.name}' has shape (${t.shape.join(', ')}) but ${t.values.length} values.`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    // Little-endian f32, whatever the host's byte order.
    for (let i = 0; i < t.values.length; i++, at += 4) view.setFloat32(at, t.values[i]!, true);
  }
  return out;
}

/** The tensors (F32 only) and metadata of a safetensors file; errors name `source` and what is wrong. */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors file'): { metadata: Record<string, string>; tensors: Map<string, NamedTensor> } {
  if (bytes.length < 8) throw new Error(`${source} is not a safetensors file: ${bytes.length} bytes, shorter than the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    throw new Error(`${source} is not a safetensors file, or is truncated: its header claims ${headerLength} bytes, the file has ${bytes.length - 8} after the length.`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  } catch {
    throw new Error(`${source} is not a safetensors file: its header is not JSON.`);
  }
  const data = bytes.subarray(8 + headerLength);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const entry = value as Partial<HeaderEntry>;
    if (entry.dtype !== 'F32') throw new Error(`${source}: tensor '${name}' is ${String(entry.dtype)}; shaderprop reads F32 tensors only.`);
    const [begin, end] = entry.data_offsets ?? [-1, -1];
    const count = (entry.shape ?? []).reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= data.length && end - begin === 4 * count)) {
      throw new Error(`${source}: tensor '${name}' (shape ${JSON.stringify(entry.shape)}) has bytes [${begin}, ${end}) outside the ${data.length} data bytes or of the wrong size; the file is damaged or truncated.`);
    }
    const values = new Float32Array(count);
    const dataView = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    for (let i = 0; i < count; i++) values[i] = dataView.getFloat32(4 * i, true);
    tensors.set(name, { name, shape: [...entry.shape!], values });
  }
  return { metadata, tensors };
}

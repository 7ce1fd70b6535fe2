/**
 * NumPy's `.npy` (one array) and `.npz` (a zip of `.npy` files, as `np.savez`
 * and `np.savez_compressed` write them) formats
 * (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
 *
 *   bytes 0–5   \x93NUMPY
 *   bytes 6–7   format version (1.0, 2.0 or 3.0)
 *   then        the header length (u16 little-endian in 1.0, u32 in 2.0 and 3.0)
 *   then        the header, a Python dict literal:
 *               {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 *   then        the data, C order (last index fastest)
 *
 * Numeric dtypes are read: bool, (u)int8/16/32/64 and float32/64, either byte
 * order. int64 and uint64 become Float64Array (exact up to 2^53; larger
 * values are refused). Deflated `.npz` entries are inflated with the
 * web-standard `DecompressionStream('deflate-raw')`, so this module runs in
 * Node and in browsers alike.
 */
import { getPlatform } from '../platform/platform.js';

/** The elements of an array, in the JavaScript type closest to its dtype. */
export type NumericArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface NpyArray {
  /** NumPy's type string from the header, e.g. '<f4' or '|u1'. */
  dtype: string;
  /** Dimension sizes, outermost first (e.g. [60000, 28, 28]); [] for a scalar. */
  shape: number[];
  /** The elements, C order: bool and uint8 as Uint8Array, float32 as Float32Array, (u)int64 as Float64Array, … */
  data: NumericArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const SUPPORTED = 'bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64';

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Element size and reader of a dtype's kind and size ('u', 1 → Uint8Array, …). */
function elementType(kind: string, size: number): { create: (n: number) => NumericArray; get: (view: DataView, offset: number, little: boolean) => number } | null {
  const t = `${kind}${size}`;
  switch (t) {
    case 'b1':
    case 'u1': return { create: (n) => new Uint8Array(n), get: (v, o) => v.getUint8(o) };
    case 'i1': return { create: (n) => new Int8Array(n), get: (v, o) => v.getInt8(o) };
    case 'u2': return { create: (n) => new Uint16Array(n), get: (v, o, le) => v.getUint16(o, le) };
    case 'i2': return { create: (n) => new Int16Array(n), get: (v, o, le) => v.getInt16(o, le) };
    case 'u4': return { create: (n) => new Uint32Array(n), get: (v, o, le) => v.getUint32(o, le) };
    case 'i4': return { create: (n) => new Int32Array(n), get: (v, o, le) => v.getInt32(o, le) };
    case 'u8': return { create: (n) => new Float64Array(n), get: (v, o, le) => Number(v.getBigUint64(o, le)) };
    case 'i8': return { create: (n) => new Float64Array(n), get: (v, o, le) => Number(v.getBigInt64(o, le)) };
    case 'f4': return { create: (n) => new Float32Array(n), get: (v, o, le) => v.getFloat32(o, le) };
    case 'f8': return { create: (n) => new Float64Array(n), get: (v, o, le) => v.getFloat64(o, le) };
    default: return null;
  }
}

/** Parses one `.npy` file; `name` (its path, or `archive.npz:x.npy`) starts every error message. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const isNpy = bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
  if (!isNpy) {
    const start = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    const hint = bytes[0] === 0x50 && bytes[1] === 0x4b ? ' It starts like a zip archive: is it an .npz?' : '';
    throw new Error(`${name}: not a NumPy .npy file: it starts with ${start || 'nothing'}, not 93 4e 55 4d 50 59 (\\x93NUMPY).${hint} Save the array with np.save.`);
  }
  if (bytes.length < 10) throw new Error(`${name}: truncated: ${bytes.length} bytes, too short for the .npy header (save it again).`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major < 1 || major > 3) throw new Error(`${name}: unsupported .npy format version ${major}.${bytes[7]} (1.0 to 3.0 are read); save it with a current NumPy.`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error(`${name}: truncated: ${bytes.length} bytes, too short for the .npy header (save it again).`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (bytes.length < dataStart) {
    throw new Error(`${name}: truncated: the header needs ${formatCount(dataStart)} bytes but the file has only ${formatCount(bytes.length)} (save it again).`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lengthBytes, dataStart));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${name}: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape': ${JSON.stringify(header.trim().slice(0, 120))} (save the array again with np.save).`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map((s) => Number(s.replace(/L$/, '')));
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${name}: the .npy header has a bad shape (${shapeText}).`);
  const typeMatch = /^([<>|=])([biuf])(\d+)$/.exec(descr);
  const type = typeMatch ? elementType(typeMatch[2]!, Number(typeMatch[3])) : null;
  if (!typeMatch || !type) {
    throw new Error(
      `${name}: unsupported dtype '${descr}'; shaderprop reads ${SUPPORTED}. ` +
        `Convert the array first, e.g. np.save(path, a.astype(np.float32)) (or np.uint8 for 0–255 pixels, np.int64 for labels).`,
    );
  }
  if (fortran === 'True') {
    throw new Error(`${name}: the array is in Fortran order; save it in C order: np.save(path, np.ascontiguousarray(a)).`);
  }
  const size = Number(typeMatch[3]);
  const little = typeMatch[1] !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * size;
  const present = bytes.length - dataStart;
  const shown = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  if (present < expected) {
    throw new Error(
      `${name}: truncated: the header says shape ${shown} of ${descr}, ${formatCount(expected)} bytes of data, ` +
        `but only ${formatCount(present)} are present (copy or save the file again).`,
    );
  }
  if (present > expected) {
    throw new Error(
      `${name}: trailing extra bytes: the header says shape ${shown} of ${descr}, ${formatCount(expected)} bytes of data, ` +
        `but ${formatCount(present)} are present; the file is corrupt or not written by np.save (save it again).`,
    );
  }
  const data = type.create(count);
  for (let i = 0, offset = dataStart; i < count; i++, offset += size) data[i] = type.get(view, offset, little);
  if (typeMatch[2] === 'i' || typeMatch[2] === 'u') {
    if (size === 8) {
      for (let i = 0; i < count; i++) {
        if (!Number.isSafeInteger(data[i])) throw new Error(`${name}: element ${i} (${data[i]}) of the ${descr} array is beyond 2^53, which shaderprop cannot hold exactly.`);
      }
    }
  }
  return { dtype: descr, shape, data };
}

/** Reads a `.npy` file through the platform. */
export async function readNpyFile(path: string): Promise<NpyArray> {
  const bytes = await (await getPlatform()).readFile(path);
  return parseNpy(bytes, path);
}

async function inflateRaw(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  const source: Uint8Array<ArrayBuffer> = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  try {
    const stream = new Blob([source]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`${name}: corrupt deflate data (${error instanceof Error ? error.message : String(error)}); the archive is damaged (save it again).`, { cause: error });
  }
}

/**
 * Parses a `.npz` archive: every `<key>.npy` member as an array named `<key>`,
 * in archive order. Stored and deflated members are read (np.savez,
 * np.savez_compressed), zip64 included.
 */
export async function parseNpz(bytes: Uint8Array, name: string): Promise<Map<string, NpyArray>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => Number(view.getBigUint64(o, true));
  if (bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b)) {
    throw new Error(`${name}: this is a single .npy array, not an .npz archive; rename it to .npy, or save images and labels together with np.savez(path, x=images, y=labels).`);
  }
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (u32(o) === 0x06054b50) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) {
    const zip = bytes.length >= 4 && u32(0) === 0x04034b50;
    throw new Error(
      zip
        ? `${name}: truncated: a zip archive without its central directory at the end (copy or save the file again).`
        : `${name}: not an .npz archive (no zip signature); save images and labels with np.savez(path, x=images, y=labels).`,
    );
  }
  let entries = u16(eocd + 10);
  let cdOffset = u32(eocd + 16);
  if ((entries === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
    const z = u64(eocd - 12);
    if (z + 56 > bytes.length || u32(z) !== 0x06064b50) throw new Error(`${name}: corrupt zip64 directory (save the file again).`);
    entries = u64(z + 32);
    cdOffset = u64(z + 48);
  }
  const arrays = new Map<string, NpyArray>();
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > bytes.length || u32(p) !== 0x02014b50) throw new Error(`${name}: corrupt zip directory at entry ${e + 1} of ${entries} (save the file again).`);
    const method = u16(p + 10);
    let compressed = u32(p + 20);
    let uncompressed = u32(p + 24);
    const nameLength = u16(p + 28);
    const extraLength = u16(p + 30);
    const commentLength = u16(p + 32);
    let local = u32(p + 42);
    const member = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLength));
    // Zip64: the sizes and offset that do not fit 32 bits are in extra field 0x0001, in this order.
    for (let x = p + 46 + nameLength; x + 4 <= p + 46 + nameLength + extraLength;) {
      const id = u16(x);
      const length = u16(x + 2);
      if (id === 0x0001) {
        let f = x + 4;
        if (uncompressed === 0xffffffff) { uncompressed = u64(f); f += 8; }
        if (compressed === 0xffffffff) { compressed = u64(f); f += 8; }
        if (local === 0xffffffff) local = u64(f);
      }
      x += 4 + length;
    }
    p += 46 + nameLength + extraLength + commentLength;
    if (!member.endsWith('.npy')) continue;
    const where = `${name}:${member}`;
    if (local + 30 > bytes.length || u32(local) !== 0x04034b50) throw new Error(`${where}: truncated or corrupt archive: the member's header is missing (save the file again).`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + compressed > bytes.length) {
      throw new Error(`${where}: truncated: the member needs ${formatCount(compressed)} bytes but the archive ends after ${formatCount(bytes.length - start)} (copy or save the file again).`);
    }
    const raw = bytes.subarray(start, start + compressed);
    let content: Uint8Array;
    if (method === 0) content = raw;
    else if (method === 8) content = await inflateRaw(raw, where);
    else throw new Error(`${where}: unsupported zip compression method ${method}; save with np.savez or np.savez_compressed.`);
    if (content.length !== uncompressed) {
      throw new Error(`${where}: truncated: ${formatCount(content.length)} bytes where the archive says ${formatCount(uncompressed)} (save the file again).`);
    }
    arrays.set(member.slice(0, -4), parseNpy(content, where));
  }
  if (arrays.size === 0) throw new Error(`${name}: the archive holds no .npy arrays; save images and labels with np.savez(path, x=images, y=labels).`);
  return arrays;
}

/** Reads a `.npz` archive through the platform. */
export async function readNpzFile(path: string): Promise<Map<string, NpyArray>> {
  const bytes = await (await getPlatform()).readFile(path);
  return parseNpz(bytes, path);
}

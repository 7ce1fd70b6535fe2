/**
 * The IDX file format of the MNIST distribution (http://yann.lecun.com/exdb/mnist/):
 *
 *   bytes 0–1   0x00 0x00
 *   byte  2     type code (0x08 = unsigned byte; 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)
 *   byte  3     number of dimensions d
 *   then        d dimension sizes, big-endian u32
 *   then        the data, row-major (last index fastest)
 *
 * Only unsigned-byte data is supported (all MNIST files are). Files may be gzipped;
 * they are gunzipped with the web-standard `DecompressionStream`, so this module
 * runs unchanged in Node and in browsers.
 */
import { getPlatform } from '../platform/platform.js';

export interface IdxArray {
  /** Dimension sizes from the header, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** The elements, row-major; a view into the parsed bytes (no copy). */
  data: Uint8Array;
}

/** Type codes of the IDX format; only 0x08 is supported. */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const MAX_DIMS = 4;

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

function hexBytes(bytes: Uint8Array, count: number): string {
  return Array.from(bytes.subarray(0, count), hex).join(' ');
}

/** Formats a count with thousands separators (47,040,000). */
function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses an uncompressed IDX file of unsigned bytes. `name` (the file's name or
 * path) starts every error message; the data is a view into `bytes`.
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (isGzip(bytes)) {
    throw new Error(`${name}: the bytes are gzip-compressed, not IDX; gunzip them first (readIdxFile does it by itself).`);
  }
  if (bytes.length < 4) {
    throw new Error(
      `${name}: truncated: ${bytes.length} byte(s), too short for the 4-byte IDX magic number (re-download it).`,
    );
  }
  const typeCode = bytes[2]!;
  const ndims = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(
      `${name}: wrong magic number: found ${hexBytes(bytes, 4)}, expected 00 00 08 0d (d = number of dimensions, ` +
        `e.g. 00 00 08 03 for images, 00 00 08 01 for labels); this is not an IDX file (re-download it).`,
    );
  }
  if (typeCode !== 0x08) {
    const known = TYPE_NAMES[typeCode];
    throw new Error(
      known
        ? `${name}: unsupported IDX type code 0x${hex(typeCode)} (${known}); only 0x08 (unsigned byte) is supported, ` +
            `as in the MNIST files. Convert the data to unsigned bytes.`
        : `${name}: wrong magic number: unknown IDX type code 0x${hex(typeCode)} in ${hexBytes(bytes, 4)}, expected ` +
            `00 00 08 0d; the file is not IDX or is corrupt (re-download it).`,
    );
  }
  if (ndims === 0 || ndims > MAX_DIMS) {
    throw new Error(
      `${name}: unsupported number of dimensions ${ndims} (magic ${hexBytes(bytes, 4)}); expected 1 to ${MAX_DIMS}. ` +
        `The file is corrupt or not an MNIST IDX file (re-download it).`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: truncated: the header declares ${ndims} dimension(s) and needs ${headerBytes} bytes, ` +
        `but the file has only ${bytes.length} (re-download it).`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = dims.reduce((product, size) => product * size, 1);
  const present = bytes.length - headerBytes;
  const shape = `${dims.join('×')}${ndims > 1 ? ` = ${formatCount(expected)}` : ''}`;
  if (present < expected) {
    throw new Error(
      `${name}: truncated: header says ${shape} bytes of data but only ${formatCount(present)} are present (re-download it).`,
    );
  }
  if (present > expected) {
    throw new Error(
      `${name}: trailing extra bytes: header says ${shape} bytes of data but ${formatCount(present)} are present ` +
        `(${formatCount(present - expected)} too many); the file is corrupt or its header is wrong (re-download it).`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Gunzips `bytes` with `DecompressionStream('gzip')`; errors name `name` and say what to do. */
export async function gunzip(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  // Streams take ArrayBuffer-backed views; copy the rare SharedArrayBuffer-backed one.
  const source: Uint8Array<ArrayBuffer> =
    bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  const input = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(source);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = input.pipeThrough(new DecompressionStream('gzip')).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${name}: corrupt gzip stream (${reason}) after ${formatCount(total)} decompressed bytes; ` +
        `the download is damaged (delete the file and download it again).`,
      { cause: error },
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads an IDX file through the platform (a path in Node, a URL in a browser),
 * gunzipping it first when it starts with the gzip magic, so `.gz` and raw files both work.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const platform = await getPlatform();
  const bytes = await platform.readFile(path);
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, path) : bytes, path);
}

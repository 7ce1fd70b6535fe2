/** Minimal writers of .npy, .npz, CSV and PNG-folder fixtures, independent of the loaders under test. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { encode } from 'fast-png';

type Typed = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | BigInt64Array;

/** An .npy file (format 1.0, little-endian unless `descr` says '>'). */
export function npy(descr: string, shape: number[], data: Typed, options: { version?: 1 | 2; fortran?: boolean } = {}): Uint8Array {
  const version = options.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  header = header.padEnd(total - prefix - 1, ' ') + '\n';
  let body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (descr.startsWith('>')) {
    const size = data.BYTES_PER_ELEMENT;
    body = body.slice();
    for (let i = 0; i < body.length; i += size) body.subarray(i, i + size).reverse();
  }
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(body, total);
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of `<name>.npy` members, stored or deflated (np.savez / np.savez_compressed). */
export function npz(members: Record<string, Uint8Array>, compressed = false): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [key, content] of Object.entries(members)) {
    const name = new TextEncoder().encode(`${key}.npy`);
    const data = compressed ? new Uint8Array(deflateRawSync(content)) : content;
    const crc = crc32(content);
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, compressed ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, content.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, compressed ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, content.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, end];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Writes `images` (count×h×w×channels bytes) as PNG files under dir/<class>/<n>.png. */
export function writePngFolder(
  dir: string, images: Uint8Array, labels: ArrayLike<number>, size: { width: number; height: number; channels?: number },
  classNames?: readonly string[],
): void {
  const channels = size.channels ?? 1;
  const per = size.width * size.height * channels;
  for (let n = 0; n < labels.length; n++) {
    const folder = join(dir, classNames ? classNames[labels[n]!]! : String(labels[n]));
    mkdirSync(folder, { recursive: true });
    const data = images.subarray(n * per, (n + 1) * per);
    writeFileSync(join(folder, `${String(n).padStart(4, '0')}.png`), encode({ width: size.width, height: size.height, data, channels, depth: 8 }));
  }
}

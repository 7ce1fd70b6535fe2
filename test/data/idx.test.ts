import { afterAll, describe, expect, it } from 'vitest';
import { gunzip, isGzip, parseIdx, readIdxFile } from '../../src/data/idx.js';
import { gzip, makeIdx, pseudoBytes, tempDir, writeFile } from './fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('parseIdx', () => {
  it('reads dims and data of a valid file, big-endian', () => {
    const data = pseudoBytes(2 * 3 * 4);
    const parsed = parseIdx(makeIdx([2, 3, 4], data), 'images.idx');
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('reads a dimension above 65535 (all four header bytes matter)', () => {
    const parsed = parseIdx(makeIdx([70000], new Uint8Array(70000)), 'big');
    expect(parsed.dims).toEqual([70000]);
  });

  it('reports a truncated data section with both sizes', () => {
    const bytes = makeIdx([3, 28, 28], new Uint8Array(3 * 28 * 28)).subarray(0, 16 + 1234);
    expect(() => parseIdx(bytes, 'train-images-idx3-ubyte.gz')).toThrow(
      'train-images-idx3-ubyte.gz: truncated: header says 3×28×28 = 2,352 bytes of data but only 1,234 are present (re-download it)',
    );
  });

  it('reports a truncated header', () => {
    expect(() => parseIdx(makeIdx([5, 2, 2], new Uint8Array(20)).subarray(0, 9), 'short.idx')).toThrow(
      /short\.idx: truncated: .*needs 16 bytes/,
    );
    expect(() => parseIdx(new Uint8Array([0, 0]), 'tiny.idx')).toThrow(/tiny\.idx: truncated/);
  });

  it('reports trailing extra bytes', () => {
    const bytes = new Uint8Array([...makeIdx([4], new Uint8Array(4)), 9, 9]);
    expect(() => parseIdx(bytes, 'labels.idx')).toThrow(/labels\.idx: trailing extra bytes: .* 6 are present \(2 too many\)/);
  });

  it('reports a wrong magic number with the bytes found and expected', () => {
    const bytes = makeIdx([4], new Uint8Array(4));
    bytes[0] = 0x50;
    bytes[1] = 0x4b;
    expect(() => parseIdx(bytes, 'labels.idx')).toThrow(/labels\.idx: wrong magic number: found 50 4b 08 01, expected 00 00 08/);
  });

  it('rejects a known non-u8 type code and an unknown one', () => {
    expect(() => parseIdx(makeIdx([1], new Uint8Array(4), 0x0d), 'floats.idx')).toThrow(
      /floats\.idx: unsupported IDX type code 0x0d \(float32\); only 0x08/,
    );
    expect(() => parseIdx(makeIdx([1], new Uint8Array(1), 0x42), 'odd.idx')).toThrow(/odd\.idx: .*unknown IDX type code 0x42/);
  });

  it('rejects 0 or more than 4 dimensions', () => {
    expect(() => parseIdx(makeIdx([], new Uint8Array(0)), 'zero.idx')).toThrow(/zero\.idx: unsupported number of dimensions 0/);
    expect(() => parseIdx(makeIdx([1, 1, 1, 1, 1], new Uint8Array(1)), 'five.idx')).toThrow(
      /five\.idx: unsupported number of dimensions 5/,
    );
  });

  it('points at gunzip when given gzip bytes', () => {
    expect(() => parseIdx(gzip(makeIdx([1], new Uint8Array(1))), 'x.gz')).toThrow(/x\.gz: .*gzip-compressed/);
  });
});

describe('readIdxFile', () => {
  const dims = [7, 5, 3];
  const data = pseudoBytes(7 * 5 * 3, 5);

  it('reads a raw file', async () => {
    const path = writeFile(tmp.dir, 'raw-idx3-ubyte', makeIdx(dims, data));
    const parsed = await readIdxFile(path);
    expect(parsed.dims).toEqual(dims);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('reads a gzipped file to the same result', async () => {
    const path = writeFile(tmp.dir, 'packed-idx3-ubyte.gz', gzip(makeIdx(dims, data)));
    const parsed = await readIdxFile(path);
    expect(parsed.dims).toEqual(dims);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('gunzips a file larger than one stream chunk', async () => {
    const big = pseudoBytes(300_000, 3);
    const path = writeFile(tmp.dir, 'big-idx1-ubyte.gz', gzip(makeIdx([big.length], big)));
    const parsed = await readIdxFile(path);
    expect(parsed.dims).toEqual([300_000]);
    expect(Buffer.from(parsed.data).equals(Buffer.from(big))).toBe(true);
  });

  it('names the file when the gzip stream is corrupt', async () => {
    const packed = gzip(makeIdx([4000], pseudoBytes(4000, 9, 16)));
    expect(isGzip(packed)).toBe(true);
    const middle = packed.length >> 1;
    for (let i = middle; i < middle + 8; i++) packed[i]! ^= 0xff;
    const path = writeFile(tmp.dir, 'damaged-idx1-ubyte.gz', packed);
    await expect(readIdxFile(path)).rejects.toThrow(/damaged-idx1-ubyte\.gz: corrupt gzip stream/);
  });

  it('names the file when the gzip stream is cut short', async () => {
    const packed = gzip(makeIdx([4000], pseudoBytes(4000, 9, 16)));
    await expect(gunzip(packed.subarray(0, packed.length - 100), 'cut.gz')).rejects.toThrow(/cut\.gz: corrupt gzip stream/);
  });

  it('names the file when a gzipped file is truncated inside the IDX data', async () => {
    const idx = makeIdx([10, 4, 4], pseudoBytes(160));
    const path = writeFile(tmp.dir, 'short-idx3-ubyte.gz', gzip(idx.subarray(0, 100)));
    await expect(readIdxFile(path)).rejects.toThrow(/short-idx3-ubyte\.gz: truncated: header says 10×4×4 = 160 bytes/);
  });

  it('names the file when it does not exist', async () => {
    await expect(readIdxFile(`${tmp.dir}/absent-idx1-ubyte.gz`)).rejects.toThrow(/absent-idx1-ubyte\.gz: no such file/);
  });
});

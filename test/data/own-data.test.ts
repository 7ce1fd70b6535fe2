import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from 'fast-png';
import { parseCsv, loadCsv } from '../../src/data/csv.js';
import { loadLabeledData, loadNpy, loadNpz, toLabeledImages } from '../../src/data/labeled.js';
import { parseNpy, parseNpz } from '../../src/data/npy.js';
import { loadPngFolder, pngPixels } from '../../src/data/png.js';
import { pseudoBytes, tempDir } from './fixtures.js';
import { npy, npz, writePngFolder } from './own-data-fixtures.js';

const tmp = tempDir('shaderprop-own-data-');
afterAll(() => tmp.cleanup());

function file(name: string, bytes: Uint8Array | string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('.npy', () => {
  it('reads uint8 and float32 arrays with their shapes', () => {
    const bytes = pseudoBytes(2 * 3 * 4);
    const a = parseNpy(npy('|u1', [2, 3, 4], bytes), 'a.npy');
    expect(a.shape).toEqual([2, 3, 4]);
    expect(a.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(a.data)).toEqual(Array.from(bytes));
    const floats = Float32Array.from([0.5, -1.25, 3, 1e-3, 7, 8]);
    const f = parseNpy(npy('<f4', [3, 2], floats), 'f.npy');
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual(Array.from(floats));
  });

  it('reads int64 labels, big-endian float64 and format 2.0', () => {
    const labels = BigInt64Array.from([0n, 9n, 3n]);
    expect(Array.from(parseNpy(npy('<i8', [3], labels), 'y.npy').data)).toEqual([0, 9, 3]);
    const doubles = Float64Array.from([1.5, -2]);
    expect(Array.from(parseNpy(npy('>f8', [2], doubles), 'd.npy').data)).toEqual([1.5, -2]);
    expect(parseNpy(npy('<i4', [2, 1], Int32Array.from([4, 5]), { version: 2 }), 'v2.npy').shape).toEqual([2, 1]);
  });

  it('names the file and what is wrong: truncated, unsupported dtype, Fortran order, not npy', () => {
    const full = npy('|u1', [4, 28, 28], new Uint8Array(4 * 784));
    expect(() => parseNpy(full.subarray(0, full.length - 100), 'x.npy')).toThrow(
      "x.npy: truncated: the header says shape (4, 28, 28) of |u1, 3,136 bytes of data, but only 3,036 are present (copy or save the file again).",
    );
    expect(() => parseNpy(full.subarray(0, 40), 'x.npy')).toThrow(/x\.npy: truncated: the header needs 128 bytes but the file has only 40/);
    expect(() => parseNpy(npy('<f2', [2], new Uint16Array(2)), 'half.npy')).toThrow(
      /half\.npy: unsupported dtype '<f2'; shaderprop reads bool, int8, uint8.*astype\(np\.float32\)/,
    );
    expect(() => parseNpy(npy('<U5', [1], new Uint8Array(20)), 'str.npy')).toThrow(/str\.npy: unsupported dtype '<U5'/);
    expect(() => parseNpy(npy('<f4', [2, 2], new Float32Array(4), { fortran: true }), 'f.npy')).toThrow(/f\.npy: .*Fortran order.*ascontiguousarray/);
    expect(() => parseNpy(new TextEncoder().encode('label,pixel0\n'), 'data.npy')).toThrow(/data\.npy: not a NumPy \.npy file: it starts with 6c 61/);
  });

  it('loads images and labels from two files, and refuses mismatched counts', async () => {
    const images = pseudoBytes(5 * 6);
    const x = file('x.npy', npy('|u1', [5, 2, 3], images));
    const y = file('y.npy', npy('<i8', [5], BigInt64Array.from([1n, 0n, 2n, 2n, 1n])));
    const data = await loadNpy(x, y);
    expect(data).toMatchObject({ shape: [2, 3], count: 5, classes: 3 });
    expect(Array.from(data.x)).toEqual(Array.from(images));
    expect(Array.from(data.y)).toEqual([1, 0, 2, 2, 1]);
    const y4 = file('y4.npy', npy('|u1', [4], Uint8Array.from([1, 0, 2, 2])));
    await expect(loadNpy(x, y4)).rejects.toThrow(`${x} has 5 images but ${y4} has 4 labels; they must be equal`);
    const bad = file('neg.npy', npy('<f4', [5], Float32Array.from([1, 0, 2.5, 2, 1])));
    await expect(loadNpy(x, bad)).rejects.toThrow(`${bad}: label 2 is 2.5; labels are class indices, integers ≥ 0.`);
  });
});

describe('.npz', () => {
  const xTrain = pseudoBytes(6 * 4 * 4, 3);
  const yTrain = Uint8Array.from([0, 1, 2, 3, 4, 5]);
  const xTest = Float32Array.from(pseudoBytes(2 * 16, 4), (v) => v / 255);

  it.each([false, true])('reads x_train/y_train and x_test/y_test (compressed: %s)', async (compressed) => {
    const path = file(`keras-${compressed}.npz`, npz({
      x_train: npy('|u1', [6, 4, 4], xTrain), y_train: npy('|u1', [6], yTrain),
      x_test: npy('<f4', [2, 4, 4], xTest), y_test: npy('<i8', [2], BigInt64Array.from([7n, 1n])),
    }, compressed));
    const { train, test } = await loadNpz(path);
    expect(train).toMatchObject({ shape: [4, 4], count: 6, classes: 6 });
    expect(Array.from(train.x)).toEqual(Array.from(xTrain));
    expect(Array.from(train.y)).toEqual(Array.from(yTrain));
    expect(test!.x).toBeInstanceOf(Float32Array);
    expect(Array.from(test!.x)).toEqual(Array.from(xTest));
    expect(Array.from(test!.y)).toEqual([7, 1]);
  });

  it('reads x/y, and any two arrays by their shapes', async () => {
    const xy = await loadNpz(file('xy.npz', npz({ x: npy('|u1', [6, 16], xTrain), y: npy('|u1', [6], yTrain) })));
    expect(xy.train.shape).toEqual([16]);
    expect(xy.test).toBeUndefined();
    const named = await loadNpz(file('two.npz', npz({ labels_here: npy('|u1', [6], yTrain), pictures: npy('|u1', [6, 4, 4], xTrain) })));
    expect(Array.from(named.train.y)).toEqual(Array.from(yTrain));
    expect(named.train.shape).toEqual([4, 4]);
  });

  it('says which arrays it found when it cannot tell images from labels', async () => {
    const path = file('three.npz', npz({ a: npy('|u1', [6, 16], xTrain), b: npy('|u1', [6], yTrain), c: npy('|u1', [6], yTrain) }));
    await expect(loadNpz(path)).rejects.toThrow(`${path}: cannot tell the images from the labels among its arrays 'a' (6, 16), 'b' (6,), 'c' (6,). Name them x and y`);
  });

  it('names a truncated archive and a truncated member', async () => {
    const whole = npz({ x: npy('|u1', [6, 16], xTrain), y: npy('|u1', [6], yTrain) });
    await expect(parseNpz(whole.subarray(0, whole.length - 30), 'cut.npz')).rejects.toThrow(
      'cut.npz: truncated: a zip archive without its central directory at the end (copy or save the file again).',
    );
    await expect(parseNpz(npy('|u1', [2], new Uint8Array(2)), 'one.npz')).rejects.toThrow(/one\.npz: this is a single \.npy array, not an \.npz archive/);
    const member = npy('|u1', [6, 16], xTrain);
    const short = npz({ x: member.subarray(0, member.length - 5), y: npy('|u1', [6], yTrain) });
    await expect(parseNpz(short, 'short.npz')).rejects.toThrow(/short\.npz:x\.npy: truncated: the header says shape \(6, 16\) of \|u1, 96 bytes of data, but only 91 are present/);
  });
});

describe('CSV', () => {
  it('reads a header, the label column by name or index, bytes or floats', async () => {
    const text = 'pixel0,label,pixel1\n0,3,255\n12,1,7\n\n';
    const byName = parseCsv(text, 'a.csv');
    expect(byName).toMatchObject({ shape: [2], count: 2, classes: 4 });
    expect(byName.x).toBeInstanceOf(Uint8Array);
    expect(Array.from(byName.x)).toEqual([0, 255, 12, 7]);
    expect(Array.from(byName.y)).toEqual([3, 1]);
    const byIndex = parseCsv('5,0.5,0.25\n2,1,0\n', 'b.csv', { label: 0 });
    expect(byIndex.x).toBeInstanceOf(Float32Array);
    expect(Array.from(byIndex.x)).toEqual([0.5, 0.25, 1, 0]);
    expect(Array.from(byIndex.y)).toEqual([5, 2]);
    const loaded = await loadCsv(file('c.csv', 'a,b,class\r\n1,2,0\r\n3,4,1\r\n'), { label: 'class' });
    expect(Array.from(loaded.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(loaded.y)).toEqual([0, 1]);
  });

  it('names the line and column of a non-numeric cell, and other mistakes', () => {
    expect(() => parseCsv('label,p0,p1\n1,2,3\n0,4,x7\n', 'd.csv')).toThrow(
      'd.csv: line 3, column 3 (\'p1\'): "x7" is not a number. Every cell below the header must be a number: fix or drop that line.',
    );
    expect(() => parseCsv('1,2,3\n0,,5\n', 'e.csv')).toThrow('e.csv: line 2, column 2: "" is not a number.');
    expect(() => parseCsv('label,p0\n1,2\n0,4,5\n', 'f.csv')).toThrow('f.csv: line 3 has 3 cells but line 1 has 2; every line needs the same columns.');
    expect(() => parseCsv('label,p0\n-1,2\n', 'g.csv')).toThrow("g.csv: line 2, column 1 ('label'): the label -1 is not a class index (an integer ≥ 0).");
    expect(() => parseCsv('a,b\n1,2\n', 'h.csv', { label: 'digit' })).toThrow("h.csv: no column named 'digit'; the header has 'a', 'b'.");
    expect(() => parseCsv('', 'i.csv')).toThrow('i.csv: the CSV file is empty');
  });
});

describe('PNG folder', () => {
  it('reads one sub-folder per class, gray as is', async () => {
    const dir = join(tmp.dir, 'digits');
    const images = pseudoBytes(7 * 5 * 3, 5);
    const labels = [0, 2, 1, 0, 2, 11, 1];
    writePngFolder(dir, images, labels, { width: 3, height: 5 });
    writeFileSync(join(dir, '0', 'notes.txt'), 'skipped');
    const data = await loadPngFolder(dir);
    expect(data).toMatchObject({ shape: [5, 3], count: 7, classes: 12 });
    // In class order (0, 1, 2, 11), then by file name.
    const order = labels.map((l, n) => ({ l, n })).sort((a, b) => a.l - b.l || a.n - b.n);
    expect(Array.from(data.y)).toEqual(order.map((o) => o.l));
    const expected = order.flatMap((o) => Array.from(images.subarray(o.n * 15, (o.n + 1) * 15)));
    expect(Array.from(data.x)).toEqual(expected);
  });

  it('converts RGB(A) to luma (over black) and keeps class names', async () => {
    const dir = join(tmp.dir, 'pets');
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 128, 10, 20, 30, 0]);
    writePngFolder(dir, rgba, [1], { width: 2, height: 2, channels: 4 }, ['cat', 'dog']);
    mkdirSync(join(dir, 'cat'));
    writeFileSync(join(dir, 'cat', 'c.png'), encode({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), channels: 3, depth: 8 }));
    const data = await loadPngFolder(dir);
    expect(data.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(data.y)).toEqual([0, 1]);
    const luma = (r: number, g: number, b: number, a = 255) => Math.round((0.299 * r + 0.587 * g + 0.114 * b) * (a / 255));
    expect(Array.from(data.x.subarray(4))).toEqual([luma(255, 0, 0), luma(0, 255, 0), luma(0, 0, 255, 128), 0]);
    expect(Array.from(data.x.subarray(0, 4))).toEqual([luma(1, 2, 3), luma(4, 5, 6), luma(7, 8, 9), luma(10, 11, 12)]);
    const rgb = await loadPngFolder(dir, { color: 'rgb' });
    expect(rgb.shape).toEqual([2, 2, 3]);
    expect(Array.from(rgb.x.subarray(12, 15))).toEqual([255, 0, 0]);
    const gray16 = pngPixels(encode({ width: 1, height: 1, data: Uint16Array.from([65535]), channels: 1, depth: 16 }), 'g16.png');
    expect(Array.from(gray16.data)).toEqual([255]);
  });

  it('refuses a folder with no class sub-folders, mixed sizes and an empty class', async () => {
    const flat = join(tmp.dir, 'flat');
    mkdirSync(flat);
    writeFileSync(join(flat, 'a.png'), encode({ width: 1, height: 1, data: new Uint8Array(1), channels: 1, depth: 8 }));
    await expect(loadPngFolder(flat)).rejects.toThrow(`${flat}: no class sub-folders: a PNG data set is a folder with one sub-folder per class`);
    await expect(loadPngFolder(flat)).rejects.toThrow('its 1 PNG file(s) lie directly in it: move each into the folder of its class.');
    const mixed = join(tmp.dir, 'mixed');
    writePngFolder(mixed, new Uint8Array(4), [0], { width: 2, height: 2 });
    mkdirSync(join(mixed, '1'));
    writeFileSync(join(mixed, '1', 'big.png'), encode({ width: 3, height: 2, data: new Uint8Array(6), channels: 1, depth: 8 }));
    await expect(loadPngFolder(mixed)).rejects.toThrow(
      `${join(mixed, '1', 'big.png')}: the image is 3×2 but ${join(mixed, '0', '0000.png')} is 2×2; every image of a data set must have the same size`,
    );
    mkdirSync(join(mixed, '2'));
    writeFileSync(join(mixed, '1', 'big.png'), encode({ width: 2, height: 2, data: new Uint8Array(4), channels: 1, depth: 8 }));
    await expect(loadPngFolder(mixed)).rejects.toThrow(`${join(mixed, '2')}: the class folder '2' holds no .png files`);
    writeFileSync(join(mixed, '2', 'bad.png'), 'not a png');
    await expect(loadPngFolder(mixed)).rejects.toThrow(`${join(mixed, '2', 'bad.png')}: not a readable PNG`);
  });
});

describe('loadLabeledData and toLabeledImages', () => {
  it('picks the loader by the path and fits MNIST-shaped data', async () => {
    const x = Float32Array.from(pseudoBytes(3 * 784, 9), (v) => v / 255);
    const path = file('mnist-like.npz', npz({ x: npy('<f4', [3, 784], x), y: npy('|u1', [3], Uint8Array.from([9, 0, 4])) }));
    const { train } = await loadLabeledData(path);
    const images = toLabeledImages(train, { rows: 28, cols: 28, classes: 10 });
    expect(images).toMatchObject({ count: 3, rows: 28, cols: 28 });
    expect(Array.from(images.images.subarray(0, 50))).toEqual(Array.from(pseudoBytes(3 * 784, 9).subarray(0, 50)));
    await expect(loadLabeledData(file('single.npy', npy('|u1', [1], new Uint8Array(1))))).rejects.toThrow(/one \.npy file holds one array/);
    await expect(loadLabeledData(join(tmp.dir, 'nothing-here'))).rejects.toThrow('no such file or folder');
  });

  it('says why data does not fit: image size, channels, labels, pixel range', () => {
    const base = { y: Uint32Array.from([0, 1]), count: 2, classes: 2, name: 'd' };
    const fit = { rows: 28, cols: 28, classes: 10, what: "s001-softmax's model" };
    expect(() => toLabeledImages({ ...base, x: new Uint8Array(2 * 32 * 32), shape: [32, 32] }, fit)).toThrow(
      "d: the samples have shape (32, 32), but s001-softmax's model takes 28×28 grayscale images (784 values: shape (28, 28), (28, 28, 1) or (784,)). Resize or convert the images to 28×28 grayscale.",
    );
    expect(() => toLabeledImages({ ...base, x: new Uint8Array(2 * 784 * 3), shape: [28, 28, 3] }, fit)).toThrow(/shape \(28, 28, 3\) with 3 channels/);
    expect(() => toLabeledImages({ ...base, x: new Uint8Array(2 * 784), shape: [784], y: Uint32Array.from([3, 12]) }, fit)).toThrow(
      "d: label 12 of sample 1 is out of range: s001-softmax's model has 10 classes (0–9). Keep the labels below 10.",
    );
    expect(() => toLabeledImages({ ...base, x: new Float32Array(2 * 784).fill(-1), shape: [28, 28, 1] }, fit)).toThrow(/pixel values range from -1 to -1/);
    const scaled = toLabeledImages({ ...base, x: new Float32Array(2 * 784).fill(0.5), shape: [28, 28] }, fit);
    expect(scaled.images[0]).toBe(128);
  });
});

import { readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadMnist, MNIST_FILES, MNIST_SHA256 } from '../../src/data/mnist.js';
import { gzip, makeIdx, pseudoBytes, tempDir, writeFakeMnist, writeFile } from './fixtures.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

function fixtureDir(options: Parameters<typeof writeFakeMnist>[1] = {}) {
  const tmp = tempDir('shaderprop-mnist-');
  cleanups.push(tmp.cleanup);
  return { dir: tmp.dir, contents: writeFakeMnist(tmp.dir, options) };
}

describe('loadMnist on fixtures', () => {
  it('loads gzipped files with their shapes and bytes', async () => {
    const { dir, contents } = fixtureDir({ trainCount: 12, testCount: 5, rows: 4, cols: 3 });
    const { train, test } = await loadMnist({ dir });
    expect([train.count, train.rows, train.cols, train.name]).toEqual([12, 4, 3, 'mnist-train']);
    expect([test.count, test.rows, test.cols, test.name]).toEqual([5, 4, 3, 'mnist-test']);
    expect(Array.from(train.images)).toEqual(Array.from(contents.trainImages));
    expect(Array.from(train.labels)).toEqual(Array.from(contents.trainLabels));
    expect(Array.from(test.images)).toEqual(Array.from(contents.testImages));
    expect(Array.from(test.labels)).toEqual(Array.from(contents.testLabels));
  });

  it('loads raw files the same way', async () => {
    const { dir, contents } = fixtureDir({ gz: false });
    const { train, test } = await loadMnist({ dir });
    expect(Array.from(train.images)).toEqual(Array.from(contents.trainImages));
    expect(Array.from(test.labels)).toEqual(Array.from(contents.testLabels));
  });

  it('prefers <name>.gz when both forms exist', async () => {
    const { dir, contents } = fixtureDir();
    // A raw labels file with different contents next to the .gz one.
    writeFile(dir, MNIST_FILES.trainLabels, makeIdx([12], new Uint8Array(12).fill(7)));
    const { train } = await loadMnist({ dir });
    expect(Array.from(train.labels)).toEqual(Array.from(contents.trainLabels));
  });

  it('subset keeps the first n examples', async () => {
    const { dir, contents } = fixtureDir({ trainCount: 12, testCount: 5, rows: 4, cols: 3 });
    const { train, test } = await loadMnist({ dir, subset: { train: 3, test: 2 } });
    expect(train.count).toBe(3);
    expect(Array.from(train.images)).toEqual(Array.from(contents.trainImages.subarray(0, 3 * 12)));
    expect(Array.from(train.labels)).toEqual(Array.from(contents.trainLabels.subarray(0, 3)));
    expect(test.count).toBe(2);
    expect(Array.from(test.labels)).toEqual(Array.from(contents.testLabels.subarray(0, 2)));
    await expect(loadMnist({ dir, subset: { train: 13 } })).rejects.toThrow(/subset\.train = 13.*0 to 12/);
  });

  it('uses MNIST_DIR when no dir is given', async () => {
    const { dir } = fixtureDir();
    vi.stubEnv('MNIST_DIR', dir);
    try {
      expect((await loadMnist()).train.count).toBe(12);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('explains how to give the folder when neither dir nor MNIST_DIR is set', async () => {
    vi.stubEnv('MNIST_DIR', '');
    try {
      await expect(loadMnist()).rejects.toThrow(/MNIST folder not given: .*MNIST_DIR/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names a missing folder', async () => {
    const dir = join(fixtureDir().dir, 'nope');
    await expect(loadMnist({ dir })).rejects.toThrow(/MNIST folder .*nope does not exist/);
  });

  it('names a missing file and both forms it looked for', async () => {
    const { dir } = fixtureDir();
    rmSync(join(dir, 't10k-labels-idx1-ubyte.gz'));
    await expect(loadMnist({ dir })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz not found in .*neither .* nor .*exists/);
  });

  it('names both files and both counts when image and label counts differ', async () => {
    const { dir } = fixtureDir({ trainCount: 12 });
    writeFile(dir, 'train-labels-idx1-ubyte.gz', gzip(makeIdx([11], pseudoBytes(11, 1, 10))));
    await expect(loadMnist({ dir })).rejects.toThrow(
      /count mismatch: .*train-images-idx3-ubyte\.gz has 12 images but .*train-labels-idx1-ubyte\.gz has 11 labels/,
    );
  });

  it('names the file holding a label ≥ 10', async () => {
    const { dir } = fixtureDir({ testCount: 5 });
    writeFile(dir, 't10k-labels-idx1-ubyte.gz', gzip(makeIdx([5], new Uint8Array([1, 2, 10, 3, 4]))));
    await expect(loadMnist({ dir })).rejects.toThrow(/t10k-labels-idx1-ubyte\.gz: label 10 at index 2 is not a digit/);
  });

  it('names a truncated file', async () => {
    const { dir } = fixtureDir({ trainCount: 12, rows: 4, cols: 3 });
    const full = makeIdx([12, 4, 3], pseudoBytes(144));
    writeFile(dir, 'train-images-idx3-ubyte.gz', gzip(full.subarray(0, 100)));
    await expect(loadMnist({ dir })).rejects.toThrow(/train-images-idx3-ubyte\.gz: truncated: header says 12×4×3 = 144/);
  });

  it('names a file with the wrong magic number', async () => {
    const { dir } = fixtureDir({ gz: false });
    const bytes = makeIdx([5], pseudoBytes(5, 1, 10));
    bytes[1] = 0x01;
    writeFile(dir, 't10k-labels-idx1-ubyte', bytes);
    await expect(loadMnist({ dir })).rejects.toThrow(/t10k-labels-idx1-ubyte: wrong magic number: found 00 01 08 01/);
  });

  it('names a file with an unsupported type code', async () => {
    const { dir } = fixtureDir();
    writeFile(dir, 'train-labels-idx1-ubyte.gz', gzip(makeIdx([3], new Uint8Array(12), 0x0c)));
    await expect(loadMnist({ dir })).rejects.toThrow(/train-labels-idx1-ubyte\.gz: unsupported IDX type code 0x0c \(int32\)/);
  });

  it('names a file whose gzip stream is corrupt', async () => {
    const { dir } = fixtureDir({ trainCount: 400, rows: 4, cols: 3 });
    const path = join(dir, 'train-images-idx3-ubyte.gz');
    const packed = new Uint8Array(readFileSync(path));
    const middle = packed.length >> 1;
    for (let i = middle; i < middle + 8; i++) packed[i]! ^= 0xff;
    writeFile(dir, 'train-images-idx3-ubyte.gz', packed);
    await expect(loadMnist({ dir })).rejects.toThrow(/train-images-idx3-ubyte\.gz: corrupt gzip stream/);
  });

  it('names a labels file where images are expected', async () => {
    const { dir } = fixtureDir();
    renameSync(join(dir, 't10k-labels-idx1-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    writeFile(dir, 't10k-labels-idx1-ubyte.gz', gzip(makeIdx([5], pseudoBytes(5, 1, 10))));
    await expect(loadMnist({ dir })).rejects.toThrow(/t10k-images-idx3-ubyte\.gz: expected 3 dimensions/);
  });
});

const mnistDir = process.env.MNIST_DIR;

describe.skipIf(!mnistDir)('loadMnist on the real MNIST (set MNIST_DIR, e.g. MNIST_DIR=/work/shared/mnist)', () => {
  it('loads 60000 + 10000 images of 28×28 with the known labels', async () => {
    const { train, test } = await loadMnist();
    expect([train.count, train.rows, train.cols]).toEqual([60000, 28, 28]);
    expect([test.count, test.rows, test.cols]).toEqual([10000, 28, 28]);
    expect(train.images.length).toBe(60000 * 784);
    expect(test.images.length).toBe(10000 * 784);
    expect(train.labels[0]).toBe(5);
    const histogram = new Array<number>(10).fill(0);
    for (const label of test.labels) histogram[label]!++;
    expect(histogram).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('matches the published SHA-256 sums', () => {
    for (const [name, sum] of Object.entries(MNIST_SHA256)) {
      const path = join(mnistDir!, name);
      const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
      expect(digest, name).toBe(sum);
    }
  });
});

if (!mnistDir) {
  console.warn('test/data/mnist.test.ts: MNIST_DIR is not set; the real-MNIST tests are skipped (MNIST_DIR=/work/shared/mnist).');
}

/**
 * Loads MNIST from the four IDX files of the original distribution, gzipped or not,
 * and checks that they are consistent.
 */
import { getPlatform } from '../platform/platform.js';
import { readIdxFile, type IdxArray } from './idx.js';
import type { ImageSet } from './images.js';
import { MNIST_FILES } from './mnist-files.js';

export type { ImageSet, LabeledImages } from './images.js';

export interface MnistOptions {
  /** Folder holding the four files; defaults to the MNIST_DIR environment variable. */
  dir?: string;
  /** Keep only the first `train` training and/or first `test` test examples (in file order, no shuffling). */
  subset?: { train?: number; test?: number };
  /**
   * When neither `dir` nor MNIST_DIR is given: fetch the files from the mirrors
   * into the cache (verified against their SHA-256) and load them from there.
   */
  download?: boolean | import('./download.js').DownloadOptions;
}

export { MNIST_FILES, MNIST_SHA256 } from './mnist-files.js';

const NUM_CLASSES = 10;

const HOW_TO_GET =
  'Download the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, ' +
  't10k-labels-idx1-ubyte.gz, e.g. from https://storage.googleapis.com/cvdf-datasets/mnist/) into one folder';

/** The MNIST folder: `dir`, else MNIST_DIR, else an error saying how to provide one. */
async function resolveDir(dir: string | undefined, download: MnistOptions['download']): Promise<string> {
  if (dir) return dir;
  const platform = await getPlatform();
  const fromEnv = platform.env('MNIST_DIR');
  if (fromEnv) return fromEnv;
  if (download) {
    const { downloadMnist } = await import('./download.js');
    return downloadMnist(download === true ? {} : download);
  }
  throw new Error(
    `MNIST folder not given: pass loadMnist({ dir: '/path/to/mnist' }), set the MNIST_DIR environment variable, or pass download: true. ` +
      `${HOW_TO_GET}.`,
  );
}

/** The path of `<base>.gz` if it exists, else of `<base>`, else an error listing both. */
async function locate(dir: string, base: string): Promise<string> {
  const platform = await getPlatform();
  const gz = platform.joinPath(dir, `${base}.gz`);
  if (await platform.exists(gz)) return gz;
  const raw = platform.joinPath(dir, base);
  if (await platform.exists(raw)) return raw;
  throw new Error(
    `MNIST file ${base}.gz not found in ${dir}: neither ${gz} nor ${raw} exists. ${HOW_TO_GET} and point ` +
      `MNIST_DIR (or loadMnist's dir option) at it.`,
  );
}

export function checkImages(array: IdxArray, path: string): void {
  if (array.dims.length !== 3) {
    throw new Error(
      `${path}: expected 3 dimensions (count×rows×cols) for images, found ${array.dims.length} ` +
        `(${array.dims.join('×')}); is it a labels file under an images file's name?`,
    );
  }
}

export function checkLabels(array: IdxArray, path: string): void {
  if (array.dims.length !== 1) {
    throw new Error(
      `${path}: expected 1 dimension (count) for labels, found ${array.dims.length} ` +
        `(${array.dims.join('×')}); is it an images file under a labels file's name?`,
    );
  }
  const labels = array.data;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= NUM_CLASSES) {
      throw new Error(
        `${path}: label ${labels[i]} at index ${i} is not a digit 0–9; the file is corrupt (re-download it).`,
      );
    }
  }
}

function takeSubset(split: ImageSet, n: number | undefined, option: string): ImageSet {
  if (n === undefined) return split;
  if (!Number.isInteger(n) || n < 0 || n > split.count) {
    throw new RangeError(
      `loadMnist: ${option} = ${n}, but it must be an integer from 0 to ${split.count} (the ${split.name} size).`,
    );
  }
  const pixels = split.rows * split.cols;
  // Copies, so that the full decompressed files can be garbage-collected.
  return {
    ...split,
    images: split.images.slice(0, n * pixels),
    labels: split.labels.slice(0, n),
    count: n,
  };
}

async function loadSplit(dir: string, imagesBase: string, labelsBase: string, name: string): Promise<ImageSet> {
  const [imagesPath, labelsPath] = await Promise.all([locate(dir, imagesBase), locate(dir, labelsBase)]);
  const [images, labels] = await Promise.all([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  checkImages(images, imagesPath);
  checkLabels(labels, labelsPath);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new Error(
      `MNIST count mismatch: ${imagesPath} has ${count} images but ${labelsPath} has ${labels.dims[0]} labels; ` +
        `the files do not belong together (re-download both).`,
    );
  }
  return { images: images.data, labels: labels.data, count, rows, cols, name };
}

/**
 * Loads the MNIST training (60,000) and test (10,000) sets from `dir` or MNIST_DIR,
 * preferring `<file>.gz` over `<file>` when both exist; `subset.train = n` keeps the
 * first n training examples (likewise `subset.test`), after the whole files are checked.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<{ train: ImageSet; test: ImageSet }> {
  const dir = await resolveDir(options.dir, options.download);
  const platform = await getPlatform();
  // In a browser a folder URL need not answer HEAD; there the per-file check speaks.
  if (platform.name === 'node' && !(await platform.exists(dir))) {
    throw new Error(`MNIST folder ${dir} does not exist (no such directory). ${HOW_TO_GET} and point MNIST_DIR at it.`);
  }
  const [train, test] = await Promise.all([
    loadSplit(dir, MNIST_FILES.trainImages, MNIST_FILES.trainLabels, 'mnist-train'),
    loadSplit(dir, MNIST_FILES.testImages, MNIST_FILES.testLabels, 'mnist-test'),
  ]);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(
      `MNIST image size mismatch in ${dir}: training images are ${train.rows}×${train.cols} but test images are ` +
        `${test.rows}×${test.cols} (re-download the files).`,
    );
  }
  return {
    train: takeSubset(train, options.subset?.train, 'subset.train'),
    test: takeSubset(test, options.subset?.test, 'subset.test'),
  };
}

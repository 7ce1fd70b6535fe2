/**
 * `run --data PATH` with your own data instead of MNIST's IDX files: an .npz,
 * two .npy files (`images.npy,labels.npy`), a .csv or a folder of PNG images
 * with one sub-folder per class (src/data/labeled.ts), fitted to the
 * registry's models (28×28 grayscale, 10 classes).
 *
 * The test set is `--test PATH`, else the .npz's x_test/y_test, else a seeded
 * random sixth of the data held out. Both sets are put in a seeded random
 * order, so that `--quick` and `--train-images N` take a mix of classes from
 * a file sorted by class.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LabeledData } from '../../src/data/labeled.js';
import type { ImageSet } from '../../src/data/mnist.js';

const IDX_NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/**
 * Whether `--data PATH` is an MNIST IDX folder, read as before: any folder
 * but one without the IDX files whose sub-folders hold PNG images (the IDX
 * reader then says which file is missing).
 */
export function isIdxFolder(path: string): boolean {
  // A path that does not exist is taken as the MNIST folder meant (its error says so and names --data),
  // unless it names a file of another kind.
  if (!existsSync(path)) return !path.includes(',') && !/\.(npz|npy|csv)$/i.test(path);
  if (!statSync(path).isDirectory()) return false;
  const entries = readdirSync(path, { withFileTypes: true });
  if (entries.some((e) => IDX_NAMES.some((n) => e.name === n || e.name === `${n}.gz`))) return true;
  const folders = entries.filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(path, e.name)).isDirectory())));
  return !folders.some((f) => readdirSync(join(path, f.name)).some((name) => name.toLowerCase().endsWith('.png')));
}

/** What to add to the IDX reader's error for a folder of PNG files without class sub-folders. */
export function pngHint(path: string): string {
  if (!existsSync(path) || !statSync(path).isDirectory()) return '';
  const pngs = readdirSync(path).filter((name) => name.toLowerCase().endsWith('.png')).length;
  return pngs > 0
    ? ` (${path} holds ${pngs} PNG file(s) but no class sub-folders: for PNG images, put each in a sub-folder named by its class, ${path}/0/*.png … ${path}/9/*.png.)`
    : '';
}

function reorder(images: ImageSet, order: ArrayLike<number>, name: string): ImageSet {
  const size = images.rows * images.cols;
  const pixels = new Uint8Array(order.length * size);
  const labels = new Uint8Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const n = order[i]!;
    pixels.set(images.images.subarray(n * size, (n + 1) * size), i * size);
    labels[i] = images.labels[n]!;
  }
  return { ...images, images: pixels, labels, count: order.length, name };
}

/** Train and test images for the registry's models from `dataPath` (and `testPath`), with a line saying what was read. */
export async function loadOwnImages(
  dataPath: string, testPath: string | undefined, options: { seed: number; labelColumn?: string | number },
): Promise<{ data: { train: ImageSet; test: ImageSet }; description: string }> {
  const [{ loadLabeledData, toLabeledImages }, { Rng }] = await Promise.all([import('../../src/data/labeled.js'), import('../../src/data/random.js')]);
  const load = (path: string) => loadLabeledData(path, options.labelColumn === undefined ? {} : { labelColumn: options.labelColumn });
  const fit = (data: LabeledData) => toLabeledImages(data, { rows: 28, cols: 28, classes: 10, what: 'each registry model (MNIST-shaped)' });
  const loaded = await load(dataPath);
  let train = fit(loaded.train);
  let test: ImageSet;
  let testText: string;
  if (testPath) {
    const other = await load(testPath);
    test = fit(other.test ?? other.train);
    testText = `${test.count} test images from ${testPath}`;
  } else if (loaded.test) {
    test = fit(loaded.test);
    testText = `${test.count} test images from its x_test/y_test`;
  } else {
    const { shuffledSplit } = await import('../../src/data/split.js');
    if (train.count < 6) throw new Error(`${dataPath}: ${train.count} image(s) are too few to hold out a test set; give at least 6, or a test set with --test PATH.`);
    const split = shuffledSplit(train.count, 1 / 6, options.seed);
    test = reorder(train, split.validation, `${train.name} (held out)`);
    train = reorder(train, split.train, train.name ?? 'train');
    testText = `${test.count} test images held out from it (a random sixth, seed ${options.seed}; give --test PATH for a test set of your own)`;
  }
  const rng = new Rng(options.seed).fork('own data order');
  train = reorder(train, rng.permutation(train.count), 'train');
  test = reorder(test, rng.permutation(test.count), 'test');
  return { data: { train, test }, description: `${train.count} train images from ${dataPath}, ${testText}` };
}

/**
 * Labelled data sets from your own files: NumPy (`.npz`, or two `.npy`
 * files), CSV, or a folder of PNG images with one sub-folder per class. Each
 * loader returns a `LabeledData`, which `Dataset.create(rt, data)` takes as
 * it is; `toLabeledImages` turns one into MNIST-shaped images for the
 * registry's experiments.
 *
 * Arrays: the images (N, …) and the labels (N) or (N, 1). Images of uint8 stay
 * bytes; any other numeric dtype becomes Float32Array, used as given. Labels
 * must be integers ≥ 0, of any integer or float dtype.
 *
 * Which arrays of an `.npz` are the data, first rule that applies:
 *   1. `x_train`, `y_train` (and `x_test`, `y_test` when present: the test split), as Keras's mnist.npz;
 *   2. `x`, `y`;
 *   3. `images`, `labels`;
 *   4. exactly two arrays: the 1-D one (or (N, 1)) is the labels, the other the images.
 */
import { getPlatform } from '../platform/platform.js';
import type { LabeledData } from './dataset.js';
import type { ImageSet } from './mnist.js';
import { readNpyFile, readNpzFile, type NpyArray } from './npy.js';

export type { LabeledData } from './dataset.js';

/** A data file's training split, and its test split where the file has one (an `.npz` with x_test/y_test). */
export interface LoadedData {
  train: LabeledData;
  test?: LabeledData;
}

const shapeText = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/** Labels from an array: (N) or (N, 1), integers ≥ 0. */
export function labelsFromArray(array: NpyArray, what: string): Uint32Array {
  const { shape, data } = array;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    const oneHot = shape.length === 2 ? ` If they are one-hot rows, save their argmax instead: np.argmax(y, axis=1).` : '';
    throw new Error(`${what}: labels must have shape (N,) with one class index per sample, not ${shapeText(shape)}.${oneHot}`);
  }
  const out = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isInteger(v) || v < 0) throw new Error(`${what}: label ${i} is ${v}; labels are class indices, integers ≥ 0.`);
    out[i] = v;
  }
  return out;
}

/** Samples from an images array (N, …): uint8 stays bytes, anything else becomes float32. */
export function samplesFromArray(array: NpyArray, what: string): { x: Uint8Array | Float32Array; shape: number[]; count: number } {
  const { shape, data } = array;
  if (shape.length < 2) {
    throw new Error(`${what}: images must have shape (N, …) with one row per sample, e.g. (N, 28, 28) or (N, 784), not ${shapeText(shape)}; is it the labels?`);
  }
  const x = data instanceof Uint8Array && array.dtype !== '|b1' ? data : Float32Array.from(data);
  return { x, shape: shape.slice(1), count: shape[0]! };
}

/** A LabeledData from an images array and a labels array; the counts must agree. */
export function fromArrays(images: NpyArray, labels: NpyArray, names: { images: string; labels: string; name: string }): LabeledData {
  const samples = samplesFromArray(images, names.images);
  const y = labelsFromArray(labels, names.labels);
  if (y.length !== samples.count) {
    throw new Error(
      `${names.images} has ${samples.count} images but ${names.labels} has ${y.length} labels; ` +
        `they must be equal, one label per image (are they from the same split?).`,
    );
  }
  const classes = y.reduce((a, b) => Math.max(a, b), 0) + 1;
  return { x: samples.x, y, shape: samples.shape, classes, count: samples.count, name: names.name };
}

/** The data of an `.npz` archive, chosen by the rules in this module's comment. */
export function fromNpzArrays(arrays: Map<string, NpyArray>, path: string): LoadedData {
  const pair = (x: string, y: string, name: string) =>
    fromArrays(arrays.get(x)!, arrays.get(y)!, { images: `${path}:${x}.npy`, labels: `${path}:${y}.npy`, name });
  const has = (...keys: string[]) => keys.every((k) => arrays.has(k));
  if (has('x_train', 'y_train')) {
    return { train: pair('x_train', 'y_train', `${path} (train)`), ...(has('x_test', 'y_test') ? { test: pair('x_test', 'y_test', `${path} (test)`) } : {}) };
  }
  if (has('x', 'y')) return { train: pair('x', 'y', path) };
  if (has('images', 'labels')) return { train: pair('images', 'labels', path) };
  const keys = [...arrays.keys()];
  if (keys.length === 2) {
    const isLabels = (k: string) => {
      const s = arrays.get(k)!.shape;
      return s.length === 1 || (s.length === 2 && s[1] === 1);
    };
    const labels = keys.filter(isLabels);
    if (labels.length === 1) return { train: pair(keys.find((k) => !isLabels(k))!, labels[0]!, path) };
  }
  throw new Error(
    `${path}: cannot tell the images from the labels among its arrays ${keys.map((k) => `'${k}' ${shapeText(arrays.get(k)!.shape)}`).join(', ')}. ` +
      `Name them x and y (np.savez(path, x=images, y=labels)), or x_train, y_train, x_test, y_test.`,
  );
}

/** Loads an `.npz` archive of images and labels (see this module's comment for which arrays). */
export async function loadNpz(path: string): Promise<LoadedData> {
  return fromNpzArrays(await readNpzFile(path), path);
}

/** Loads images and labels from two `.npy` files. */
export async function loadNpy(imagesPath: string, labelsPath: string): Promise<LabeledData> {
  const [images, labels] = await Promise.all([readNpyFile(imagesPath), readNpyFile(labelsPath)]);
  return fromArrays(images, labels, { images: imagesPath, labels: labelsPath, name: imagesPath });
}

export interface LoadDataOptions {
  /** CSV: the label column, by header name or 0-based index (default: 'label', else the first column). */
  labelColumn?: string | number;
  /** PNG folders: 'gray' (default) or 'rgb'. */
  color?: 'gray' | 'rgb';
}

/**
 * Loads a data set by what `path` is: `a.npz`; `images.npy,labels.npy` (two
 * files, comma-separated); `a.csv`; or a folder of PNG images with one
 * sub-folder per class.
 */
export async function loadLabeledData(path: string, options: LoadDataOptions = {}): Promise<LoadedData> {
  const platform = await getPlatform();
  const lower = path.toLowerCase();
  const parts = path.split(',');
  if (parts.length === 2 && parts.every((p) => p.toLowerCase().endsWith('.npy'))) return { train: await loadNpy(parts[0]!, parts[1]!) };
  if (lower.endsWith('.npy')) {
    throw new Error(`${path}: one .npy file holds one array; give the images and the labels as two files, 'images.npy,labels.npy', or save both in one .npz (np.savez(path, x=images, y=labels)).`);
  }
  if (lower.endsWith('.npz')) return loadNpz(path);
  if (lower.endsWith('.csv')) {
    const { loadCsv } = await import('./csv.js');
    return { train: await loadCsv(path, options.labelColumn === undefined ? {} : { label: options.labelColumn }) };
  }
  if (!(await platform.exists(path))) throw new Error(`${path}: no such file or folder.`);
  const entries = await platform.readDir(path).catch(() => null);
  if (!entries) {
    throw new Error(`${path}: not a data file shaderprop reads: give an .npz, two .npy files (images.npy,labels.npy), a .csv, or a folder of PNG images with one sub-folder per class.`);
  }
  const { loadPngFolder } = await import('./png.js');
  return { train: await loadPngFolder(path, options.color ? { color: options.color } : {}) };
}

/**
 * The data as MNIST-shaped images (bytes 0–255, `rows`×`cols`, labels below
 * `classes`) for a model that takes those, or an error saying why it does not fit.
 * Float samples are taken as pixel values: all within [0, 1] they are scaled by
 * 255, otherwise they must lie within [0, 255]; either way they are rounded.
 */
export function toLabeledImages(data: LabeledData, fit: { rows: number; cols: number; classes: number; what?: string }): ImageSet {
  const { rows, cols, classes } = fit;
  const what = fit.what ?? 'the model';
  const pixels = rows * cols;
  const shape = data.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const fits = size === pixels && (shape.length === 1 || (shape[0] === rows && shape[1] === cols));
  if (!fits) {
    const colour = shape.length === 3 && shape[2]! > 1 ? ` with ${shape[2]} channels` : '';
    throw new Error(
      `${data.name}: the samples have shape ${shapeText(shape)}${colour}, but ${what} takes ${rows}×${cols} grayscale images ` +
        `(${pixels} values: shape (${rows}, ${cols}), (${rows}, ${cols}, 1) or (${pixels},)). Resize or convert the images to ${rows}×${cols} grayscale.`,
    );
  }
  for (let i = 0; i < data.y.length; i++) {
    if (data.y[i]! >= classes) {
      const named = data.classNames ? ` (class folder '${data.classNames[data.y[i]!]}')` : '';
      throw new Error(
        `${data.name}: label ${data.y[i]}${named} of sample ${i} is out of range: ${what} has ${classes} classes (0–${classes - 1}). ` +
          `Keep the labels below ${classes}${data.classNames ? `; there are ${data.classNames.length} class folders` : ''}.`,
      );
    }
  }
  let images: Uint8Array;
  if (data.x instanceof Uint8Array) images = data.x;
  else {
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(min >= 0 && max <= 255)) {
      throw new Error(`${data.name}: pixel values range from ${min} to ${max}; ${what} takes pixels within 0–255 (or 0–1, scaled by 255). Rescale the images.`);
    }
    const scale = max <= 1 ? 255 : 1;
    images = new Uint8Array(data.x.length);
    for (let i = 0; i < images.length; i++) images[i] = Math.round(data.x[i]! * scale);
  }
  return { images, labels: Uint8Array.from(data.y), count: data.count, rows, cols, name: data.name };
}

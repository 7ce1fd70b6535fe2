/**
 * A dataset on the GPU: samples stored as they come (u8 pixels, four to a u32,
 * or f32), labels as u32 class indices or f32 target rows, and the per-feature
 * affine map the gather kernel applies (shaders/batch.wgsl). Uploaded once;
 * every pass after that only sends an index list.
 *
 * `subset(indices)` and `split` make views that share the GPU storage, so a
 * validation split or a test subset costs nothing on the GPU.
 */
import type { Runtime } from '../gpu/runtime.js';
import { formatBytes } from '../gpu/buffers.js';
import type { ImageSet } from './images.js';
import { affineFor, featureStats, type Affine, type FeatureStats, type Preprocessing } from './preprocess.js';

export interface DatasetSource {
  /** Samples, row-major (N, ...shape): bytes, or floats used as given. */
  x: Uint8Array | Float32Array;
  /** Class indices (N), or target rows (N, C) as floats (one-hot or soft). */
  y: Uint8Array | Uint32Array | Int32Array | Float32Array;
  /** Shape of one sample, e.g. [28, 28] or [28, 28, 1]. */
  shape: readonly number[];
  /** Classes, when y holds class indices; default: max label + 1. */
  classes?: number;
  name?: string;
}

/** Samples and class labels, as `Dataset.create` takes them. */
export interface LabeledData extends DatasetSource {
  x: Uint8Array | Float32Array;
  y: Uint32Array;
  /** Shape of one sample, e.g. [28, 28] (images) or [784] (a CSV row). */
  shape: number[];
  /** max label + 1, or the number of class folders. */
  classes: number;
  count: number;
  name: string;
  /** For a PNG folder whose sub-folders are not numbers: the class of each index. */
  classNames?: string[];
}

export interface DatasetOptions {
  /** How the kernels normalise samples; default `{ kind: 'raw' }`. */
  preprocessing?: Preprocessing;
  /** Training-set statistics for 'standardize' (computed from this data when absent). */
  stats?: FeatureStats;
  /** Expand class indices into one-hot target rows (for categoricalCrossentropy). */
  oneHot?: boolean;
  /** Maps each class index before upload, e.g. (d) => (d === 5 ? 1 : 0) for "is it a 5?". */
  mapLabel?: (label: number) => number;
}

let nextDatasetId = 1;

interface Storage {
  readonly id: number;
  readonly rt: Runtime;
  readonly images: GPUBuffer;
  readonly labels: GPUBuffer;
  readonly shift: GPUBuffer;
  readonly scale: GPUBuffer;
  /** The shift and scale when every feature has the same (gather_inputs then uses them as constants). */
  readonly uniformAffine: { shift: number; scale: number } | null;
  released: boolean;
}

export class Dataset {
  private constructor(
    private readonly storage: Storage,
    /** Samples in this view, as indices into the stored samples. */
    readonly indices: Uint32Array,
    readonly name: string,
    readonly sampleShape: readonly number[],
    readonly features: number,
    readonly sourceU8: boolean,
    /** 0 affine, 1/2 L2 along axis 1/2 (see shaders/batch.wgsl). */
    readonly normalize: 0 | 1 | 2,
    /** u32 words per label: 1 for class indices, C for target rows. */
    readonly targetWidth: number,
    readonly classes: number,
    /** Class of every stored sample (argmax of its target row when dense). */
    readonly storedLabels: Uint32Array,
    readonly preprocessing: Preprocessing,
    readonly stats: FeatureStats | undefined,
  ) {}

  static create(rt: Runtime, source: DatasetSource, options: DatasetOptions = {}): Dataset {
    const name = source.name ?? 'dataset';
    const features = source.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(features) || features <= 0) {
      throw new Error(`Dataset '${name}': sample shape [${source.shape.join(', ')}] is not a list of positive integers.`);
    }
    if (source.x.length % features !== 0) {
      throw new Error(
        `Dataset '${name}': x has ${source.x.length} values, not a multiple of the ${features} of one sample of shape [${source.shape.join(', ')}].`,
      );
    }
    const count = source.x.length / features;
    const dense = source.y instanceof Float32Array;
    let classes: number;
    let labelWords: Uint32Array;
    const storedLabels = new Uint32Array(count);
    if (dense) {
      if (source.y.length % count !== 0 || source.y.length === 0) {
        throw new Error(`Dataset '${name}': y has ${source.y.length} values for ${count} samples; expected (N, C) target rows.`);
      }
      classes = source.y.length / count;
      labelWords = new Uint32Array(source.y.buffer, source.y.byteOffset, source.y.length).slice();
      const y = source.y as Float32Array;
      for (let n = 0; n < count; n++) storedLabels[n] = argmaxRow(y, n * classes, classes);
    } else {
      if (source.y.length !== count) {
        throw new Error(`Dataset '${name}': ${count} samples but ${source.y.length} labels; they must be equal.`);
      }
      let max = 0;
      for (let n = 0; n < count; n++) {
        const raw = source.y[n]!;
        const label = options.mapLabel ? options.mapLabel(raw) : raw;
        if (!Number.isInteger(label) || label < 0) {
          throw new Error(`Dataset '${name}': label ${n} is ${label}; class indices must be integers ≥ 0.`);
        }
        storedLabels[n] = label;
        if (label > max) max = label;
      }
      classes = source.classes ?? max + 1;
      if (max >= classes) throw new Error(`Dataset '${name}': label ${max} is not below classes = ${classes}.`);
      if (options.oneHot) {
        const rows = new Float32Array(count * classes);
        for (let n = 0; n < count; n++) rows[n * classes + storedLabels[n]!] = 1;
        labelWords = new Uint32Array(rows.buffer);
      } else {
        labelWords = storedLabels;
      }
    }
    const targetWidth = dense || options.oneHot ? classes : 1;

    const preprocessing = options.preprocessing ?? { kind: 'raw' };
    const sourceU8 = source.x instanceof Uint8Array;
    let stats = options.stats;
    if (preprocessing.kind === 'standardize' && !stats) {
      if (!sourceU8) throw new Error(`Dataset '${name}': 'standardize' needs stats for float data; pass options.stats.`);
      stats = featureStats(source.x as Uint8Array, count, features);
    }
    let normalize: 0 | 1 | 2 = 0;
    let affine: Affine = { shift: new Float32Array(features), scale: new Float32Array(features).fill(1) };
    if (preprocessing.kind === 'l2Normalize') {
      if (source.shape.length < 2) throw new Error(`Dataset '${name}': l2Normalize needs image samples (rows, cols).`);
      normalize = preprocessing.axis;
    } else {
      affine = affineFor(preprocessing, stats, features);
    }

    const imageBytes = sourceU8 ? Math.ceil(source.x.length / 4) * 4 : source.x.byteLength;
    const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
    if (imageBytes > limit) {
      throw new Error(
        `Dataset '${name}' needs ${formatBytes(imageBytes)} on the GPU, more than this adapter's storage-buffer limit ` +
          `of ${formatBytes(limit)}. Use a subset, or store the samples as bytes (Uint8Array) rather than floats.`,
      );
    }
    let upload: ArrayBufferView = source.x;
    if (sourceU8 && source.x.byteLength % 4 !== 0) {
      const padded = new Uint8Array(imageBytes);
      padded.set(source.x);
      upload = padded;
    }
    const storage: Storage = {
      id: nextDatasetId++,
      rt,
      images: rt.storage(upload, `${name} samples`),
      labels: rt.storage(labelWords, `${name} labels`),
      shift: rt.storage(affine.shift, `${name} shift`),
      scale: rt.storage(affine.scale, `${name} scale`),
      uniformAffine: normalize === 0 && affine.shift.every((v) => v === affine.shift[0]) && affine.scale.every((v) => v === affine.scale[0])
        ? { shift: affine.shift[0] ?? 0, scale: affine.scale[0] ?? 1 } : null,
      released: false,
    };
    const all = new Uint32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    return new Dataset(storage, all, name, [...source.shape], features, sourceU8, normalize, targetWidth, classes,
      storedLabels, preprocessing, stats);
  }

  /** MNIST images (or any ImageSet) as a dataset of shape [rows, cols] (or `shape`). */
  static fromImages(
    rt: Runtime,
    images: ImageSet,
    options: DatasetOptions & { shape?: readonly number[]; classes?: number } = {},
  ): Dataset {
    return Dataset.create(
      rt,
      {
        x: images.images,
        y: images.labels,
        shape: options.shape ?? [images.rows, images.cols],
        classes: options.classes ?? (options.mapLabel ? undefined : 10),
        name: images.name,
      },
      options,
    );
  }

  get count(): number {
    return this.indices.length;
  }

  /** Identifies the GPU storage; views of one upload share it. */
  get storageId(): number {
    return this.storage.id;
  }

  get gpu(): { images: GPUBuffer; labels: GPUBuffer; shift: GPUBuffer; scale: GPUBuffer } {
    if (this.storage.released) throw new Error(`Dataset '${this.name}' was disposed.`);
    return this.storage;
  }

  /** The preprocessing's shift and scale where every feature has the same, else null. */
  get uniformAffine(): { shift: number; scale: number } | null {
    return this.storage.uniformAffine;
  }

  get runtime(): Runtime {
    return this.storage.rt;
  }

  /** Class of each sample of this view, in view order. */
  labels(): Uint32Array {
    return this.indices.map((i) => this.storedLabels[i]!);
  }

  /** A view of some of this view's samples (positions into this view). */
  subset(positions: ArrayLike<number>, name = `${this.name} subset`): Dataset {
    const indices = new Uint32Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i]!;
      if (p < 0 || p >= this.indices.length || !Number.isInteger(p)) {
        throw new Error(`Dataset '${this.name}': subset position ${p} is outside 0..${this.indices.length - 1}.`);
      }
      indices[i] = this.indices[p]!;
    }
    return this.withIndices(indices, name);
  }

  /** The first `n` samples. */
  take(n: number): Dataset {
    return this.subset(Array.from({ length: Math.min(n, this.count) }, (_, i) => i), `${this.name}[:${n}]`);
  }

  /** The same samples seen with another shape of equal size, e.g. [28, 28] → [28, 28, 1]. */
  reshape(shape: readonly number[]): Dataset {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== this.features) {
      throw new Error(`Dataset '${this.name}': cannot reshape [${this.sampleShape.join(', ')}] to [${shape.join(', ')}].`);
    }
    return new Dataset(this.storage, this.indices, this.name, [...shape], this.features, this.sourceU8, this.normalize,
      this.targetWidth, this.classes, this.storedLabels, this.preprocessing, this.stats);
  }

  private withIndices(indices: Uint32Array, name: string): Dataset {
    return new Dataset(this.storage, indices, name, this.sampleShape, this.features, this.sourceU8, this.normalize,
      this.targetWidth, this.classes, this.storedLabels, this.preprocessing, this.stats);
  }

  /** Frees the GPU storage of this dataset and of every view of it. */
  dispose(): void {
    if (this.storage.released) return;
    this.storage.released = true;
    const pool = this.storage.rt.pool;
    for (const buffer of [this.storage.images, this.storage.labels, this.storage.shift, this.storage.scale]) pool.destroy(buffer);
  }
}

function argmaxRow(values: Float32Array, start: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (values[start + c]! > values[start + best]!) best = c;
  return best;
}

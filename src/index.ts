/**
 * shaderprop: neural-network training on WebGPU, where every forward pass,
 * backward pass and optimizer update is a hand-written WGSL shader.
 */
/// <reference types="@webgpu/types" preserve="true" />
export { createRuntime, defaultRuntime } from './gpu/device.js';
export { Runtime, DeviceLostError, type Dispatch, type Kernel, type AdapterDescription } from './gpu/runtime.js';
export { BufferPool } from './gpu/buffers.js';
export * from './layers/index.js';
export type { LayerFusion, FusionOptions } from './model/fusion.js';
export * from './losses/losses.js';
export * from './optimizers/optimizers.js';
export * from './init/initializers.js';
export { Sequential, sequential, type CompileOptions, type FitOptions, type EvaluateResult, type SequentialOptions } from './model/sequential.js';
export { exportFiles, EXPORT_FORMATS, type ExportFormat } from './model/export.js';
export { loadSafetensors, sequentialFromTopology, type LoadOptions } from './model/load.js';
export { encodeSafetensors, decodeSafetensors, type NamedTensor } from './model/safetensors.js';
export { toTopology, fromTopology, type SequentialTopology, type KerasLayerConfig } from './model/topology.js';
export { History, TrainingDivergedError, TrainingInterruptedError, type Callback, type EpochLogs, type BatchLogs, type EpochProgress } from './model/history.js';
export { Dataset, type DatasetOptions, type DatasetSource } from './data/dataset.js';
export { loadMnist, type MnistOptions } from './data/mnist.js';
export { imageFeatures, type ImageSet, type LabeledImages } from './data/images.js';
export { MNIST_FILES, MNIST_SHA256 } from './data/mnist-files.js';
export { featureStats, preprocessCpu, type Preprocessing, type FeatureStats } from './data/preprocess.js';
export { validationSplit, shuffledSplit, balancedSubset } from './data/split.js';
export { readIdxFile, parseIdx } from './data/idx.js';
export { parseNpy, parseNpz, readNpyFile, readNpzFile, type NpyArray, type NumericArray } from './data/npy.js';
export { loadLabeledData, loadNpz, loadNpy, fromArrays, fromNpzArrays, toLabeledImages, type LabeledData, type LoadedData, type LoadDataOptions } from './data/labeled.js';
export { loadCsv, parseCsv, type CsvOptions } from './data/csv.js';
export { loadPngFolder, pngPixels, type PngFolderOptions } from './data/png.js';
export { Rng } from './data/random.js';

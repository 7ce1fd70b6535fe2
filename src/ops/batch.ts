/** Batch assembly kernels (shaders/batch.wgsl): gather, normalise, advance. */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { shaped, type Resource } from './common.js';
import { WGSL } from './sources.js';

export interface GatherShape {
  batch: number;
  /** Features per sample. */
  features: number;
  /** Image rows and columns·channels, used by L2 normalisation. */
  rows: number;
  cols: number;
  sourceU8: boolean;
  /** 0 affine (x − shift)·scale, 1 L2 along axis 1, 2 L2 along axis 2. */
  normalize: 0 | 1 | 2;
  /** The affine's shift and scale when every feature has the same: used as constants, not read per feature. */
  uniformAffine?: { shift: number; scale: number } | null;
}

const WG = 64;
/** Features each gather_inputs thread writes (FEATURES_PER_THREAD in batch.wgsl). */
const FEATURES_PER_THREAD = 4;

/** A step's targets, gathered by the inputs' dispatch (gather_batch): the dataset's labels, TARGET_WIDTH words a sample. */
export interface GatherTargets {
  labels: Resource;
  targets: Resource;
  targetWidth: number;
}

/**
 * x = the normalised rows of batch `state.step`; with `targets`, the same
 * dispatch also copies their labels (gather_batch: one dispatch a step, not two).
 */
export async function gatherInputs(
  rt: Runtime,
  s: GatherShape,
  r: { images: Resource; indices: Resource; state: Resource; shift: Resource; scale: Resource; x: Resource; targets?: GatherTargets },
  label = 'gather inputs',
): Promise<Dispatch> {
  const t = r.targets;
  const entry = t ? 'gather_batch' : 'gather_inputs';
  const kernel = await rt.kernel({
    name: entry,
    foldY: true,
    sources: [WGSL.stepState, WGSL.grid, WGSL.batch],
    entryPoint: entry,
    bindings: [
      { name: 'images', kind: 'read-only-storage' },
      { name: 'indices', kind: 'read-only-storage' },
      { name: 'state', kind: 'read-only-storage' },
      { name: 'shift', kind: 'read-only-storage' },
      { name: 'scale', kind: 'read-only-storage' },
      { name: 'x', kind: 'storage' },
      ...(t ? [{ name: 'batch_labels', kind: 'read-only-storage' } as const, { name: 'batch_targets', kind: 'storage' } as const] : []),
    ],
    overrides: {
      ...(t ? { TARGET_WIDTH: t.targetWidth } : {}),
      B: s.batch,
      D: s.features,
      ROWS: s.rows,
      COLS: s.cols,
      SOURCE_U8: s.sourceU8 ? 1 : 0,
      NORMALIZE: s.normalize,
      UNIFORM_AFFINE: s.uniformAffine ? 1 : 0,
      AFFINE_SHIFT: s.uniformAffine?.shift ?? 0,
      AFFINE_SCALE: s.uniformAffine?.scale ?? 1,
    },
    workgroupSize: [WG],
  });
  return rt.dispatch(
    kernel,
    [r.images, r.indices, r.state, shaped(r.shift, [s.features]), shaped(r.scale, [s.features]), shaped(r.x, [s.batch, s.features]),
      ...(t ? [t.labels, shaped(t.targets, [s.batch, t.targetWidth])] : [])],
    [Math.ceil(s.features / FEATURES_PER_THREAD / WG), s.batch, 1],
    label,
  );
}

export async function gatherTargets(
  rt: Runtime,
  s: { batch: number; targetWidth: number },
  r: { labels: Resource; indices: Resource; state: Resource; targets: Resource },
  label = 'gather targets',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'gather_targets',
    sources: [WGSL.stepState, WGSL.grid, WGSL.batch],
    entryPoint: 'gather_targets',
    bindings: [
      { name: 'labels', kind: 'read-only-storage' },
      { name: 'indices', kind: 'read-only-storage' },
      { name: 'state', kind: 'read-only-storage' },
      { name: 'targets', kind: 'storage' },
    ],
    overrides: { B: s.batch, D: 1, TARGET_WIDTH: s.targetWidth },
    workgroupSize: [WG],
  });
  return rt.dispatch(
    kernel,
    [r.labels, r.indices, r.state, shaped(r.targets, [s.batch, s.targetWidth])],
    [Math.ceil(s.batch / WG), 1, 1],
    label,
  );
}

/** state.step += 1, and state.iteration += 1 when `training`. */
export async function advanceStep(rt: Runtime, training: boolean, state: Resource, label = 'advance step'): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'advance_step',
    sources: [WGSL.stepState, WGSL.grid, WGSL.batch],
    entryPoint: 'advance_step',
    bindings: [{ name: 'advancing', kind: 'storage' }],
    overrides: { B: 1, D: 1, TRAINING: training ? 1 : 0 },
    workgroupSize: [1],
  });
  return rt.dispatch(kernel, [state], [1, 1, 1], label);
}

/** results[step·B + b] = rows[b] for the valid rows of the batch. */
export async function scatterRows(
  rt: Runtime,
  s: { batch: number; columns: number },
  r: { rows: Resource; state: Resource; results: Resource },
  label = 'scatter rows',
): Promise<Dispatch> {
  const kernel = await rt.kernel({
    name: 'scatter_rows',
    sources: [WGSL.stepState, WGSL.grid, WGSL.batch],
    entryPoint: 'scatter_rows',
    bindings: [
      { name: 'rows', kind: 'read-only-storage' },
      { name: 'results', kind: 'storage' },
      { name: 'state', kind: 'read-only-storage' },
    ],
    overrides: { B: s.batch, D: 1, COLUMNS: s.columns },
    workgroupSize: [WG],
  });
  return rt.dispatch(kernel, [shaped(r.rows, [s.batch, s.columns]), r.results, r.state],
    [Math.ceil((s.batch * s.columns) / WG), 1, 1], label);
}

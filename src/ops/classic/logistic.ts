/**
 * Logistic regression's kernels (shaders/classic/logistic.wgsl) as kernel
 * families (src/ops/family.ts), called by src/classic/logistic-kernels.ts.
 * Every family has one variant but `logistic.column_sums`, whose two give
 * different roundings: 'tree' (one workgroup per column, a tree of partial
 * sums: many rows, few columns) and 'in-order' (one thread per column, rows
 * added in order: few rows, many columns). Its caller names the variant, so
 * the sums and the training run stay bit-identical.
 *
 * Every call takes the problem: `words` (D4: features / 4, rounded up), `K`
 * outputs, and whether the samples are f32 (else bytes, four to a word).
 */
import type { ProgramSpec } from '../../gpu/program.js';
import type { Dispatch, Runtime } from '../../gpu/runtime.js';
import type { Resource } from '../common.js';
import { defineFamily } from '../family.js';
import { WGSL } from '../sources.js';
import { foldedGroups, singleFamily } from './common.js';

/** Threads per workgroup of the per-sample and per-feature kernels. */
export const LOGISTIC_THREADS = 64;
/** Outputs one thread of logistic_scores and logistic_gradient takes (OUTPUTS_PER_THREAD in the WGSL). */
export const OUTPUTS_PER_THREAD = 16;
/** Threads per workgroup of column_sums over many rows (a power of two). */
export const SUM_THREADS = 256;

/** The problem every logistic kernel is built for. */
export interface LogisticProblemShape { words: number; K: number; f32Input: boolean }

const storageBinding = (name: string) => ({ name, kind: 'storage' as const });
const readBinding = (name: string) => ({ name, kind: 'read-only-storage' as const });

function spec(p: LogisticProblemShape, entryPoint: string, bindings: ProgramSpec['bindings'], overrides: Record<string, number>,
  threads = LOGISTIC_THREADS): ProgramSpec {
  return {
    name: `logistic ${entryPoint}`,
    sources: [WGSL.classicLogistic],
    entryPoint,
    bindings,
    overrides: { D4: p.words, K: p.K, ...overrides },
    defines: { F32_INPUT: p.f32Input },
    workgroupSize: [threads],
  };
}

const problemKey = (p: LogisticProblemShape) => `${p.words}x${p.K}${p.f32Input ? ' f32' : ' u8'}`;
const FILES = ['classicLogistic'] as const;

export interface ScoresCall extends LogisticProblemShape { rows: number }
export interface ScoresOperands { images: Resource; standardize: Resource; params: Resource; out: Resource }

export const LOGISTIC_SCORES = singleFamily<ScoresCall, ScoresOperands>({
  name: 'logistic.scores',
  summary: 'out[n, k] = Σ_d p[k, d] · x̃[n, d] + b[k], x̃ the standardised samples',
  variant: 'rows4', files: FILES,
  shapeKey: (s) => `${s.rows} ${problemKey(s)}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'logistic_scores', [readBinding('images'), readBinding('standardize'), readBinding('p'), storageBinding('out')],
      { N: s.rows, THREAD_OUTPUTS: Math.min(s.K, OUTPUTS_PER_THREAD) }));
    return [rt.dispatch(kernel, [r.images, r.standardize, r.params, r.out],
      [Math.ceil(s.rows / 4 / LOGISTIC_THREADS), Math.ceil(s.K / OUTPUTS_PER_THREAD), 1], label)];
  },
});

export interface LossOperands {
  scores: Resource; direction: Resource; steps: Resource; targets: Resource;
  trialScores: Resource; residual: Resource; lossTerms: Resource;
}

export const LOGISTIC_LOSS = singleFamily<ScoresCall, LossOperands>({
  name: 'logistic.loss',
  summary: 'z = scores − t·direction; residual = σ(z) − y; per-sample cross-entropies and error flags',
  variant: 'per-sample', files: FILES,
  shapeKey: (s) => `${s.rows} ${problemKey(s)}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'logistic_loss',
      [readBinding('scores'), readBinding('direction'), readBinding('trial_steps'), readBinding('targets'),
        storageBinding('trial_scores'), storageBinding('residual'), storageBinding('loss_terms')],
      { N: s.rows }));
    return [rt.dispatch(kernel, [r.scores, r.direction, r.steps, r.targets, r.trialScores, r.residual, r.lossTerms],
      [Math.ceil(s.rows / LOGISTIC_THREADS), 1, 1], label)];
  },
});

export interface GradientCall extends ScoresCall { chunk: number }

export const LOGISTIC_GRADIENT = singleFamily<GradientCall, { images: Resource; standardize: Resource; residual: Resource; partials: Resource }>({
  name: 'logistic.gradient',
  summary: 'partials[chunk, k, d] = Σ over the chunk\'s samples of x̃[n, d] · residual[n, k]',
  variant: 'chunks', files: FILES,
  shapeKey: (s) => `${s.rows}/${s.chunk} ${problemKey(s)}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'logistic_gradient',
      [readBinding('images'), readBinding('standardize'), readBinding('residual_in'), storageBinding('gradient_partials')],
      { N: s.rows, CHUNK: s.chunk, THREAD_OUTPUTS: Math.min(s.K, OUTPUTS_PER_THREAD) }));
    const chunks = Math.ceil(s.rows / s.chunk);
    return [rt.dispatch(kernel, [r.images, r.standardize, r.residual, r.partials],
      [Math.ceil((s.words * Math.ceil(s.K / OUTPUTS_PER_THREAD)) / LOGISTIC_THREADS), chunks, 1], label)];
  },
});

/** sums[offset + c] = scale · Σ_r values[r, c] for a (rows, columns) array. */
export interface ColumnSumsCall extends LogisticProblemShape { rows: number; columns: number; offset: number; scale: number }

function columnSumsVariant(name: 'tree' | 'in-order') {
  const entry = name === 'tree' ? 'column_sums' : 'column_sums_in_order';
  const threads = name === 'tree' ? SUM_THREADS : LOGISTIC_THREADS;
  return {
    name, files: FILES, applies: () => true as const,
    record: async (rt: Runtime, s: ColumnSumsCall, r: { values: Resource; sums: Resource }, label: string): Promise<Dispatch[]> => {
      const kernel = await rt.kernel(spec(s, entry, [readBinding('values'), storageBinding('sums')],
        { ROWS: s.rows, COLUMNS: s.columns, OUT_OFFSET: s.offset, SCALE: s.scale }, threads));
      const grid = name === 'tree' ? foldedGroups(rt, s.columns) : [Math.ceil(s.columns / LOGISTIC_THREADS), 1, 1] as [number, number, number];
      return [rt.dispatch(kernel, [r.values, r.sums], grid, label)];
    },
  };
}

export const LOGISTIC_COLUMN_SUMS = defineFamily<ColumnSumsCall, { values: Resource; sums: Resource }>({
  name: 'logistic.column_sums',
  summary: 'sums[offset + c] = scale · Σ_r values[r, c]',
  shapeKey: (s) => `${s.rows}x${s.columns}`,
  variants: [columnSumsVariant('tree'), columnSumsVariant('in-order')],
  order: { cpu: ['tree', 'in-order'], gpu: ['tree', 'in-order'] },
});

export const LOGISTIC_TRIAL = singleFamily<LogisticProblemShape & { normOffset: number },
  { current: Resource; gradient: Resource; stepSizes: Resource; trial: Resource; summary: Resource }>({
  name: 'logistic.trial',
  summary: 'trial = current − t_k · gradient per output; summary gets ‖w_k‖² of the trial',
  variant: 'per-output', files: FILES,
  shapeKey: problemKey,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'make_trial', [readBinding('current'), readBinding('gradient'), readBinding('step_sizes'),
      storageBinding('trial'), storageBinding('summary')], { NORM_OFFSET: s.normOffset }));
    return [rt.dispatch(kernel, [r.current, r.gradient, r.stepSizes, r.trial, r.summary], [s.K, 1, 1], label)];
  },
});

export const LOGISTIC_COPY = singleFamily<LogisticProblemShape & { count: number }, { from: Resource; to: Resource }>({
  name: 'logistic.copy',
  summary: 'to[i] = from[i]',
  variant: 'values', files: FILES,
  shapeKey: (s) => `${s.count}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'copy_values', [readBinding('copy_source'), storageBinding('copy_target')], { COUNT: s.count }));
    return [rt.dispatch(kernel, [r.from, r.to], [Math.ceil(s.count / LOGISTIC_THREADS), 1, 1], label)];
  },
});

export const LOGISTIC_FINISH = singleFamily<LogisticProblemShape & { normOffset: number; l2OverN: number; bias: boolean },
  { weights: Resource; dparams: Resource; norms: Resource }>({
  name: 'logistic.finish',
  summary: 'dparams += (λ/N) · w on the weights (not the bias); norms get ‖g_k‖²',
  variant: 'per-output', files: FILES,
  shapeKey: (s) => `${problemKey(s)} l2/N ${s.l2OverN}${s.bias ? ' bias' : ''}`,
  record: async (rt, s, r, label) => {
    const kernel = await rt.kernel(spec(s, 'finish_gradient', [readBinding('weights_now'), storageBinding('dparams'), storageBinding('norms')],
      { NORM_OFFSET: s.normOffset, L2_OVER_N: s.l2OverN, HAS_BIAS: s.bias ? 1 : 0 }));
    return [rt.dispatch(kernel, [r.weights, r.dparams, r.norms], [s.K, 1, 1], label)];
  },
});

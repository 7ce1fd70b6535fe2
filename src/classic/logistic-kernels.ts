/**
 * Logistic regression's buffers and recorded dispatches: the buffers the
 * kernels bind, the layout of the summary the CPU reads, and the dispatch
 * lists of a trial, an accepted step, the test pass and the scores, each a
 * call of a kernel family of src/ops/classic/logistic.ts
 * (shaders/classic/logistic.wgsl).
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { runFamily } from '../ops/family.js';
import {
  LOGISTIC_COLUMN_SUMS, LOGISTIC_COPY, LOGISTIC_FINISH, LOGISTIC_GRADIENT, LOGISTIC_LOSS, LOGISTIC_SCORES, LOGISTIC_TRIAL,
  type LogisticProblemShape,
} from '../ops/classic/logistic.js';

/**
 * Offsets in the summary buffer (f32), for K outputs:
 * the trial's K mean cross-entropies and its error fraction, the trial's K
 * ‖w_k‖², the K ‖g_k‖² at the current parameters, the test set's K mean
 * cross-entropies and its error fraction.
 */
export function summaryLayout(K: number) {
  return {
    trialLoss: 0,
    trialError: K,
    trialNorm: K + 1,
    gradientNorm: 2 * K + 1,
    testLoss: 3 * K + 1,
    testError: 4 * K + 1,
    length: 4 * K + 2,
  };
}

export type Layout = ReturnType<typeof summaryLayout>;

/** The buffers of one set of rows (layouts in shaders/classic/logistic.wgsl). */
export interface RowBuffers {
  count: number;
  /** (count, D4) words of 4 bytes, or (count, DP) f32. */
  images: GPUBuffer;
  /** (count, K). */
  targets: GPUBuffer;
  /** (count, K) z at the parameters. */
  scores: GPUBuffer;
  /** (count, K) z at the trial parameters. */
  trialScores: GPUBuffer;
  /** (count, K) σ(z) − y at the trial parameters. */
  residual: GPUBuffer;
  /** (count, K + 1) per-sample cross-entropies and error flags. */
  lossTerms: GPUBuffer;
}

/** The buffers shared by every row set (layouts in shaders/classic/logistic.wgsl). */
export interface EngineBuffers {
  /** (2, DP): shift, then scale. */
  standardize: GPUBuffer;
  /** (K·DP + K): weights, one row per output, then biases. */
  params: GPUBuffer;
  /** The parameters of the current line-search trial, same layout. */
  trial: GPUBuffer;
  /** The gradient at `params`, same layout. */
  dparams: GPUBuffer;
  /** (K) t_k of the trial. */
  stepSizes: GPUBuffer;
  /** (K) zeros: the step sizes with which logistic_loss evaluates the scores as they are. */
  zeroSteps: GPUBuffer;
  /** (count, K) the direction u = X̃·g_w + g_b on the training rows. */
  direction: GPUBuffer;
  /** What the CPU reads: see summaryLayout. */
  summary: GPUBuffer;
  /** (chunks, K·DP) per-chunk sums of x̃ᵀ r. */
  gradientPartials: GPUBuffer;
}


/** The recorded dispatch lists, replayed as they are. */
export interface Plans {
  /** make_trial, logistic_loss on the training rows at z − t·u, the loss sums. */
  trial: Dispatch[];
  /** Accept the trial (parameters and scores), the gradient there, finish_gradient, the next direction. */
  accept: Dispatch[];
  /** z on the test rows at the parameters, their loss and error sums. */
  test: Dispatch[];
  /** z on the training rows at the parameters. */
  scores: Dispatch[];
}

/** Records every plan of one problem: the families build (or reuse) their pipelines and bind the buffers. */
export async function recordPlans(
  rt: Runtime,
  s: {
    trainRows: RowBuffers; testRows: RowBuffers | undefined; buffers: EngineBuffers;
    K: number; words: number; f32Input: boolean; chunk: number; bias: boolean; lambda: number; layout: Layout;
  },
): Promise<Plans> {
  const { trainRows: train, testRows: test, buffers: b, K, words, layout } = s;
  const p: LogisticProblemShape = { words, K, f32Input: s.f32Input };
  const DP = words * 4;
  const paramCount = K * DP + K;
  const N = train.count;
  const chunks = Math.ceil(N / s.chunk);
  const scores = (rows: RowBuffers, params: GPUBuffer, out: GPUBuffer, label: string) =>
    runFamily(rt, LOGISTIC_SCORES, { ...p, rows: rows.count }, {
      images: { buffer: rows.images, shape: [rows.count, words] },
      standardize: { buffer: b.standardize, shape: [2, words] },
      params: { buffer: params, shape: [paramCount] },
      out: { buffer: out, shape: [rows.count, K] },
    }, label);
  const loss = (rows: RowBuffers, direction: GPUBuffer, steps: GPUBuffer, label: string) =>
    runFamily(rt, LOGISTIC_LOSS, { ...p, rows: rows.count }, {
      scores: { buffer: rows.scores, shape: [rows.count, K] },
      direction: { buffer: direction, shape: [rows.count, K] },
      steps: { buffer: steps, shape: [K] },
      targets: { buffer: rows.targets, shape: [rows.count, K] },
      trialScores: { buffer: rows.trialScores, shape: [rows.count, K] },
      residual: { buffer: rows.residual, shape: [rows.count, K] },
      lossTerms: { buffer: rows.lossTerms, shape: [rows.count, K + 1] },
    }, label);
  // The variant is named: the two sum in different orders, and the run must stay bit-identical.
  const sums = (variant: 'tree' | 'in-order', values: GPUBuffer, rows: number, columns: number, offset: number, scale: number,
    out: GPUBuffer, label: string) =>
    runFamily(rt, LOGISTIC_COLUMN_SUMS, { ...p, rows, columns, offset, scale },
      { values: { buffer: values, shape: [rows, columns] }, sums: { buffer: out } }, label, { variant });
  const copy = (from: GPUBuffer, to: GPUBuffer, count: number, label: string) =>
    runFamily(rt, LOGISTIC_COPY, { ...p, count }, { from, to }, label);
  const all = async (lists: Promise<Dispatch[]>[]) => (await Promise.all(lists)).flat();

  const trial = all([
    runFamily(rt, LOGISTIC_TRIAL, { ...p, normOffset: layout.trialNorm },
      { current: b.params, gradient: b.dparams, stepSizes: b.stepSizes, trial: b.trial, summary: b.summary }, 'logistic trial parameters'),
    loss(train, b.direction, b.stepSizes, 'logistic trial loss terms (train)'),
    sums('tree', train.lossTerms, N, K + 1, layout.trialLoss, 1 / N, b.summary, 'logistic trial loss'),
  ]);
  const accept = all([
    copy(b.trial, b.params, paramCount, 'logistic accept parameters'),
    copy(train.trialScores, train.scores, N * K, 'logistic accept scores'),
    runFamily(rt, LOGISTIC_GRADIENT, { ...p, rows: N, chunk: s.chunk }, {
      images: { buffer: train.images, shape: [N, words] },
      standardize: { buffer: b.standardize, shape: [2, words] },
      residual: { buffer: train.residual, shape: [N, K] },
      partials: { buffer: b.gradientPartials, shape: [chunks, K, DP] },
    }, 'logistic gradient partials'),
    sums('in-order', b.gradientPartials, chunks, K * DP, 0, 1 / N, b.dparams, 'logistic weight gradient'),
    ...(s.bias ? [sums('tree', train.residual, N, K, K * DP, 1 / N, b.dparams, 'logistic bias gradient')] : []),
    runFamily(rt, LOGISTIC_FINISH, { ...p, normOffset: layout.gradientNorm, l2OverN: s.lambda / N, bias: s.bias },
      { weights: b.params, dparams: b.dparams, norms: b.summary }, 'logistic finish gradient'),
    scores(train, b.dparams, b.direction, 'logistic direction (train)'),
  ]);
  const testPlan = test
    ? all([
        scores(test, b.params, test.scores, 'logistic scores (test)'),
        // t = 0: the direction is never read; the scores stand in for it.
        loss(test, test.scores, b.zeroSteps, 'logistic loss terms (test)'),
        sums('tree', test.lossTerms, test.count, K + 1, layout.testLoss, 1 / test.count, b.summary, 'logistic test loss'),
      ])
    : Promise.resolve([]);
  const [trialList, acceptList, testList, scoresList] = await Promise.all([
    trial, accept, testPlan, scores(train, b.params, train.scores, 'logistic scores (train)'),
  ]);
  return { trial: trialList, accept: acceptList, test: testList, scores: scoresList };
}

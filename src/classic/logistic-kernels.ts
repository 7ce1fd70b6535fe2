/**
 * Logistic regression's pipelines and recorded dispatches
 * (shaders/classic/logistic.wgsl): the buffers the kernels bind, the layout
 * of the summary the CPU reads, the kernels for one problem size, and the
 * dispatch lists of a trial, an accepted step, the test pass and the scores.
 */
import { WGSL } from '../ops/sources.js';
import type { ProgramSpec } from '../gpu/program.js';
import type { Dispatch, Kernel, Runtime } from '../gpu/runtime.js';

/** The baseline's kernels (shaders/classic/), from the one list of sources the shader view reads. */
const source = WGSL.classicLogistic;

/** Threads per workgroup of the per-sample and per-feature kernels. */
const THREADS = 64;
/** Outputs one thread of logistic_scores and logistic_gradient takes (OUTPUTS_PER_THREAD in the WGSL). */
const OUTPUTS_PER_THREAD = 16;
/** Threads per workgroup of column_sums over many rows (a power of two). */
const SUM_THREADS = 256;

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


export interface Kernels {
  scoresTrain: Kernel;
  scoresTest: Kernel | undefined;
  lossTrain: Kernel;
  lossTest: Kernel | undefined;
  lossSumsTrain: Kernel;
  lossSumsTest: Kernel | undefined;
  gradient: Kernel;
  gradientSums: Kernel;
  biasSums: Kernel;
  makeTrial: Kernel;
  copyParams: Kernel;
  copyScores: Kernel;
  finish: Kernel;
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

const storageBinding = (name: string) => ({ name, kind: 'storage' as const });
const readBinding = (name: string) => ({ name, kind: 'read-only-storage' as const });

export async function buildKernels(
  rt: Runtime,
  s: {
    words: number;
    K: number;
    f32Input: boolean;
    bias: boolean;
    lambda: number;
    N: number;
    chunk: number;
    testN: number | undefined;
    layout: Layout;
  },
): Promise<Kernels> {
  const { words, K, N, layout } = s;
  const paddedFeatures = words * 4;
  const paramCount = K * paddedFeatures + K;
  const chunks = Math.ceil(N / s.chunk);
  const threadOutputs = Math.min(K, OUTPUTS_PER_THREAD);
  const spec = (
    entryPoint: string,
    bindings: ProgramSpec['bindings'],
    overrides: Record<string, number>,
    threads = THREADS,
  ): ProgramSpec => ({
    name: `logistic ${entryPoint}`,
    sources: [source],
    entryPoint,
    bindings,
    overrides: { D4: words, K, ...overrides },
    defines: { F32_INPUT: s.f32Input },
    workgroupSize: [threads],
  });
  const scores = (count: number) =>
    rt.kernel(
      spec('logistic_scores', [readBinding('images'), readBinding('standardize'), readBinding('p'), storageBinding('out')],
        { N: count, THREAD_OUTPUTS: threadOutputs }),
    );
  const loss = (count: number) =>
    rt.kernel(
      spec(
        'logistic_loss',
        [readBinding('scores'), readBinding('direction'), readBinding('trial_steps'), readBinding('targets'),
          storageBinding('trial_scores'), storageBinding('residual'), storageBinding('loss_terms')],
        { N: count },
      ),
    );
  const columnSums = (entryPoint: 'column_sums' | 'column_sums_in_order', rows: number, columns: number, offset: number,
    scale: number, threads: number) =>
    rt.kernel(
      spec(entryPoint, [readBinding('values'), storageBinding('sums')],
        { ROWS: rows, COLUMNS: columns, OUT_OFFSET: offset, SCALE: scale }, threads),
    );
  const copy = (count: number) =>
    rt.kernel(spec('copy_values', [readBinding('copy_source'), storageBinding('copy_target')], { COUNT: count }));
  const [scoresTrain, scoresTest, lossTrain, lossTest, lossSumsTrain, lossSumsTest, gradient, gradientSums, biasSums,
    makeTrial, copyParams, copyScores, finish] = await Promise.all([
    scores(N),
    s.testN ? scores(s.testN) : undefined,
    loss(N),
    s.testN ? loss(s.testN) : undefined,
    columnSums('column_sums', N, K + 1, layout.trialLoss, 1 / N, SUM_THREADS),
    s.testN ? columnSums('column_sums', s.testN, K + 1, layout.testLoss, 1 / s.testN, SUM_THREADS) : undefined,
    rt.kernel(
      spec('logistic_gradient', [readBinding('images'), readBinding('standardize'), readBinding('residual_in'),
        storageBinding('gradient_partials')], { N, CHUNK: s.chunk, THREAD_OUTPUTS: threadOutputs }),
    ),
    columnSums('column_sums_in_order', chunks, K * paddedFeatures, 0, 1 / N, THREADS),
    columnSums('column_sums', N, K, K * paddedFeatures, 1 / N, SUM_THREADS),
    rt.kernel(
      spec('make_trial', [readBinding('current'), readBinding('gradient'), readBinding('step_sizes'), storageBinding('trial'),
        storageBinding('summary')], { NORM_OFFSET: layout.trialNorm }),
    ),
    copy(paramCount),
    copy(N * K),
    rt.kernel(
      spec('finish_gradient', [readBinding('weights_now'), storageBinding('dparams'), storageBinding('norms')],
        { NORM_OFFSET: layout.gradientNorm, L2_OVER_N: s.lambda / N, HAS_BIAS: s.bias ? 1 : 0 }),
    ),
  ]);
  return { scoresTrain, scoresTest, lossTrain, lossTest, lossSumsTrain, lossSumsTest, gradient, gradientSums, biasSums,
    makeTrial, copyParams, copyScores, finish };
}

/** Workgroups for one workgroup per column, folded into 2-D past the per-dimension limit. */
function perColumn(rt: Runtime, columns: number): [number, number, number] {
  const x = Math.min(columns, rt.limits.maxComputeWorkgroupsPerDimension);
  return [x, Math.ceil(columns / x), 1];
}

export function recordPlans(
  rt: Runtime,
  kernels: Kernels,
  s: { trainRows: RowBuffers; testRows: RowBuffers | undefined; buffers: EngineBuffers; K: number; words: number; chunks: number; bias: boolean },
): Plans {
  const { trainRows: train, testRows: test, buffers: b, K, words, chunks } = s;
  const DP = words * 4;
  const paramCount = K * DP + K;
  const scores = (kernel: Kernel, rows: RowBuffers, params: GPUBuffer, out: GPUBuffer, label: string): Dispatch =>
    rt.dispatch(
      kernel,
      [
        { buffer: rows.images, shape: [rows.count, words] },
        { buffer: b.standardize, shape: [2, words] },
        { buffer: params, shape: [paramCount] },
        { buffer: out, shape: [rows.count, K] },
      ],
      [Math.ceil(rows.count / 4 / THREADS), Math.ceil(K / OUTPUTS_PER_THREAD), 1],
      label,
    );
  const loss = (kernel: Kernel, rows: RowBuffers, direction: GPUBuffer, steps: GPUBuffer, label: string): Dispatch =>
    rt.dispatch(
      kernel,
      [
        { buffer: rows.scores, shape: [rows.count, K] },
        { buffer: direction, shape: [rows.count, K] },
        { buffer: steps, shape: [K] },
        { buffer: rows.targets, shape: [rows.count, K] },
        { buffer: rows.trialScores, shape: [rows.count, K] },
        { buffer: rows.residual, shape: [rows.count, K] },
        { buffer: rows.lossTerms, shape: [rows.count, K + 1] },
      ],
      [Math.ceil(rows.count / THREADS), 1, 1],
      label,
    );
  const sums = (kernel: Kernel, values: GPUBuffer, rows: number, columns: number, out: GPUBuffer, label: string,
    grid: [number, number, number]): Dispatch =>
    rt.dispatch(kernel, [{ buffer: values, shape: [rows, columns] }, { buffer: out }], grid, label);
  const copy = (kernel: Kernel, from: GPUBuffer, to: GPUBuffer, count: number, label: string): Dispatch =>
    rt.dispatch(kernel, [from, to], [Math.ceil(count / THREADS), 1, 1], label);

  const trial = [
    rt.dispatch(kernels.makeTrial, [b.params, b.dparams, b.stepSizes, b.trial, b.summary], [K, 1, 1], 'logistic trial parameters'),
    loss(kernels.lossTrain, train, b.direction, b.stepSizes, 'logistic trial loss terms (train)'),
    sums(kernels.lossSumsTrain, train.lossTerms, train.count, K + 1, b.summary, 'logistic trial loss', perColumn(rt, K + 1)),
  ];
  const accept = [
    copy(kernels.copyParams, b.trial, b.params, paramCount, 'logistic accept parameters'),
    copy(kernels.copyScores, train.trialScores, train.scores, train.count * K, 'logistic accept scores'),
    rt.dispatch(
      kernels.gradient,
      [
        { buffer: train.images, shape: [train.count, words] },
        { buffer: b.standardize, shape: [2, words] },
        { buffer: train.residual, shape: [train.count, K] },
        { buffer: b.gradientPartials, shape: [chunks, K, DP] },
      ],
      [Math.ceil((words * Math.ceil(K / OUTPUTS_PER_THREAD)) / THREADS), chunks, 1],
      'logistic gradient partials',
    ),
    sums(kernels.gradientSums, b.gradientPartials, chunks, K * DP, b.dparams, 'logistic weight gradient',
      [Math.ceil((K * DP) / THREADS), 1, 1]),
    ...(s.bias
      ? [sums(kernels.biasSums, train.residual, train.count, K, b.dparams, 'logistic bias gradient', perColumn(rt, K))]
      : []),
    rt.dispatch(kernels.finish, [b.params, b.dparams, b.summary], [K, 1, 1], 'logistic finish gradient'),
    scores(kernels.scoresTrain, train, b.dparams, b.direction, 'logistic direction (train)'),
  ];
  const testPlan =
    test && kernels.scoresTest && kernels.lossTest && kernels.lossSumsTest
      ? [
          scores(kernels.scoresTest, test, b.params, test.scores, 'logistic scores (test)'),
          // t = 0: the direction is never read; the scores stand in for it.
          loss(kernels.lossTest, test, test.scores, b.zeroSteps, 'logistic loss terms (test)'),
          sums(kernels.lossSumsTest, test.lossTerms, test.count, K + 1, b.summary, 'logistic test loss', perColumn(rt, K + 1)),
        ]
      : [];
  return {
    trial,
    accept,
    test: testPlan,
    scores: [scores(kernels.scoresTrain, train, b.params, train.scores, 'logistic scores (train)')],
  };
}

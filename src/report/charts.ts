/**
 * The report's pictures as vega-lite specs: plain objects, rendered to SVG by
 * `render.ts`. Each function takes the plain data of `../experiments/result.ts`.
 */
import type { Config, TopLevelSpec } from 'vega-lite';
import type { LayerSpec, UnitSpec } from 'vega-lite/types_unstable/spec/index.js';
import type { HistoryJson, RunResult, SampleImage, StepCurves, SweepCell, SweepResult } from '../experiments/result.js';
import type { SeedSpread } from '../experiments/seeds.js';
import { normalizeRows } from '../metrics/classification.js';

/** Shared look: white background (the SVGs are shown as they are), quiet view borders. */
const config: Config = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  title: { fontSize: 14, anchor: 'start' },
  axis: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 11, labelLimit: 0 },
};

/** Colours for the two series of a learning curve. */
const splits = { domain: ['train', 'validation'], range: ['#1f77b4', '#ff7f0e'] };

/** A red title marks an image the model got wrong. */
const WRONG = '#c62828';

/**
 * The best epoch of a history: lowest val_loss, or lowest loss where there is
 * no validation. `index` is into the history arrays; `epoch` is 1-based, as shown.
 */
export function bestEpoch(history: HistoryJson): { index: number; epoch: number; metric: string } | undefined {
  const metric = history.history.val_loss?.length ? 'val_loss' : 'loss';
  const values = history.history[metric];
  if (!values?.length) return undefined;
  let index = 0;
  values.forEach((v, i) => {
    if (v < values[index]!) index = i;
  });
  return { index, epoch: history.epoch[index]! + 1, metric };
}

/** Rows {epoch (1-based), value, ...extra} of one history metric; none where the metric is absent. */
function series<T extends object>(history: HistoryJson, key: string, extra: T): (T & { epoch: number; value: number })[] {
  return (history.history[key] ?? []).map((value, i) => ({ ...extra, epoch: history.epoch[i]! + 1, value }));
}

const epochAxis = { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { zero: false }, axis: { tickMinStep: 1, format: 'd' } } as const;

/** Loss and accuracy per epoch, train and validation, with the best epoch marked. */
export function learningCurves(result: RunResult): TopLevelSpec {
  const best = bestEpoch(result.history);
  // The best epoch: a dashed vertical rule, labelled at the top of each panel.
  const bestMarks: UnitSpec<string>[] = [];
  if (best) {
    const data = { values: [{ epoch: best.epoch }] };
    const x = { field: 'epoch', type: 'quantitative' } as const;
    bestMarks.push(
      { data, mark: { type: 'rule', color: '#555', strokeDash: [4, 3] }, encoding: { x } },
      {
        data,
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 2, color: '#555' },
        encoding: { x, y: { value: 0 }, text: { value: `best epoch ${best.epoch}` } },
      },
    );
  }
  const panel = (metric: 'loss' | 'accuracy'): LayerSpec<string> => ({
    title: metric,
    width: 320,
    height: 220,
    layer: [
      {
        data: {
          values: [
            ...series(result.history, metric, { split: 'train' }),
            ...series(result.history, `val_${metric}`, { split: 'validation' }),
          ],
        },
        mark: { type: 'line', point: true },
        encoding: {
          x: epochAxis,
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
          color: { field: 'split', type: 'nominal', title: null, scale: splits },
        },
      },
      ...bestMarks,
    ],
  });
  return {
    title: { text: `${result.id}: learning curves${best ? ` (best epoch by ${best.metric})` : ''}`, offset: 12 },
    hconcat: [panel('loss'), panel('accuracy')],
    resolve: { scale: { color: 'shared' } },
    config,
  };
}

/** Pixels between the columns of an image grid. */
export const GRID_GAP = 24;

/** How an image grid titles its images. */
export interface GridOptions {
  /** Names of the classes where they are not the digits, e.g. ['not 5', '5']. */
  classNames?: readonly string[];
  /** A title of its own for each image, instead of "label L" over "predicted P". */
  caption?: (image: SampleImage) => string;
}

/**
 * Up to 25 images in a 5×5 grid, each titled on two lines, "label L" over
 * "predicted P" (red where they differ), so that a caption is never wider than
 * its column. Black digits on white: only pixels above 0 are drawn, as rects.
 */
export function imageGrid(images: SampleImage[], shape: [rows: number, cols: number], title: string, options: GridOptions = {}): TopLevelSpec {
  const name = (c: number) => options.classNames?.[c] ?? String(c);
  const [rows, cols] = shape;
  // Whole screen pixels per image pixel (3 for 28×28: 84 px squares) keep the SVG's numbers short.
  const scale = Math.max(1, Math.round(80 / cols));
  return {
    title,
    columns: 5,
    // Lay out by the squares alone: vega, measuring text without a canvas, overestimates the titles' widths.
    bounds: 'flush',
    spacing: { column: GRID_GAP, row: 34 },
    concat: images.slice(0, 25).map((image) => {
      if (image.pixels.length !== rows * cols) {
        throw new Error(`imageGrid: image ${image.index} has ${image.pixels.length} pixels, not ${rows}×${cols}.`);
      }
      const wrong = !options.caption && image.label !== image.predicted;
      const text = options.caption ? options.caption(image) : [`label ${name(image.label)}`, `predicted ${name(image.predicted)}`];
      return {
        title: { text, fontSize: 10, lineHeight: 12, color: wrong ? WRONG : '#333', fontWeight: wrong ? 'bold' : 'normal' },
        width: cols * scale,
        height: rows * scale,
        data: { values: litPixels(image.pixels, cols, scale) },
        // No ARIA attributes on the hundreds of pixels: they would triple the SVG's size.
        mark: { type: 'rect', aria: false },
        encoding: {
          // Positions are screen pixels already (scale null): exact integers in the SVG.
          x: { field: 'x', type: 'quantitative', scale: null, axis: null },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', scale: null, axis: null },
          y2: { field: 'y2' },
          fill: { field: 'value', type: 'quantitative', scale: { domain: [0, 255], range: ['white', 'black'], interpolate: 'rgb' }, legend: null },
        },
      };
    }),
    config: { ...config, view: { stroke: '#bbb', fill: 'white' } },
  };
}

/**
 * Full-batch gradient descent, per step: training and test loss, test error,
 * and the line search's trials (the steps' sizes in the tooltip-free SVG are
 * in the report's table).
 */
export function stepCurves(id: string, steps: StepCurves): TopLevelSpec {
  const rows = steps.step.map((step, i) => ({
    step, train: steps.trainLoss[i]!, test: steps.testLoss[i]!, error: steps.testError[i]!, trials: steps.trials[i]!,
  }));
  const x = { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1, format: 'd' } } as const;
  const panel = (title: string, layer: UnitSpec<string>) => ({ ...layer, title, width: 260, height: 200 });
  return {
    title: { text: `${id}: gradient descent, per step`, offset: 12 },
    data: { values: rows },
    hconcat: [
      panel('loss', {
        transform: [{ fold: ['train', 'test'], as: ['split', 'value'] }],
        mark: { type: 'line' },
        encoding: {
          x, y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false } },
          color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['train', 'test'], range: ['#1f77b4', '#ff7f0e'] } },
        },
      }),
      panel('test error', {
        mark: { type: 'line', color: '#c62828' },
        encoding: { x, y: { field: 'error', type: 'quantitative', title: 'test error', scale: { zero: false } } },
      }),
      panel('line-search trials', {
        mark: { type: 'line', interpolate: 'step-after', color: '#555' },
        encoding: { x, y: { field: 'trials', type: 'quantitative', title: 'trials per step', axis: { tickMinStep: 1 } } },
      }),
    ],
    config,
  } as TopLevelSpec;
}

/** One row per pixel above 0: its square [x, x2) × [y, y2) on screen, `scale` px a side, and its value. */
function litPixels(pixels: number[], cols: number, scale: number): { x: number; x2: number; y: number; y2: number; value: number }[] {
  const lit = [];
  for (let i = 0; i < pixels.length; i++) {
    const value = pixels[i]!;
    if (value <= 0) continue;
    const x = (i % cols) * scale;
    const y = Math.floor(i / cols) * scale;
    lit.push({ x, x2: x + scale, y, y2: y + scale, value });
  }
  return lit;
}

/** What a confusion matrix's cells say: the fraction of each true class (recall) or the number of images. */
export type ConfusionValues = 'recall' | 'counts';

/**
 * confusion[true][predicted]: each cell coloured by its share of the true
 * class's images (recall, row-normalised) and labelled with that share or,
 * with `values: 'counts'`, with the number of images. The colour means the
 * same in both, so the two pictures compare cell for cell.
 */
export function confusionHeatmap(confusion: number[][], values: ConfusionValues = 'recall'): TopLevelSpec {
  const recall = normalizeRows(confusion);
  const classes = confusion.map((_, c) => c);
  const total = confusion.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  const cell = 34;
  const counts = values === 'counts';
  return {
    title: counts ? `Confusion matrix: number of images (${total} in all), coloured by recall` : 'Confusion matrix, normalised by row (recall)',
    width: cell * classes.length,
    height: cell * classes.length,
    data: {
      values: confusion.flatMap((row, truth) => row.map((count, predicted) => ({ truth, predicted, count, recall: recall[truth]![predicted]! }))),
    },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', title: 'predicted', scale: { domain: classes }, axis: { labelAngle: 0 } },
      y: { field: 'truth', type: 'ordinal', title: 'true', scale: { domain: classes } },
    },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: { field: 'recall', type: 'quantitative', title: 'recall', scale: { domain: [0, 1], scheme: 'blues' } },
          tooltip: [{ field: 'truth', title: 'true' }, { field: 'predicted' }, { field: 'count', title: 'images' }, { field: 'recall', format: '.3f' }],
        },
      },
      {
        mark: { type: 'text', fontSize: counts ? 9 : 10 },
        encoding: {
          text: counts ? { field: 'count', type: 'quantitative', format: 'd' } : { field: 'recall', type: 'quantitative', format: '.2f' },
          color: { condition: { test: 'datum.recall > 0.55', value: 'white' }, value: '#222' },
        },
      },
    ],
    config,
  };
}

/** One run's history, named as the comparison's legend shows it. */
export interface ComparedRun {
  label: string;
  history: HistoryJson;
}

/**
 * Several runs' curves of one metric (e.g. val_accuracy) per epoch on one
 * plot, one colour per run: ids, sweep cells or seeds side by side.
 */
export function compareCurves(runs: readonly ComparedRun[], metric: string, title?: string): TopLevelSpec {
  const labels = runs.map((r) => r.label);
  if (new Set(labels).size !== labels.length) throw new Error(`compareCurves: run labels must differ (${labels.join(', ')}).`);
  return {
    title: title ?? `${metric} per epoch of ${runs.length} run${runs.length === 1 ? '' : 's'}`,
    width: 560,
    height: 300,
    data: { values: runs.flatMap((run) => series(run.history, metric, { run: run.label })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: epochAxis,
      y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'run', sort: labels, scale: { scheme: labels.length > 10 ? 'tableau20' : 'tableau10' } },
      tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'value', title: metric, format: '.4f' }],
    },
    config,
  };
}

/** Images per class in the training and test sets, as fractions of each set, side by side. */
export function classDistribution(train: number[], test: number[]): TopLevelSpec {
  const rows = (counts: number[], set: string) => {
    const total = counts.reduce((a, b) => a + b, 0);
    return counts.map((count, c) => ({ class: c, set, count, fraction: total ? count / total : 0 }));
  };
  const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  return {
    title: `Class distribution: fraction of each set's images (train ${total(train)}, test ${total(test)})`,
    width: 420,
    height: 200,
    data: { values: [...rows(train, 'train'), ...rows(test, 'test')] },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'class', type: 'ordinal', title: 'class', axis: { labelAngle: 0 } },
      xOffset: { field: 'set', type: 'nominal', scale: { domain: ['train', 'test'] } },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of the set', axis: { format: '.0%' } },
      color: { field: 'set', type: 'nominal', title: null, scale: { domain: ['train', 'test'], range: ['#1f77b4', '#2ca02c'] } },
    },
    config,
  };
}

/** A cell's name as the charts show it: the best one is marked. */
function cellLabel(sweep: SweepResult, cell: SweepCell): string {
  return cell.name === sweep.best ? `${cell.name} (best)` : cell.name;
}

/**
 * A sweep's pictures. `grid`: one small learning curve (accuracy and
 * val_accuracy per epoch) per cell, 4 to a row; `compare`: every cell's
 * val_accuracy on one plot, the best cell drawn thicker.
 */
export function sweepCurves(sweep: SweepResult): { grid: TopLevelSpec; compare: TopLevelSpec } {
  const labels = sweep.cells.map((cell) => cellLabel(sweep, cell));
  const metrics = ['accuracy', 'val_accuracy'];
  const grid: TopLevelSpec = {
    title: `${sweep.id}: accuracy per epoch of each cell`,
    data: {
      values: sweep.cells.flatMap((cell) =>
        metrics.flatMap((metric) => series(cell.result.history, metric, { cell: cellLabel(sweep, cell), metric })),
      ),
    },
    columns: 4,
    facet: { field: 'cell', type: 'nominal', title: null, sort: labels, header: { labelFontSize: 11 } },
    spec: {
      width: 170,
      height: 110,
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: epochAxis,
        y: { field: 'value', type: 'quantitative', title: 'accuracy', scale: { zero: false } },
        color: { field: 'metric', type: 'nominal', title: null, scale: { domain: metrics, range: splits.range } },
      },
    },
    config,
  };
  const compare: TopLevelSpec = {
    title: `${sweep.id}: validation accuracy of every cell (best: ${sweep.best}, thick line)`,
    width: 520,
    height: 300,
    data: {
      values: sweep.cells.flatMap((cell) =>
        series(cell.result.history, 'val_accuracy', { cell: cellLabel(sweep, cell), role: cell.name === sweep.best ? 'best' : 'other' }),
      ),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: epochAxis,
      y: { field: 'value', type: 'quantitative', title: 'val_accuracy', scale: { zero: false } },
      color: { field: 'cell', type: 'nominal', title: 'cell', sort: labels, scale: { scheme: labels.length > 10 ? 'tableau20' : 'tableau10' } },
      strokeWidth: { field: 'role', type: 'ordinal', legend: null, scale: { domain: ['best', 'other'], range: [3.5, 1.5] } },
    },
    config,
  };
  return { grid, compare };
}

/**
 * The seed spread of one id: a band over [min, max] of its seeds' test
 * accuracies, each seed a dot, the mean a black tick, and the notebook's
 * number a red diamond on the same axis over a red bar: the accuracies that
 * print as its number (0.92: 0.915–0.925).
 */
export function seedBand(spread: SeedSpread): TopLevelSpec {
  const seeds = spread.seeds.map((seed, i) => ({ seed: `seed ${seed}`, accuracy: spread.accuracies[i]! }));
  const interval = spread.reportedInterval;
  const values = [spread.min, spread.max, spread.mean, ...(interval ?? [])];
  const pad = Math.max(0.002, (Math.max(...values) - Math.min(...values)) * 0.15);
  const domain = [Math.max(0, Math.min(...values) - pad), Math.min(1, Math.max(...values) + pad)];
  const x = { field: 'accuracy', type: 'quantitative', title: 'test accuracy', scale: { domain, zero: false } } as const;
  const layers: LayerSpec<string> | UnitSpec<string> = {
    layer: [
      {
        data: { values: [{ min: spread.min, max: spread.max }] },
        mark: { type: 'rect', color: '#4a90d9', opacity: 0.3 },
        encoding: {
          x: { field: 'min', type: 'quantitative', scale: { domain, zero: false }, title: 'test accuracy' }, x2: { field: 'max' },
          y: { value: 17 }, y2: { value: 43 },
        },
      },
      {
        data: { values: seeds },
        mark: { type: 'point', filled: true, size: 60, color: '#1f4e89' },
        encoding: { x, tooltip: [{ field: 'seed' }, { field: 'accuracy', format: '.4f' }] },
      },
      {
        data: { values: [{ accuracy: spread.mean }] },
        mark: { type: 'tick', color: 'black', thickness: 2, size: 30 },
        encoding: { x },
      },
      ...(spread.reported === null || interval === null ? [] : [{
        // What the notebook's printed digits allow: a red bar from the lowest to the highest accuracy that prints as its number.
        data: { values: [{ lo: interval[0], hi: interval[1] }] },
        mark: { type: 'rect', color: WRONG, opacity: 0.35 },
        encoding: {
          x: { field: 'lo', type: 'quantitative', scale: { domain, zero: false }, title: 'test accuracy' }, x2: { field: 'hi' },
          y: { value: 26 }, y2: { value: 34 },
        },
      } as UnitSpec<string>, {
        data: { values: [{ accuracy: spread.reported, what: 'notebook' }] },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 140, color: WRONG },
        encoding: { x },
      } as UnitSpec<string>, {
        data: { values: [{ accuracy: spread.reported, text: `notebook ${spread.reported}` }] },
        mark: { type: 'text', dy: -20, color: WRONG, fontSize: 11 },
        encoding: { x, text: { field: 'text' } },
      } as UnitSpec<string>]),
    ],
  } as LayerSpec<string>;
  return {
    title: {
      text: `${spread.id}: test accuracy of ${spread.seeds.length} seeds`,
      subtitle: `band: lowest to highest seed; dots: the seeds; tick: their mean${spread.reported === null ? '' : '; red diamond: the notebook, red bar: what its printed digits allow'}`,
    },
    width: 520,
    height: 60,
    ...layers,
    config,
  } as TopLevelSpec;
}

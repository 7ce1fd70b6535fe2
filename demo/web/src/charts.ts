/**
 * The page's charts: vega-lite specs drawn by vega-embed. The final pictures
 * reuse the Node report's specs (src/report/charts.ts); the live learning
 * curves, the histograms of the step view and the kernel timings are here.
 */
import embed, { type Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

const config = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 11 },
  legend: { labelFontSize: 11 },
} as const;

const views = new WeakMap<HTMLElement, Result>();

/** Draws `spec` into `element`, replacing (and finalising) what was drawn there. */
export async function draw(element: HTMLElement, spec: TopLevelSpec, renderer: 'svg' | 'canvas' = 'svg'): Promise<Result> {
  views.get(element)?.finalize();
  // The mode is said, not guessed: vega-embed takes a spec whose top level is `concat` for plain Vega.
  const result = await embed(element, spec, { actions: false, renderer, mode: 'vega-lite' });
  views.set(element, result);
  return result;
}

export interface CurvePoint {
  /** Epochs done, fractional within an epoch. */
  epoch: number;
  metric: 'loss' | 'accuracy';
  split: 'train' | 'validation';
  value: number;
}

/**
 * Loss and accuracy against epochs: every few steps, the training mean over
 * the steps since the previous point (not the epoch's running mean, which
 * starts again at each epoch), and the validation value at the end of each epoch. Drawn with the first
 * points (an empty chart has no scales); later ones are streamed into the
 * data set named 'points'.
 */
export function liveCurvesSpec(initial: CurvePoint[]): TopLevelSpec {
  const panel = (metric: 'loss' | 'accuracy') => ({
    title: metric,
    width: 300,
    height: 190,
    transform: [{ filter: `datum.metric === '${metric}'` }],
    mark: { type: 'line' as const, point: { size: 18 } },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epochs', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative' as const, title: metric, scale: { zero: false } },
      color: {
        field: 'split', type: 'nominal' as const, title: null,
        scale: { domain: ['train', 'validation'], range: ['#1f77b4', '#ff7f0e'] },
      },
    },
  });
  return { data: { name: 'points', values: initial }, hconcat: [panel('loss'), panel('accuracy')], config };
}

/** Adds points to a chart drawn from liveCurvesSpec. */
export async function addPoints(result: Result, points: CurvePoint[]): Promise<void> {
  await result.view.insert('points', points).runAsync();
}

export interface Bin {
  start: number;
  end: number;
  count: number;
}

/**
 * About `bins` equal bins over [min, max] of the values (one bin when they are
 * all equal). With `zeroEdge`, where the values have both signs, 0 is an edge
 * between two bins, so that no bin holds both signs.
 */
export function histogram(values: ArrayLike<number>, bins = 40, zeroEdge = false): Bin[] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return [{ start: min, end: min === max ? max : 0, count: values.length }];
  const width = (max - min) / bins;
  const start = zeroEdge && min < 0 && max > 0 ? Math.floor(min / width) * width : min;
  const n = Math.max(1, Math.ceil((max - start) / width - 1e-9));
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) counts[Math.max(0, Math.min(n - 1, Math.floor((values[i]! - start) / width)))]!++;
  return counts.map((count, b) => ({ start: start + b * width, end: start + (b + 1) * width, count }));
}

/** One colour, or colours by sign (a bin by the sign of its middle, a bar by its value's). */
export type Colours = string | { positive: string; negative: string };

function colourEncoding(colours: Colours, test: string) {
  return typeof colours === 'string'
    ? { value: colours }
    : { condition: { test, value: colours.negative }, value: colours.positive };
}

export function histogramSpec(bins: Bin[], colours: Colours): TopLevelSpec {
  return {
    width: 260,
    height: 110,
    data: { values: bins },
    mark: { type: 'bar', binSpacing: 0 },
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: null, axis: { format: '.2~g', labelFlush: true, tickCount: 5 } },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: 'count', axis: { tickCount: 4 } },
      color: colourEncoding(colours, 'datum.start + datum.end < 0'),
      tooltip: [{ field: 'start', format: '.3~g' }, { field: 'end', format: '.3~g' }, { field: 'count' }],
    },
    config,
  };
}

/** A small vector (a bias or its gradient) as one bar per index. */
export function vectorSpec(values: ArrayLike<number>, colours: Colours): TopLevelSpec {
  return {
    width: Math.max(120, Math.min(420, values.length * 14)),
    height: 110,
    data: { values: Array.from(values, (value, index) => ({ index, value })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'index', type: 'ordinal', title: 'unit', axis: { labelAngle: 0, labelOverlap: true } },
      y: { field: 'value', type: 'quantitative', title: null, axis: { format: '.2~g', tickCount: 4 } },
      color: colourEncoding(colours, 'datum.value < 0'),
      tooltip: [{ field: 'index' }, { field: 'value', format: '.4~g' }],
    },
    config,
  };
}

/** GPU time of each dispatch of one training step, in step order. */
export function timingSpec(rows: { index: number; label: string; microseconds: number }[]): TopLevelSpec {
  const labels = rows.map((r) => `${r.index + 1}. ${r.label}`);
  return {
    title: { text: 'GPU time per dispatch in one training step (µs)', anchor: 'start', fontSize: 13 },
    width: 520,
    height: { step: 16 },
    data: { values: rows.map((r, i) => ({ ...r, name: labels[i] })) },
    mark: { type: 'bar', color: '#1f6feb' },
    encoding: {
      y: { field: 'name', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 320 } },
      x: { field: 'microseconds', type: 'quantitative', title: 'µs' },
      tooltip: [{ field: 'name', title: 'dispatch' }, { field: 'microseconds', title: 'µs', format: '.1f' }],
    },
    config,
  };
}

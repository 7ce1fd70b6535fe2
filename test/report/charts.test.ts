import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { bestEpoch, classDistribution, compareCurves, confusionHeatmap, GRID_GAP, imageGrid, learningCurves, stepCurves, sweepCurves } from '../../src/report/charts.js';
import { renderSvg } from '../../src/report/render.js';
import { classicResult, history, ringImage, runResult, SHAPE, sweepResult } from './fixtures.js';

/** The inner text of every <text> in the mark groups whose class starts with `markClass`, in order. */
function texts(svg: string, markClass: string): string[] {
  // A title of several lines is one <text> of <tspan>s: its lines joined by ' / '.
  return groups(svg, markClass).flatMap((g) => [...g.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1]!.replace(/<\/tspan><tspan[^>]*>/g, ' / ').replace(/<[^>]+>/g, '')));
}

/** The contents of each `<g class="<markClass>...">` mark group (vega nests no groups inside mark groups of leaf marks). */
function groups(svg: string, markClass: string): string[] {
  return [...svg.matchAll(new RegExp(`<g class="${markClass}[^"]*"[^>]*>(.*?)</g>`, 'g'))].map((m) => m[1]!);
}

const count = (text: string, part: string) => text.split(part).length - 1;


/**
 * Every title of an image grid as its box on the page: the <text>'s absolute
 * position (the sum of its groups' translations) and a width that no
 * Helvetica/Arial string of that many characters exceeds at its font size
 * (0.65 em a character; digits are 0.556 em, lower-case letters at most 0.61,
 * bold about 5 % wider), one line per <tspan>.
 */
function titleBoxes(svg: string): { text: string; x0: number; x1: number; y0: number; y1: number }[] {
  const boxes = [];
  const stack: [number, number][] = [[0, 0]];
  for (const m of svg.matchAll(/<g\b[^>]*>|<\/g>|<text\b([^>]*)>(.*?)<\/text>/g)) {
    const tag = m[0];
    if (tag === '</g>') {
      stack.pop();
      continue;
    }
    const translate = /transform="translate\(([-\d.]+),([-\d.]+)\)"/.exec(tag.startsWith('<text') ? m[1]! : tag);
    const [px, py] = stack[stack.length - 1]!;
    const [x, y] = translate ? [px + Number(translate[1]), py + Number(translate[2])] : [px, py];
    if (tag.startsWith('<g')) {
      stack.push([x, y]);
      continue;
    }
    const lines = [...m[2]!.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]!);
    if (!lines.length) lines.push(m[2]!);
    const size = Number(/font-size="([\d.]+)px"/.exec(m[1]!)?.[1] ?? 10);
    if (!/text-anchor="start"/.test(m[1]!) || size !== 10) continue;
    const width = Math.max(...lines.map((l) => l.length)) * 0.65 * size;
    boxes.push({ text: lines.join(' / '), x0: x, x1: x + width, y0: y - size, y1: y + (lines.length - 1) * 12 + 3 });
  }
  return boxes;
}

describe('image grid captions', () => {
  it('never overlap: "label L" over "predicted P", also with named classes', async () => {
    const images = Array.from({ length: 25 }, (_, i) => ({ index: i, label: i % 10, predicted: (i * 7 + 3) % 10, pixels: ringImage(i % 10) }));
    for (const options of [{}, { classNames: ['not 5', '5'] as string[] }]) {
      const shown = options.classNames ? images.map((im) => ({ ...im, label: im.label % 2, predicted: im.predicted % 2 })) : images;
      const boxes = titleBoxes(await renderSvg(imageGrid(shown, SHAPE, 'grid', options)));
      expect(boxes).toHaveLength(25);
      expect(boxes.every((b) => b.text.startsWith('label ') && b.text.includes(' / predicted '))).toBe(true);
      for (const a of boxes) {
        for (const b of boxes) {
          if (a === b) continue;
          const overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
          expect(overlap, `"${a.text}" at ${a.x0.toFixed(0)},${a.y0.toFixed(0)} and "${b.text}" at ${b.x0.toFixed(0)},${b.y0.toFixed(0)}`).toBe(false);
        }
      }
      // Five columns, GRID_GAP apart: every caption fits its column and gap.
      const columns = [...new Set(boxes.map((b) => b.x0))].sort((p, q) => p - q);
      expect(columns).toHaveLength(5);
      expect(columns[1]! - columns[0]!).toBe(84 + GRID_GAP);
    }
  });
});

describe('report charts', () => {
  // vega-lite reports spec mistakes (unknown channels, bad scale types, ...) as warnings: there must be none.
  let warn: MockInstance;
  beforeEach(() => {
    warn = vi.spyOn(console, 'warn');
  });
  afterEach(() => {
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('finds the best epoch by val_loss, else by loss (1-based)', () => {
    expect(bestEpoch(history({ loss: [3, 2, 1], val_loss: [0.8, 0.45, 0.5] }))).toEqual({ index: 1, epoch: 2, metric: 'val_loss' });
    expect(bestEpoch(history({ loss: [3, 2, 1] }))).toEqual({ index: 2, epoch: 3, metric: 'loss' });
    expect(bestEpoch({ epoch: [], history: {} })).toBeUndefined();
  });

  it('draws learning curves with train and validation lines and the best epoch labelled', async () => {
    const svg = await renderSvg(learningCurves(runResult()));
    expect(svg.startsWith('<svg')).toBe(true);
    // Two panels, each with a train and a validation line; val_loss [0.8, 0.45, 0.5] is lowest at epoch 2.
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(4);
    expect(count(svg, 'best epoch 2')).toBe(2);
    expect(svg).toContain('s001-dense: learning curves (best epoch by val_loss)');
    for (const legend of ['train', 'validation']) expect(texts(svg, 'mark-text role-legend-label')).toContain(legend);
  });

  it('marks the lowest loss when there is no validation', async () => {
    const svg = await renderSvg(learningCurves(runResult({ history: history({ loss: [0.9, 0.5, 0.6, 0.7], accuracy: [0.5, 0.6, 0.7, 0.8] }) })));
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(2);
    expect(svg).toContain('best epoch 2');
    expect(svg).toContain('(best epoch by loss)');
  });

  it('draws a 5×5 image grid: titles, red titles for mistakes, one rect per lit pixel', async () => {
    const images = runResult().samples!.first;
    const svg = await renderSvg(imageGrid(images, SHAPE, 'The first 25'));
    const titles = texts(svg, 'mark-text role-title-text');
    expect(titles).toHaveLength(26);
    expect(titles).toContain('The first 25');
    expect(titles.filter((t) => t !== 'The first 25')).toEqual(images.map((im) => `label ${im.label} / predicted ${im.predicted}`));
    // Every 7th sample is wrong: images 0, 7, 14 and 21 of the first 25.
    const wrong = images.filter((im) => im.label !== im.predicted).length;
    expect(wrong).toBe(4);
    expect(count(svg, 'fill="#c62828"')).toBe(wrong);

    const rects = groups(svg, 'mark-rect role-mark');
    expect(rects).toHaveLength(25);
    rects.forEach((group, i) => {
      expect(count(group, '<path')).toBe(images[i]!.pixels.filter((v) => v > 0).length);
    });
    // Integer squares, 3 px per pixel, in grey; the centre dot (255) is black, at (14·3, 14·3).
    expect(rects[0]).toMatch(/^<path d="M\d+,\d+h3v3h-3Z" fill="rgb\((\d+), \1, \1\)"\/>/);
    expect(rects[0]!.includes('<path d="M42,42h3v3h-3Z" fill="rgb(0, 0, 0)"/>'), 'the centre dot is black').toBe(true);
  });

  it('names the classes of a binary task, and titles images by a caption of their own', async () => {
    const images = [{ index: 0, label: 1, predicted: 0, pixels: ringImage(1) }, { index: 1, label: 0, predicted: 0, pixels: ringImage(0) }];
    const named = texts(await renderSvg(imageGrid(images, SHAPE, 'binary', { classNames: ['not 5', '5'] })), 'mark-text role-title-text');
    expect(named.sort()).toEqual(['binary', 'label 5 / predicted not 5', 'label not 5 / predicted not 5']);
    const svg = await renderSvg(imageGrid(images, SHAPE, 'means', { caption: (im) => `mean of ${im.label}` }));
    expect(texts(svg, 'mark-text role-title-text').sort()).toEqual(['mean of 0', 'mean of 1', 'means']);
    // A caption is not a verdict: nothing is red.
    expect(count(svg, 'fill="#c62828"')).toBe(0);
  });

  it('draws gradient descent per step: train and test loss, test error, trials', async () => {
    const { steps } = classicResult();
    const svg = await renderSvg(stepCurves('s020-classic', steps!));
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(4);
    expect(svg).toContain('s020-classic: gradient descent, per step');
    for (const title of ['loss', 'test error', 'line-search trials']) expect(texts(svg, 'mark-text role-title-text')).toContain(title);
    for (const legend of ['train', 'test']) expect(texts(svg, 'mark-text role-legend-label')).toContain(legend);
  });

  it('rejects images of the wrong size', () => {
    expect(() => imageGrid([{ index: 0, label: 1, predicted: 1, pixels: ringImage(1).slice(1) }], SHAPE, 'x')).toThrow(/783 pixels, not 28×28/);
  });

  it('draws the confusion matrix normalised by row, with each value in its cell', async () => {
    const result = runResult();
    const svg = await renderSvg(confusionHeatmap(result.confusion));
    // Cells in row-major order (true, predicted). Class 0: samples 0, 10, ..., 990, wrong when also a multiple of 7
    // (0, 70, ..., 980: 15 of 100); class 3: 63, 133, ..., 973 (14 of 100), predicted as 4.
    const cells = texts(svg, 'mark-text role-mark');
    expect(cells).toHaveLength(100);
    expect(cells[0]).toBe('0.85');
    expect(cells[1]).toBe('0.15');
    expect(cells[3 * 10 + 3]).toBe('0.86');
    expect(cells[3 * 10 + 4]).toBe('0.14');
    expect(cells[5]).toBe('0.00');
    expect(count(groups(svg, 'mark-rect role-mark')[0]!, '<path')).toBe(100);
    const axisTitles = texts(svg, 'mark-text role-axis-title');
    expect(axisTitles).toEqual(expect.arrayContaining(['true', 'predicted']));
  });

  it('draws the confusion matrix with counts, coloured as with recall', async () => {
    const result = runResult();
    const svg = await renderSvg(confusionHeatmap(result.confusion, 'counts'));
    const cells = texts(svg, 'mark-text role-mark');
    expect(cells).toHaveLength(100);
    expect(cells.map(Number)).toEqual(result.confusion.flat());
    expect(cells.map(Number).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(svg).toContain('number of images (1000 in all)');
    // The same colours as the recall picture, cell for cell.
    const fills = (s: string) => [...groups(s, 'mark-rect role-mark')[0]!.matchAll(/fill="([^"]+)"/g)].map((m) => m[1]);
    expect(fills(svg)).toEqual(fills(await renderSvg(confusionHeatmap(result.confusion))));
  });

  it('compares several runs\' curves of one metric on one plot', async () => {
    const runs = [1, 2, 3].map((seed) => ({ label: `s001-dense seed ${seed}`, history: history({ loss: [1, 0.5], val_accuracy: [0.8 + seed / 100, 0.9 + seed / 100] }) }));
    const svg = await renderSvg(compareCurves(runs, 'val_accuracy'));
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(3);
    expect(texts(svg, 'mark-text role-legend-label')).toEqual(runs.map((r) => r.label));
    expect(svg).toContain('val_accuracy per epoch of 3 runs');
    expect(() => compareCurves([runs[0]!, runs[0]!], 'loss')).toThrow(/labels must differ/);
  });

  it('draws the class distribution as grouped bars of fractions', async () => {
    const { train, test } = runResult().classDistribution;
    const svg = await renderSvg(classDistribution(train, test));
    expect(svg).toContain('Class distribution: fraction of each set');
    expect(count(groups(svg, 'mark-rect role-mark')[0]!, '<path')).toBe(20);
    expect(texts(svg, 'mark-text role-legend-label')).toEqual(['train', 'test']);
  });

  it('draws a sweep as a grid of small curves and one comparison plot', async () => {
    const sweep = sweepResult();
    const { grid, compare } = sweepCurves(sweep);
    const gridSvg = await renderSvg(grid);
    const labels = sweep.cells.map((c) => (c.name === sweep.best ? `${c.name} (best)` : c.name));
    expect(texts(gridSvg, 'mark-text role-title-text')).toEqual(expect.arrayContaining(labels));
    // Four cells × (accuracy, val_accuracy).
    expect(count(gridSvg, 'aria-roledescription="line mark"')).toBe(8);

    const compareSvg = await renderSvg(compare);
    expect(count(compareSvg, 'aria-roledescription="line mark"')).toBe(4);
    expect(compareSvg).toContain('best: lr=0.1 init=xavier, thick line');
    expect(texts(compareSvg, 'mark-text role-legend-label')).toEqual(labels);
  });
});

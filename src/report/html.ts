/**
 * The report folder of a run: one folder per result with its pictures (SVG)
 * and report.json, and a self-contained index.html that embeds every picture
 * as a data: URI, so the page opens offline and can be passed around alone.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ClassicResult, ExperimentResult, HistoryJson, RunReport, RunResult, SampleImage, SweepCell, SweepResult } from '../experiments/result.js';
import { formatClassificationReport } from '../metrics/classification.js';
import { getPlatform } from '../platform/platform.js';
import { describeReported, type SeedSpread } from '../experiments/seeds.js';
import { bestEpoch, classDistribution, confusionHeatmap, imageGrid, learningCurves, seedBand, stepCurves, sweepCurves } from './charts.js';
import { renderSvg } from './render.js';

export const QUICK_BANNER = 'QUICK MODE: fewer samples and epochs — not comparable with the notebooks';

/** A rendered picture, by name: written to `<id>/<name>.svg` and embedded in the page. */
interface Picture {
  alt: string;
  svg: string;
}

/**
 * Writes `dir/<id>/*.svg`, `dir/<id>/report.json` for every result and
 * `dir/index.html`, each file atomically. Returns the page's path and every
 * file written.
 */
export async function writeReport(dir: string, report: RunReport): Promise<{ index: string; files: string[] }> {
  const platform = await getPlatform();
  const files: string[] = [];
  const write = async (path: string, text: string) => {
    await platform.writeFileAtomic(path, text);
    files.push(path);
  };
  checkIds(report.results);
  await platform.mkdirp(dir);

  const sections: string[] = [];
  for (const result of report.results) {
    const folder = platform.joinPath(dir, result.id);
    await platform.mkdirp(folder);
    const pictures = result.kind === 'run' ? await runPictures(result) : result.kind === 'sweep' ? await sweepPictures(result) : await classicPictures(result);
    const spread = spreadOf(report, result.id);
    if (spread) pictures.set('seeds', (await render('seeds', seedAlt(spread), seedBand(spread)))[1]);
    for (const [name, picture] of pictures) await write(platform.joinPath(folder, `${name}.svg`), picture.svg);
    await write(platform.joinPath(folder, 'report.json'), JSON.stringify(result));
    if (spread) await write(platform.joinPath(folder, 'seeds.json'), JSON.stringify(spread));
    const section = result.kind === 'run' ? runSection(result, pictures) : result.kind === 'sweep' ? sweepSection(result, pictures) : classicSection(result, pictures);
    // The seed spread goes right under the section's heading and source line.
    sections.push(spread ? section.replace(/(<\/p>\n)/, `$1${spreadSection(spread, pictures)}\n`) : section);
  }

  const index = platform.joinPath(dir, 'index.html');
  await write(index, page(report, sections));
  return { index, files };
}

/** Ids name folders and anchors: plain file-name characters, each once. */
function checkIds(results: ExperimentResult[]): void {
  const seen = new Set<string>();
  for (const { id } of results) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) throw new Error(`writeReport: id '${id}' is not a plain folder name (letters, digits, . _ -).`);
    if (seen.has(id)) throw new Error(`writeReport: id '${id}' appears twice in the report.`);
    seen.add(id);
  }
}

// ---------------------------------------------------------------- pictures

async function render(name: string, alt: string, spec: TopLevelSpec): Promise<[string, Picture]> {
  return [name, { alt, svg: await renderSvg(spec) }];
}

/** The two image grids of a run, where it kept sample images (none drawn for an empty list). */
async function samplePictures(result: RunResult | ClassicResult): Promise<[string, Picture][]> {
  const pictures: [string, Picture][] = [];
  if (!result.samples) return pictures;
  const { first, mislabelled } = result.samples;
  const classNames = result.kind === 'classic' ? result.classNames : undefined;
  const grid = (images: SampleImage[], title: string) =>
    imageGrid(images, result.imageShape, `${result.id}: ${title}`, classNames ? { classNames } : {});
  const alt = `each titled with its label and the model's prediction (${result.id}).`;
  if (first.length) {
    const what = `the first ${first.length} test images`;
    pictures.push(await render('first-25', `Grid of ${what}, ${alt}`, grid(first, what)));
  }
  if (mislabelled.length) {
    const what = `the first ${mislabelled.length} test images the model got wrong`;
    pictures.push(await render('mislabelled-25', `Grid of ${what}, ${alt}`, grid(mislabelled, what)));
  }
  return pictures;
}

/** The confusion matrix twice: each cell's recall, and each cell's number of images (coloured alike). */
async function confusionPictures(result: RunResult | ClassicResult): Promise<[string, Picture][]> {
  return [
    await render('confusion', `Confusion matrix of ${result.id} on the test set, normalised by row (recall), with each cell's value.`, confusionHeatmap(result.confusion)),
    await render('confusion-counts', `Confusion matrix of ${result.id} on the test set: the number of images in each cell, coloured by recall.`, confusionHeatmap(result.confusion, 'counts')),
  ];
}

async function runPictures(result: RunResult): Promise<Map<string, Picture>> {
  const best = bestEpoch(result.history);
  return new Map([
    await render('learning-curves', `Learning curves of ${result.id}: loss and accuracy per epoch, training and validation${best ? `; best epoch ${best.epoch} by ${best.metric}` : ''}.`, learningCurves(result)),
    ...(await confusionPictures(result)),
    await render('class-distribution', `Fraction of the training and test images in each class for ${result.id}.`, classDistribution(result.classDistribution.train, result.classDistribution.test)),
    ...(await samplePictures(result)),
  ]);
}

async function sweepPictures(sweep: SweepResult): Promise<Map<string, Picture>> {
  const { grid, compare } = sweepCurves(sweep);
  return new Map([
    await render('sweep-grid', `Training and validation accuracy per epoch of each of the ${sweep.cells.length} cells of ${sweep.id}.`, grid),
    await render('sweep-compare', `Validation accuracy per epoch of every cell of ${sweep.id} on one plot; the best cell, ${sweep.best}, is drawn thicker.`, compare),
    ...(await samplePictures(bestCell(sweep).result)),
  ]);
}

async function classicPictures(result: ClassicResult): Promise<Map<string, Picture>> {
  const pictures = new Map<string, Picture>();
  const add = ([name, picture]: [string, Picture]) => pictures.set(name, picture);
  if (result.steps) {
    add(await render('steps', `Gradient descent of ${result.id} per step: training and test loss, test error, and line-search trials.`, stepCurves(result.id, result.steps)));
  }
  if (result.means) {
    const images = result.means.map((pixels, k): SampleImage => ({ index: k, label: k, predicted: k, pixels: pixels.map((v) => Math.round(v)) }));
    add(await render('means', `The ${images.length} class means of ${result.id}, one image per digit.`,
      imageGrid(images, result.imageShape, `${result.id}: the mean image of each class`, { caption: (image) => `mean of ${image.label}` })));
  }
  for (const entry of await confusionPictures(result)) add(entry);
  add(await render('class-distribution', `Fraction of the training and test images in each class for ${result.id}.`, classDistribution(result.classDistribution.train, result.classDistribution.test)));
  for (const entry of await samplePictures(result)) add(entry);
  return pictures;
}

/** The spread of `id` over its seeds, where the run had --seeds N > 1. */
function spreadOf(report: RunReport, id: string): SeedSpread | undefined {
  return report.spreads?.find((s) => s.id === id);
}

function seedAlt(spread: SeedSpread): string {
  return `Test accuracy of ${spread.id} for each of its ${spread.seeds.length} seeds, the band from the lowest to the highest, ` +
    `the mean marked${spread.reported === null ? '' : `, and the ${describeReported(spread.reported)} on the same axis`}.`;
}

/** "yes" / "no" / "—": whether the notebook's number, as printed, lies in [min, max] of the seeds. */
function inRange(spread: SeedSpread): string {
  return spread.notebookInRange === null ? '—' : spread.notebookInRange ? 'yes' : 'no';
}

function spreadSection(spread: SeedSpread, pictures: Map<string, Picture>): string {
  const rows = spread.results.map((r) => [
    String(r.seed), r.test.accuracy.toFixed(4), r.test.loss === null ? '—' : fixed(r.test.loss),
    r.kind === 'sweep' ? escapeHtml(r.best) : '—', duration(r.seconds),
  ]);
  const twoSd = spread.notebookWithinTwoSd === null ? '' : ` (within mean ± 2 sd: ${spread.notebookWithinTwoSd ? 'yes' : 'no'})`;
  return `<div class="seeds">
<h3>Seed spread</h3>
<p>${spread.seeds.length} seeds: mean <b>${spread.mean.toFixed(4)}</b>, standard deviation ${spread.sd.toFixed(4)} (sample, n − 1),
range ${spread.min.toFixed(4)}–${spread.max.toFixed(4)}.${spread.reported === null ? '' : ` The ${describeReported(spread.reported)} lies ${spread.notebookInRange ? 'inside' : 'outside'} the range of the seeds${twoSd}; difference of the mean ${pointsDifference(spread.mean, spread.reported)} points.`}
The sections below show seed ${spread.seeds[0]}; <a href="${spread.id}/seeds.json">seeds.json</a> holds every seed's result.</p>
${figure(pictures.get('seeds'))}
${table(['seed', 'test accuracy', 'test loss', 'best cell', 'wall time'], rows)}
</div>`;
}

function bestCell(sweep: SweepResult): SweepCell {
  const cell = sweep.cells.find((c) => c.name === sweep.best);
  if (!cell) throw new Error(`writeReport: the best cell '${sweep.best}' of ${sweep.id} is not among its cells.`);
  return cell;
}

// ---------------------------------------------------------------- formatting

/** Text → HTML text or attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** (ours − reported) × 100 with its sign, e.g. "+1.23" or "-0.40"; "—" where the notebook reported nothing. */
export function pointsDifference(ours: number, reported: number | null): string {
  if (reported === null) return '—';
  const points = Math.round((ours - reported) * 10000) / 100;
  return `${points > 0 ? '+' : points < 0 ? '-' : '±'}${Math.abs(points).toFixed(2)}`;
}

/** Seconds as "42.1 s", "3 min 07 s" or "2 h 05 min". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Base64 of the UTF-8 bytes of `text` (btoa takes only Latin-1). */
function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function figure(picture: Picture | undefined): string {
  if (!picture) return '';
  return `<figure><img src="data:image/svg+xml;base64,${base64(picture.svg)}" alt="${escapeHtml(picture.alt)}"></figure>`;
}

function table(head: string[], rows: string[][], rowAttributes: string[] = []): string {
  const th = head.map((h) => `<th>${h}</th>`).join('');
  const tr = rows.map((cells, i) => `<tr${rowAttributes[i] ?? ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${tr}\n</tbody>\n</table>`;
}

const last = (values: number[] | undefined) => values?.[values.length - 1];
const fixed = (value: number | undefined, digits = 4) => (value === undefined ? '—' : value.toFixed(digits));

// ---------------------------------------------------------------- page

function page(report: RunReport, sections: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shaderprop report, ${escapeHtml(report.started)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>shaderprop run report</h1>
${report.quick ? `<p class="banner">${escapeHtml(QUICK_BANNER)}</p>` : ''}
<dl class="meta">
<dt>started</dt><dd>${escapeHtml(report.started)}</dd>
<dt>command</dt><dd><code>${escapeHtml(report.command)}</code></dd>
<dt>adapter</dt><dd>${escapeHtml(report.adapter)}</dd>
</dl>
</header>
<main>
${summarySection(report)}
${sections.join('\n')}
</main>
</body>
</html>
`;
}

function summarySection(report: RunReport): string {
  const seeded = !!report.spreads?.length;
  const rows = report.results.map((r) => {
    const spread = spreadOf(report, r.id);
    const diff = pointsDifference(spread ? spread.mean : r.test.accuracy, r.reported);
    const sign = diff.startsWith('+') ? 'better' : diff.startsWith('-') ? 'worse' : '';
    return [
      `<a href="#result-${r.id}">${escapeHtml(r.id)}</a>`,
      escapeHtml(r.kind === 'sweep' ? `${r.title} (sweep of ${cellCount(r)}; best ${r.best})` : r.title),
      r.kind === 'run' ? escapeHtml(r.optimizer) : r.kind === 'classic' ? 'classic' : '—',
      r.kind === 'run' ? String(r.epochs) : r.kind === 'sweep' ? String(bestCell(r).result.epochs) : r.steps ? `${r.steps.step.length} steps` : '—',
      escapeHtml(r.reportedText),
      spread ? `${spread.mean.toFixed(4)} ± ${spread.sd.toFixed(4)}<br><small>${spread.seeds.length} seeds, ${spread.min.toFixed(4)}–${spread.max.toFixed(4)}</small>` : r.test.accuracy.toFixed(4),
      sign ? `<span class="${sign}">${diff}</span>` : diff,
      ...(seeded ? [spread ? inRange(spread) : '—'] : []),
      duration(spread ? spread.results.reduce((t, x) => t + x.seconds, 0) : r.seconds),
      escapeHtml(r.adapter),
    ];
  });
  const head = ['id', 'model', 'optimizer', 'epochs', 'notebook', seeded ? 'ours (test accuracy; mean ± sd over seeds)' : 'ours (test accuracy)', 'difference (points)',
    ...(seeded ? ['notebook inside the seeds\' range [min, max]'] : []), 'wall time', 'adapter'];
  const skipped = report.skipped.length
    ? `<h3>Could not run</h3>\n<ul class="skipped">${report.skipped.map((s) => `<li><b>${escapeHtml(s.id)}</b>: ${escapeHtml(s.reason)}</li>`).join('')}</ul>`
    : '';
  const seedNote = seeded
    ? '<p>Where an id ran with several seeds, "ours" is the mean of their test accuracies ± their sample standard deviation, the difference is that of the mean, and the notebook\'s number is inside when it lies between the lowest and the highest seed, read with the decimals it was printed with: 0.92 stands for 0.915–0.925, so it is inside when a seed\'s accuracy would print as it (mean ± 2 sd is given in the id\'s section). The wall time is that of all its seeds.</p>'
    : '';
  return `<section id="summary">
<h2>Summary</h2>
${table(head, rows, report.results.map((r) => ` data-id="${escapeHtml(r.id)}"`))}
${seedNote}
${skipped}
</section>`;
}

/** The heading, notebook and note shared by runs and sweeps. */
function sectionHead(result: ExperimentResult): string {
  return `<h2>${escapeHtml(result.id)}: ${escapeHtml(result.title)}</h2>
<p class="source">Notebook <code>${escapeHtml(result.notebook)}</code> reported: ${escapeHtml(result.reportedText)}.
Ours: <b>${result.test.accuracy.toFixed(4)}</b> test accuracy${result.reported === null ? '' : ` (difference ${pointsDifference(result.test.accuracy, result.reported)} points)`}.
<a href="${result.id}/report.json">report.json</a></p>
${result.note ? `<p class="note"><b>Note:</b> ${escapeHtml(result.note)}</p>` : ''}`;
}

function runSection(result: RunResult, pictures: Map<string, Picture>): string {
  const best = result.best;
  const numbers: [string, string][] = [
    ['samples (train / validation / test)', `${result.trainSamples} / ${result.validationSamples} / ${result.testSamples}`],
    ...(result.validation ? [['model compared', result.validation === 'none'
      ? 'the last epoch\'s: no validation set (as in the notebook), so no best checkpoint is chosen'
      : `the last epoch's; the best by validation loss (on ${result.validation === 'test' ? 'the test set' : 'the held-out training images'}) is shown beside it`] as [string, string]] : []),
    ['batch size', String(result.batchSize)],
    ['epochs', String(result.epochs)],
    ['seed', String(result.seed)],
    ['optimizer', escapeHtml(result.optimizer)],
    ['preprocessing', escapeHtml(result.preprocessing)],
    ...(result.diverged ? [['diverged', `<b>epoch ${result.diverged.epoch + 1}, step ${result.diverged.step + 1}</b>: ${escapeHtml(result.diverged.message)}`] as [string, string]] : []),
    ...(result.initial ? [['test loss / accuracy (before training)', `${fixed(result.initial.loss)} / ${fixed(result.initial.accuracy)}`] as [string, string]] : []),
    ['test loss / accuracy (last model)', `${fixed(result.test.loss)} / <b>${fixed(result.test.accuracy)}</b>`],
    // best.epoch is 0-based, as the history's epochs.
    ...(best ? [['test loss / accuracy (best model)', `${fixed(best.test.loss)} / ${fixed(best.test.accuracy)} (epoch ${best.epoch + 1}, val_loss ${fixed(best.val_loss)})`] as [string, string]] : []),
    ['wall time', duration(result.seconds)],
    ['adapter', escapeHtml(result.adapter)],
    ...Object.entries(result.files ?? {}).map(([name, path]): [string, string] => [escapeHtml(name), `<a href="${escapeHtml(`${result.id}/${path}`)}">${escapeHtml(path)}</a>`]),
  ];
  const images = result.samples
    ? `<h3>Test images</h3>
${figure(pictures.get('first-25'))}
${result.samples.mislabelled.length ? figure(pictures.get('mislabelled-25')) : '<p>The model got every test image right.</p>'}`
    : '';
  return `<section class="result" id="result-${result.id}">
${sectionHead(result)}
<div class="columns">
<table class="numbers"><tbody>${numbers.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>
<pre class="model">${escapeHtml(result.summary)}</pre>
</div>
${figure(pictures.get('learning-curves'))}
<h3>Classification report (last model, test set)</h3>
<pre>${escapeHtml(formatClassificationReport(result.classification))}</pre>
<div class="columns">
${figure(pictures.get('confusion'))}
${figure(pictures.get('confusion-counts'))}
</div>
${figure(pictures.get('class-distribution'))}
${images}
<h3>Per epoch</h3>
${epochTable(result.history)}
</section>`;
}

function classicSection(result: ClassicResult, pictures: Map<string, Picture>): string {
  const numbers: [string, string][] = [
    ['method', escapeHtml(result.method)],
    ['samples (train / test)', `${result.trainSamples} / ${result.testSamples}`],
    ['preprocessing', escapeHtml(result.preprocessing)],
    ['seed', String(result.seed)],
    ['test errors', `${result.test.errors} of ${result.testSamples}`],
    ['test accuracy', `<b>${fixed(result.test.accuracy)}</b>`],
    ...(result.test.loss === null ? [] : [['test loss', fixed(result.test.loss)] as [string, string]]),
    ...Object.entries(result.timings).map(([phase, s]): [string, string] => [`time: ${escapeHtml(phase)}`, duration(s)]),
    ['wall time', duration(result.seconds)],
    ['adapter', escapeHtml(result.adapter)],
  ];
  const evaluations = result.evaluations?.length
    ? `<h3>Evaluations</h3>
${table(['evaluation', 'train', 'test', 'errors', 'accuracy', 'wall time', 'compare with'], result.evaluations.map((e) => [
    escapeHtml(e.name), String(e.trainSamples), String(e.testSamples), String(e.errors), fixed(e.accuracy), duration(e.seconds), escapeHtml(e.reference ?? '—'),
  ]))}`
    : '';
  const images = result.samples
    ? `<h3>Test images</h3>
${figure(pictures.get('first-25'))}
${result.samples.mislabelled.length ? figure(pictures.get('mislabelled-25')) : '<p>Every test image was classified right.</p>'}`
    : '';
  return `<section class="result" id="result-${result.id}">
${sectionHead(result)}
<table class="numbers"><tbody>${numbers.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</tbody></table>
${evaluations}
${result.steps ? figure(pictures.get('steps')) : ''}
${result.means ? figure(pictures.get('means')) : ''}
<h3>Classification report (test set)</h3>
<pre>${escapeHtml(formatClassificationReport(result.classification, result.classNames))}</pre>
<div class="columns">
${figure(pictures.get('confusion'))}
${figure(pictures.get('confusion-counts'))}
</div>
${figure(pictures.get('class-distribution'))}
${images}
${result.steps ? `<h3>Per step</h3>
${stepTable(result)}` : ''}
</section>`;
}

/** Every step's numbers; long runs show the first ten, every tenth, and the last ten. */
function stepTable(result: ClassicResult): string {
  const s = result.steps!;
  const n = s.step.length;
  const keep = (i: number) => n <= 40 || i < 10 || i >= n - 10 || (i + 1) % 10 === 0;
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    rows.push([String(s.step[i]), fixed(s.trainLoss[i]), fixed(s.testLoss[i]), fixed(s.testError[i]), s.trials[i]!.toFixed(1), String(Number(s.t[i]!.toPrecision(4)))]);
  }
  return table(['step', 'training loss', 'test loss', 'test error', 'trials', 'step size t'], rows);
}

/** The metrics, in this order where present, then any others. */
const EPOCH_COLUMNS = ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds', 'lr'];

function epochTable(history: HistoryJson): string {
  const keys = [
    ...EPOCH_COLUMNS.filter((k) => history.history[k]),
    ...Object.keys(history.history).filter((k) => !EPOCH_COLUMNS.includes(k)).sort(),
  ];
  const format = (key: string, v: number | undefined) =>
    v === undefined ? '—' : key === 'seconds' ? v.toFixed(1) : key === 'lr' ? String(Number(v.toPrecision(4))) : v.toFixed(4);
  const best = bestEpoch(history);
  const rows = history.epoch.map((e, i) => [`${e + 1}${i === best?.index ? ' (best)' : ''}`, ...keys.map((k) => format(k, history.history[k]![i]))]);
  return table(['epoch', ...keys], rows, rows.map((_, i) => (i === best?.index ? ' class="best"' : '')));
}

/** "8", or "4 of 8" where `run --cell` ran only some of the grid. */
function cellCount(sweep: SweepResult): string {
  const total = sweep.cells.length + (sweep.cellsNotRun?.length ?? 0);
  return sweep.cellsNotRun ? `${sweep.cells.length} of ${total}` : String(total);
}

function sweepSection(sweep: SweepResult, pictures: Map<string, Picture>): string {
  const best = bestCell(sweep).result;
  const head = [...sweep.axes, 'final val_accuracy', 'final val_loss', 'test accuracy', 'wall time'].map(escapeHtml);
  const rows = sweep.cells.map((cell) => [
    ...sweep.axes.map((axis) => escapeHtml(String(cell.params[axis] ?? '—'))),
    fixed(last(cell.result.history.history.val_accuracy)),
    fixed(last(cell.result.history.history.val_loss)),
    fixed(cell.result.test.accuracy),
    duration(cell.result.seconds),
  ]);
  const images = best.samples
    ? `<h3>Test images of the best cell</h3>
${figure(pictures.get('first-25'))}
${figure(pictures.get('mislabelled-25'))}`
    : '';
  return `<section class="result" id="result-${sweep.id}">
${sectionHead(sweep)}
<p>Best cell: <b>${escapeHtml(sweep.best)}</b> (highest final val_accuracy${sweep.cellsNotRun ? ' of the cells that ran' : ''}; on a tie, the lower final val_loss); its test accuracy is the number compared with the notebook's.
${cellCount(sweep)} cells, ${duration(sweep.seconds)} in all, adapter ${escapeHtml(sweep.adapter)}, seed ${sweep.seed}.</p>
${sweep.cellsNotRun ? `<p class="note">Not run (<code>--cell</code> named the others): ${sweep.cellsNotRun.map(escapeHtml).join('; ')}. Their results are not part of this comparison.</p>` : ''}
${figure(pictures.get('sweep-grid'))}
${figure(pictures.get('sweep-compare'))}
<h3>Cells</h3>
${table(head, rows, sweep.cells.map((c) => (c.name === sweep.best ? ' class="best"' : '')))}
<h3>Classification report of the best cell (test set)</h3>
<pre>${escapeHtml(formatClassificationReport(best.classification))}</pre>
${images}
</section>`;
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; margin: 0 auto; padding: 1em 2em 3em; max-width: 1200px; }
h1 { margin-bottom: 0.3em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin: 1.5em 0 0.5em; }
code, pre { font: 13px/1.35 ui-monospace, Menlo, Consolas, monospace; }
pre { background: #f6f8fa; border: 1px solid #e1e4e8; padding: 0.8em 1em; overflow-x: auto; }
.banner { background: #fff3cd; border: 2px solid #e0a800; color: #7a5b00; font-weight: bold; padding: 0.7em 1em; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
.meta dt { font-weight: bold; }
.meta dd { margin: 0; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f0f2f4; }
tr.best td { background: #e6f4ea; font-weight: bold; }
.numbers th { background: #f6f8fa; font-weight: normal; }
#summary td:first-child, #summary td:nth-child(n+6) { white-space: nowrap; }
.better { color: #1a7f37; font-weight: bold; }
.worse { color: #c62828; font-weight: bold; }
.note { background: #eef4fb; border-left: 4px solid #4a90d9; padding: 0.5em 1em; }
.columns { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.columns pre { margin: 0.5em 0; }
figure { margin: 1em 0; }
img { max-width: 100%; height: auto; }
`;

/** The summary table as GitHub markdown (id | notebook | ours | diff | time | adapter), then the skipped ids. */
export function markdownSummary(report: RunReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  const seeded = !!report.spreads?.length;
  const lines = [
    ...(report.quick ? [`> **${QUICK_BANNER}**`, ''] : []),
    seeded ? '| id | notebook | ours (mean ± sd) | seeds (min–max) | inside | diff | time | adapter |' : '| id | notebook | ours | diff | time | adapter |',
    seeded ? '|---|---|---:|---:|:-:|---:|---:|---|' : '|---|---|---:|---:|---:|---|',
    ...report.results.map((r) => {
      const s = spreadOf(report, r.id);
      const ours = s ? [`${s.mean.toFixed(4)} ± ${s.sd.toFixed(4)}`, `${s.seeds.length}: ${s.min.toFixed(4)}–${s.max.toFixed(4)}`, inRange(s)] : seeded ? [r.test.accuracy.toFixed(4), '1', '—'] : [r.test.accuracy.toFixed(4)];
      const seconds = s ? s.results.reduce((t, x) => t + x.seconds, 0) : r.seconds;
      const id = r.kind === 'sweep' && r.cellsNotRun ? `${r.id} (${cellCount(r)} cells)` : r.id;
      return `| ${[id, r.reportedText, ...ours, pointsDifference(s ? s.mean : r.test.accuracy, r.reported), duration(seconds), r.adapter].map(cell).join(' | ')} |`;
    }),
    ...(seeded ? ['', 'inside: the notebook\'s number lies between the lowest and the highest seed; ours is the mean ± the sample standard deviation.'] : []),
  ];
  if (report.skipped.length) lines.push('', ...report.skipped.map((s) => `- could not run **${cell(s.id)}**: ${cell(s.reason)}`));
  return lines.join('\n');
}

/**
 * The browser demo: pick a registry entry, train it in this tab on WebGPU with
 * live charts, read its shaders, and watch one step of backprop. The page
 * drives the library (src/) exactly as the Node command line does; only the
 * data comes from the server (or the mirrors) instead of files.
 */
import type { Result } from 'vega-embed';
import { fetchMnist } from '../../../src/data/mnist-browser.js';
import type { ImageSet } from '../../../src/data/mnist.js';
import { EXPERIMENTS, hasValidation, type ClassicExperiment, type Experiment } from '../../../src/experiments/registry.js';
import type { ClassicResult, ExperimentResult, HistoryJson, RunResult, SampleImage } from '../../../src/experiments/result.js';
import { createRuntime } from '../../../src/gpu/device.js';
import type { Dispatch, Runtime } from '../../../src/gpu/runtime.js';
import { canTimeDispatches } from '../../../src/gpu/timing.js';
import { confusionMatrix, formatClassificationReport } from '../../../src/metrics/classification.js';
import { decodeCheckpoint } from '../../../src/model/checkpoint.js';
import { exportFiles, type ExportFormat } from '../../../src/model/export.js';
import { NO_WEBGPU_MESSAGE } from '../../../src/platform/platform.js';
import { compareCurves, confusionHeatmap, imageGrid, learningCurves, stepCurves, type ConfusionValues } from '../../../src/report/charts.js';
import { addPoints, draw, liveCurvesSpec, timingSpec, type CurvePoint } from './charts.js';
import {
  checkpointOrigin, classicPlan, classicRun, defaultSettings, experimentById, isClassic, isTrainable, Session, trainSpec, withLearningRate, type Settings,
} from './session.js';
import { describeDispatches, formatMicroseconds, openKernel, renderKernels } from './shader-view.js';
import { renderStep } from './step-view.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no element #${id}.`);
  return found as T;
};

const ui = {
  adapter: $('adapter'), data: $('data-status'), fatal: $('fatal'), app: $('app'), form: $<HTMLFormElement>('controls'),
  experiment: $<HTMLSelectElement>('experiment'), cell: $<HTMLSelectElement>('cell'), cellLabel: $('cell-label'),
  epochs: $<HTMLInputElement>('epochs'), batch: $<HTMLInputElement>('batch'), lr: $<HTMLInputElement>('lr'),
  trainImages: $<HTMLInputElement>('train-images'), testImages: $<HTMLInputElement>('test-images'), seed: $<HTMLInputElement>('seed'),
  train: $<HTMLButtonElement>('train'), stop: $<HTMLButtonElement>('stop'), save: $<HTMLButtonElement>('save'), load: $<HTMLInputElement>('load'),
  about: $('about'), error: $('error'), status: $('status'),
  stat: {
    epoch: $('stat-epoch'), step: $('stat-step'), steps: $('stat-steps'), samples: $('stat-samples'),
    loss: $('stat-loss'), accuracy: $('stat-accuracy'), val: $('stat-val'), test: $('test-accuracy'),
  },
  curves: $('curves'), confusion: $('confusion'), confusionCaption: $('confusion-caption'), final: $('final'), report: $('report'),
  summary: $('summary'), firstImages: $('first-images'), mislabelled: $('mislabelled'),
  kernels: $('kernels'), timeStep: $<HTMLButtonElement>('time-step'), timingNote: $('timing-note'), timingChart: $('timing-chart'),
  shaderIntro: $('shader-intro'), runStep: $<HTMLButtonElement>('run-step'), step: $('step'),
  summaryCaption: $('summary').previousElementSibling as HTMLElement,
  confusionRecall: $<HTMLButtonElement>('confusion-recall'), confusionCounts: $<HTMLButtonElement>('confusion-counts'),
  addReport: $<HTMLInputElement>('add-report'), compareMetric: $<HTMLSelectElement>('compare-metric'), compareClear: $<HTMLButtonElement>('compare-clear'),
  runs: $('runs'), compare: $('compare'),
};

/** The labels of the fields only a neural model has; hidden for a classic baseline. */
const neuralOnly = [ui.epochs, ui.batch, ui.lr, ui.trainImages, ui.testImages].map((input) => input.closest('label')!);

/** What a classic baseline shows besides the shared panels: its evaluations and its mean images (built here, shown when present). */
const classicUi = (() => {
  const row = document.createElement('div');
  row.className = 'row';
  row.id = 'classic-extra';
  row.hidden = true;
  const evaluationsPanel = document.createElement('figure');
  evaluationsPanel.className = 'panel';
  evaluationsPanel.innerHTML = '<figcaption>Evaluations</figcaption>';
  const evaluations = document.createElement('table');
  evaluations.id = 'evaluations';
  evaluations.style.cssText = 'border-collapse: collapse; font-size: 13px';
  evaluationsPanel.append(evaluations);
  const meansPanel = document.createElement('figure');
  meansPanel.className = 'panel';
  const means = document.createElement('div');
  means.id = 'means';
  means.className = 'chart';
  meansPanel.append(means);
  row.append(evaluationsPanel, meansPanel);
  ui.final.append(row);
  return { row, evaluationsPanel, evaluations, meansPanel, means };
})();

let rt: Runtime | undefined;
let mnist: { train: ImageSet; test: ImageSet } | undefined;
let session: Session | undefined;
/** What the page is doing; tests wait on body[data-state]. */
type State = 'starting' | 'ready' | 'training' | 'working' | 'done' | 'error' | 'fatal';
let busy = false;
let stopRequested = false;
let slowAdapter = false;
let shaderViewFor: Session | undefined;

/** The confusion matrix on screen, and whether its cells show recall or counts. */
let confusionShown: number[][] | undefined;
let confusionValues: ConfusionValues = 'recall';

function drawConfusion(confusion: number[][]): Promise<unknown> {
  confusionShown = confusion;
  ui.confusion.dataset.values = confusionValues;
  return draw(ui.confusion, confusionHeatmap(confusion, confusionValues));
}

function setConfusionValues(values: ConfusionValues): void {
  confusionValues = values;
  ui.confusionRecall.setAttribute('aria-pressed', String(values === 'recall'));
  ui.confusionCounts.setAttribute('aria-pressed', String(values === 'counts'));
  if (confusionShown) void drawConfusion(confusionShown).catch((error: unknown) => showError(error, 'Drawing the confusion matrix'));
}

// ---------------------------------------------------------------------------
// Compare runs

/** A run on the compare plot: trained or loaded here, or read from a report.json. */
interface ComparedRun {
  label: string;
  history: HistoryJson;
  shown: boolean;
}

const comparedRuns: ComparedRun[] = [];

/** Adds a run to the comparison (a label already there gets a number). */
function addComparedRun(label: string, history: HistoryJson): void {
  if (!history.epoch.length) return;
  let unique = label;
  for (let n = 2; comparedRuns.some((r) => r.label === unique); n++) unique = `${label} (${n})`;
  comparedRuns.push({ label: unique, history, shown: true });
  void renderComparison();
}

/** The runs of a report.json: one result, or a whole run's report; a sweep gives each of its cells. */
function reportRuns(json: unknown): { label: string; history: HistoryJson }[] {
  const results: ExperimentResult[] = Array.isArray((json as { results?: unknown }).results)
    ? (json as { results: ExperimentResult[] }).results
    : [json as ExperimentResult];
  return results.flatMap((r): { label: string; history: HistoryJson }[] => {
    if (r?.kind === 'run') return [{ label: `${r.id} seed ${r.seed}${r.quick ? ' (quick)' : ''}`, history: r.history }];
    if (r?.kind === 'sweep') return r.cells.map((c) => ({ label: `${r.id} ${c.name}`, history: c.result.history }));
    return [];
  });
}

async function addReports(files: File[]): Promise<void> {
  let added = 0;
  for (const file of files) {
    const runs = reportRuns(JSON.parse(await file.text()));
    if (!runs.length) throw new Error(`${file.name} holds no run with a history (a report.json of shaderprop run has one per id).`);
    for (const run of runs) addComparedRun(run.label, run.history);
    added += runs.length;
  }
  status(`Added ${added} run${added === 1 ? '' : 's'} to the comparison.`);
}

async function renderComparison(): Promise<void> {
  const metric = ui.compareMetric.value;
  ui.runs.replaceChildren(...comparedRuns.map((run) => {
    const li = document.createElement('li');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = run.shown;
    box.addEventListener('change', () => {
      run.shown = box.checked;
      void renderComparison();
    });
    const has = run.history.history[metric]?.length;
    const label = document.createElement('label');
    label.append(box, ` ${run.label} · ${run.history.epoch.length} epoch${run.history.epoch.length === 1 ? '' : 's'}${has ? '' : ` · no ${metric}`}`);
    li.append(label);
    return li;
  }));
  const shown = comparedRuns.filter((r) => r.shown && r.history.history[metric]?.length);
  ui.compare.dataset.runs = String(shown.length);
  if (!shown.length) {
    ui.compare.textContent = comparedRuns.length ? `No run in the list with ${metric} is ticked.` : 'Train a model (or load one, or add a report.json) to compare runs here.';
    return;
  }
  await draw(ui.compare, compareCurves(shown, metric));
}

/** True when the chosen id is a classic baseline. */
function classicSelected(): boolean {
  return EXPERIMENTS.find((e) => e.id === ui.experiment.value)?.kind === 'classic';
}

function setState(state: State): void {
  document.body.dataset.state = state;
  const idle = !busy;
  const classic = classicSelected();
  ui.train.disabled = !idle || !mnist;
  // A classic baseline is one fit, not a loop of steps: it runs to the end.
  ui.stop.disabled = state !== 'training' || classic;
  ui.stop.title = classic ? 'A classic baseline runs to the end: Stop applies to neural models only.' : '';
  ui.save.disabled = !idle || !session || session.epochsDone === 0;
  ui.load.disabled = !idle || !mnist;
  ui.timeStep.disabled = !idle || !mnist || classic;
  ui.runStep.disabled = !idle || !mnist || classic;
  for (const input of [ui.experiment, ui.cell, ui.epochs, ui.batch, ui.lr, ui.trainImages, ui.testImages, ui.seed]) input.disabled = !idle;
}

function status(text: string): void {
  ui.status.textContent = text;
}

function showError(error: unknown, context?: string): void {
  const message = error instanceof Error ? error.message : String(error);
  ui.error.textContent = context ? `${context}: ${message}` : message;
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function fatal(message: string): void {
  ui.fatal.textContent = message;
  ui.fatal.hidden = false;
  ui.app.hidden = true;
  document.body.dataset.state = 'fatal';
}

/** Runs an action with the controls locked; its error is shown, not thrown. */
async function guarded(state: State, context: string, action: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  clearError();
  setState(state);
  let failed = false;
  try {
    await action();
  } catch (error) {
    failed = true;
    showError(error, context);
    status('');
  } finally {
    busy = false;
    setState(failed ? 'error' : state === 'training' ? 'done' : 'ready');
  }
}

// ---------------------------------------------------------------------------
// Settings

function experimentLabel(e: Experiment): string {
  const reported = e.reported === null ? 'notebook: —' : `notebook ${e.reported}`;
  return `${e.id} — ${e.title} · ${reported}${e.kind === 'classic' ? ' · classic baseline' : ''}`;
}

function fillExperiments(): void {
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const e of EXPERIMENTS) {
    let group = groups.get(e.notebook);
    if (!group) {
      group = document.createElement('optgroup');
      group.label = e.notebook;
      groups.set(e.notebook, group);
      ui.experiment.append(group);
    }
    group.append(new Option(experimentLabel(e), e.id));
  }
  ui.experiment.value = 's001-softmax';
}

function selectedExperiment(): Experiment {
  return experimentById(ui.experiment.value);
}

/** The chosen id, which must be a neural model (or sweep). */
function selectedTrainable() {
  const e = selectedExperiment();
  if (!isTrainable(e)) throw new Error(`${e.id} is a classic baseline: it has no epochs, batches or weights to train step by step.`);
  return e;
}

/** The cell select for a sweep; hidden for a plain entry. */
function fillCells(cell?: string | null): void {
  const e = selectedExperiment();
  ui.cell.replaceChildren();
  ui.cellLabel.hidden = e.kind !== 'sweep';
  if (e.kind === 'sweep') {
    for (const c of e.cells) ui.cell.append(new Option(c.name, c.name));
    ui.cell.value = cell ?? e.cells[0]!.name;
  }
}

function writeSettings(s: Settings): void {
  ui.epochs.value = String(s.epochs);
  ui.batch.value = String(s.batchSize);
  ui.lr.value = String(s.learningRate);
  ui.trainImages.value = String(s.trainImages);
  ui.testImages.value = String(s.testImages);
  ui.seed.value = String(s.seed);
}

function readSettings(): Settings {
  const e = selectedTrainable();
  return {
    id: e.id, cell: e.kind === 'sweep' ? ui.cell.value : null,
    epochs: ui.epochs.valueAsNumber, batchSize: ui.batch.valueAsNumber, learningRate: ui.lr.valueAsNumber,
    trainImages: ui.trainImages.valueAsNumber, testImages: ui.testImages.valueAsNumber, seed: ui.seed.valueAsNumber,
  };
}

function describeExperiment(): void {
  const e = selectedExperiment();
  ui.about.dataset.kind = e.kind;
  if (isClassic(e)) {
    describeClassic(e);
    return;
  }
  const cell = e.kind === 'sweep' ? ui.cell.value : null;
  const spec = trainSpec(e, cell);
  const validation = spec.validation.kind === 'test'
    ? 'validates on the test images (as the notebook)'
    : hasValidation(spec.validation)
      ? `validates on the last ${(spec.validation.fraction * 100).toFixed(1)}% of the training images`
      : 'trains on all the training images, without validation (as the notebook)';
  const notebookEpochs = `the notebook: ${spec.epochs} epochs on 60,000 images`;
  ui.about.textContent = `${e.notebook}: ${e.title}. Optimizer ${spec.optimizer().describe()}, ${spec.preprocessingText}, ${validation}; ` +
    `${notebookEpochs}, test accuracy ${e.reportedText}.${e.note ? ` Note: ${e.note}` : ''}`;
}

/** A classic baseline's settings, read-only: what it computes, at which size and why. */
function describeClassic(e: ClassicExperiment): void {
  const plan = classicPlan(e, slowAdapter);
  const seed = e.spec.algorithm === 'nearest-neighbour' ? 'the seed draws the balanced subset' : 'the method is deterministic (the seed is recorded only)';
  ui.about.textContent = `${e.notebook}: ${e.title}. A classic baseline, fitted by kernels of its own: ${plan.computes}. ` +
    `Runs on ${plan.size}. Preprocessing: ${e.preprocessingText}; the notebook: ${e.reportedText}.${e.note ? ` Note: ${e.note}` : ''} ` +
    `Epochs, batch size, learning rate and image counts apply to neural models only; ${seed}. ` +
    'Stop does not apply: a classic baseline runs to the end.';
}

/** The shader and step views are about a neural model's training step: for a classic baseline they say so. */
const NEURAL_ONLY_VIEW = 'The shader view and the step view apply to neural models: they show the kernels and buffers of one training step. ' +
  'A classic baseline is fitted by kernels of its own (src/ops/classic/); run it to list the ones it dispatched, or choose a neural id to see a step.';

/** The dispatches of the last classic run, in order of first use, for the shader view. */
let classicDispatches: { id: string; dispatches: Dispatch[] } | undefined;

function showNeuralOnlyMessage(): void {
  const e = selectedExperiment();
  const last = classicDispatches && classicDispatches.id === e.id ? classicDispatches : undefined;
  if (last) {
    // The kernels this baseline dispatched when it last ran here.
    const rows = describeDispatches(last.dispatches);
    const pipelines = new Set(rows.map((r) => r.key)).size;
    ui.shaderIntro.textContent = `The kernels the last run of ${last.id} dispatched (kernel families of src/ops/classic/): ${rows.length} distinct ` +
      `dispatches of ${pipelines} pipelines, in the order of their first use. Open one to read its WGSL. The step view and the timing ` +
      'apply to neural models: they show one training step.';
    renderKernels(ui.kernels, rows, null);
  } else {
    ui.shaderIntro.textContent = NEURAL_ONLY_VIEW;
    ui.kernels.replaceChildren();
  }
  ui.timingNote.textContent = '';
  ui.timingChart.replaceChildren();
  const note = document.createElement('p');
  note.className = 'note';
  note.dataset.classic = 'true';
  note.textContent = NEURAL_ONLY_VIEW;
  ui.step.replaceChildren(note);
  shaderViewFor = undefined;
}

function onExperimentChange(): void {
  fillCells();
  const e = selectedExperiment();
  const classic = isClassic(e);
  for (const label of neuralOnly) label.hidden = classic;
  if (classic) {
    showNeuralOnlyMessage();
  } else {
    if (ui.step.querySelector('[data-classic]')) ui.step.replaceChildren();
    if (ui.shaderIntro.textContent === NEURAL_ONLY_VIEW) ui.shaderIntro.textContent = 'Every pipeline one training step runs, in order.';
    writeSettings(defaultSettings(e, e.kind === 'sweep' ? ui.cell.value : null, slowAdapter));
  }
  describeExperiment();
  if (!busy && document.body.dataset.state !== 'starting') setState((document.body.dataset.state ?? 'ready') as State);
  if (!$('tab-shaders').hidden) selectTab('shaders');
}

// ---------------------------------------------------------------------------
// The model

/** The session for the current settings: the live one when they match, else a fresh (untrained) one. */
function currentSession(): Session {
  const settings = readSettings();
  if (session && JSON.stringify(session.settings) === JSON.stringify(settings)) return session;
  return replaceSession(settings);
}

function replaceSession(settings: Settings): Session {
  if (!rt || !mnist) throw new Error('The data is not loaded yet.');
  session?.dispose();
  session = undefined;
  session = Session.create(rt, settings, mnist);
  return session;
}

function resetTrainingView(): void {
  for (const [key, el] of Object.entries(ui.stat)) {
    el.textContent = '–';
    if (key === 'test') delete el.dataset.value;
  }
  ui.final.hidden = true;
  ui.confusion.replaceChildren();
  confusionShown = undefined;
  delete ui.confusion.dataset.correct;
  delete ui.confusion.dataset.total;
  classicUi.row.hidden = true;
  classicUi.evaluations.replaceChildren();
  classicUi.means.replaceChildren();
  ui.summaryCaption.textContent = 'Model';
  ui.summary.classList.remove('prose');
  ui.confusionCaption.textContent = 'Confusion matrix on the test images';
}

const pct = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');
/** When the live curves last redrew. */
let lastFlush = 0;

async function train(): Promise<void> {
  const settings = readSettings();
  resetTrainingView();
  status('Building the model and uploading the images…');
  const s = replaceSession(settings);
  ui.curves.replaceChildren();
  let curves: Result | undefined;
  stopRequested = false;
  const labels = s.test.labels();
  let pending: CurvePoint[] = [];
  status(`Training ${s.experiment.id} on ${s.trainCount.toLocaleString('en-US')} images (validation ${s.validationCount.toLocaleString('en-US')}), ` +
    `${s.stepsPerEpoch} steps per epoch at batch ${settings.batchSize}…`);
  const outcome = await s.fit({
    shouldStop: () => stopRequested,
    progress: (p) => {
      ui.stat.epoch.textContent = `${p.epoch + 1}/${p.epochs}`;
      ui.stat.step.textContent = `${p.step}/${p.steps}`;
      ui.stat.steps.textContent = p.stepsPerSecond.toFixed(1);
      ui.stat.samples.textContent = Math.round(p.samplesPerSecond).toLocaleString('en-US');
      ui.stat.loss.textContent = pct(p.loss);
      ui.stat.accuracy.textContent = pct(p.accuracy);
      const x = p.epoch + p.step / p.steps;
      // The curve draws the mean of the steps since the last point: the epoch's running mean starts again at each epoch, and would jump.
      pending.push({ epoch: x, metric: 'loss', split: 'train', value: p.recentLoss }, { epoch: x, metric: 'accuracy', split: 'train', value: p.recentAccuracy });
      // Charts redraw a few times a second at most; the points wait in between.
      void flush();
    },
    epoch: async (epoch, logs, predicted) => {
      if (logs.val_loss !== undefined && logs.val_accuracy !== undefined) {
        pending.push({ epoch: epoch + 1, metric: 'loss', split: 'validation', value: logs.val_loss }, { epoch: epoch + 1, metric: 'accuracy', split: 'validation', value: logs.val_accuracy });
        ui.stat.val.textContent = pct(logs.val_accuracy);
      }
      await flush(true);
      await drawConfusion(confusionMatrix(labels, predicted, s.test.classes));
      ui.confusionCaption.textContent = `Confusion matrix on the ${labels.length.toLocaleString('en-US')} test images after epoch ${epoch + 1}`;
    },
  });
  await flush(true);
  const result = await s.result(outcome.seconds);
  showResult(result, s);
  addComparedRun(`${s.settings.id}${s.settings.cell ? ` ${s.settings.cell}` : ''} seed ${s.settings.seed}, ${s.trainCount.toLocaleString('en-US')} images, lr ${s.settings.learningRate}`, result.history);
  const how = outcome.diverged ? `stopped: ${outcome.diverged}` : outcome.stopped ? 'stopped on request' : 'done';
  status(`${s.experiment.id}: ${how} after ${s.epochsDone} epoch${s.epochsDone === 1 ? '' : 's'} in ${outcome.seconds.toFixed(1)} s; ` +
    `test accuracy ${result.test.accuracy.toFixed(4)} on ${result.testSamples.toLocaleString('en-US')} images.`);

  async function flush(force = false): Promise<void> {
    if (!pending.length || (!force && performance.now() - lastFlush < 250)) return;
    lastFlush = performance.now();
    const points = pending;
    pending = [];
    if (curves) await addPoints(curves, points);
    else curves = await draw(ui.curves, liveCurvesSpec(points));
  }
}

/** The end of a run (or a loaded model): test accuracy, report, pictures. */
function showResult(result: RunResult, s: Session): void {
  ui.stat.test.textContent = result.test.accuracy.toFixed(4);
  ui.stat.test.dataset.value = String(result.test.accuracy);
  const binary = s.spec.binaryDigit;
  const names = binary === undefined ? undefined : [`not ${binary}`, `${binary}`];
  ui.report.textContent = `${formatClassificationReport(result.classification, names, 4)}\n\ntest loss ${result.test.loss.toFixed(4)}`;
  ui.summary.textContent = `${result.summary}\n\n${withLearningRate(s.spec.optimizer(), s.settings.learningRate).describe()}, ${result.preprocessing}, seed ${result.seed}`;
  ui.final.hidden = false;
  const shape = result.imageShape;
  const draws: Promise<unknown>[] = [
    drawConfusion(result.confusion),
    draw(ui.firstImages, imageGrid(result.samples!.first, shape, 'The first 25 test images, each with its label and the prediction'), 'canvas'),
  ];
  ui.confusionCaption.textContent = `Confusion matrix on the ${result.testSamples.toLocaleString('en-US')} test images`;
  if (result.history.epoch.length) draws.push(draw(ui.curves, learningCurves(result)));
  if (result.samples!.mislabelled.length) {
    draws.push(draw(ui.mislabelled, imageGrid(result.samples!.mislabelled, shape, 'The first 25 mislabelled test images'), 'canvas'));
  } else {
    ui.mislabelled.textContent = 'No test image is mislabelled.';
  }
  void Promise.all(draws).catch((error: unknown) => showError(error, 'Drawing the charts'));
}

// ---------------------------------------------------------------------------
// A classic baseline

async function trainClassic(e: ClassicExperiment): Promise<void> {
  if (!rt || !mnist) throw new Error('The data is not loaded yet.');
  resetTrainingView();
  // The page now shows this baseline: no neural model is left to save or to look into.
  session?.dispose();
  session = undefined;
  shaderViewFor = undefined;
  ui.curves.replaceChildren();
  const plan = classicPlan(e, slowAdapter);
  status(`Running ${e.id} at ${plan.quick ? 'quick' : 'full'} size (Stop does not apply: it runs to the end)…`);
  // Every distinct dispatch the run submits, for the shader view (plans replayed many times are listed once).
  const seen = new Set<Dispatch>();
  const dispatches: Dispatch[] = [];
  const stopWatching = rt.watchSubmits((list) => {
    for (const d of list) if (!seen.has(d)) (seen.add(d), dispatches.push(d));
  });
  let result: ClassicResult;
  try {
    result = await classicRun(rt, e, mnist, { quick: plan.quick, seed: ui.seed.valueAsNumber, log: (line) => status(line) });
  } finally {
    stopWatching();
  }
  classicDispatches = { id: e.id, dispatches };
  await showClassicResult(result);
  status(`${e.id}: done in ${result.seconds.toFixed(1)} s at ${result.quick ? 'quick' : 'full'} size; test accuracy ${result.test.accuracy.toFixed(4)} ` +
    `(${result.test.errors.toLocaleString('en-US')} errors in ${result.testSamples.toLocaleString('en-US')} test images).`);
}

/** A classic baseline's result: test accuracy, report, confusion, pictures, and what the method has of its own; resolves when drawn. */
async function showClassicResult(result: ClassicResult): Promise<void> {
  const { test } = result;
  ui.stat.test.textContent = test.accuracy.toFixed(4);
  ui.stat.test.dataset.value = String(test.accuracy);
  ui.report.textContent = `${formatClassificationReport(result.classification, result.classNames, 4)}\n\n` +
    `test errors ${test.errors} of ${result.testSamples}${test.loss === null ? '' : `\ntest loss ${test.loss.toFixed(4)}`}`;
  ui.summaryCaption.textContent = 'Method';
  // The method is prose: wrapped, unlike the model summary's table.
  ui.summary.classList.add('prose');
  const timings = Object.entries(result.timings).map(([phase, s]) => `${phase} ${s.toFixed(2)} s`).join(', ');
  ui.summary.textContent = `${result.method}\n\nPreprocessing: ${result.preprocessing}. ${result.trainSamples.toLocaleString('en-US')} training and ` +
    `${result.testSamples.toLocaleString('en-US')} test images (${result.quick ? 'quick' : 'full'} size), seed ${result.seed}.\n` +
    `Time: ${timings}; ${result.seconds.toFixed(2)} s in all, on ${result.adapter}.`;
  ui.final.hidden = false;

  const correct = result.confusion.reduce((sum, row, k) => sum + row[k]!, 0);
  const total = result.confusion.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  ui.confusion.dataset.correct = String(correct);
  ui.confusion.dataset.total = String(total);
  ui.confusionCaption.textContent = `Confusion matrix on the ${result.testSamples.toLocaleString('en-US')} test images` +
    (result.classNames ? ` (classes ${result.classNames.map((n, k) => `${k} = ${n}`).join(', ')})` : '');

  const shape = result.imageShape;
  const names = result.classNames ? { classNames: result.classNames } : {};
  const draws: Promise<unknown>[] = [drawConfusion(result.confusion)];
  if (result.samples) {
    draws.push(draw(ui.firstImages, imageGrid(result.samples.first, shape, 'The first 25 test images, each with its label and the prediction', names), 'canvas'));
    if (result.samples.mislabelled.length) {
      draws.push(draw(ui.mislabelled, imageGrid(result.samples.mislabelled, shape, 'The first 25 mislabelled test images', names), 'canvas'));
    } else {
      ui.mislabelled.textContent = 'No test image is mislabelled.';
    }
  }
  if (result.steps) draws.push(draw(ui.curves, stepCurves(result.id, result.steps)));
  else ui.curves.textContent = `No per-step curves: ${result.id} is fitted in one pass.`;

  classicUi.evaluationsPanel.hidden = !result.evaluations?.length;
  if (result.evaluations?.length) {
    const cell = (tag: 'th' | 'td', text: string) => {
      const el = document.createElement(tag);
      el.textContent = text;
      el.style.cssText = 'text-align: left; padding: 3px 12px 3px 0; border-bottom: 1px solid #eef1f4';
      return el;
    };
    const head = document.createElement('tr');
    head.append(...['evaluation', 'train', 'test', 'errors', 'accuracy', 'wall time', 'compare with'].map((t) => cell('th', t)));
    const rows = result.evaluations.map((e) => {
      const tr = document.createElement('tr');
      Object.assign(tr.dataset, { test: String(e.testSamples), errors: String(e.errors), accuracy: String(e.accuracy) });
      tr.append(...[e.name, e.trainSamples.toLocaleString('en-US'), e.testSamples.toLocaleString('en-US'), String(e.errors),
        e.accuracy.toFixed(4), `${e.seconds.toFixed(2)} s`, e.reference ?? '—'].map((t) => cell('td', t)));
      return tr;
    });
    classicUi.evaluations.replaceChildren(head, ...rows);
  }
  classicUi.meansPanel.hidden = !result.means;
  if (result.means) {
    const images = result.means.map((pixels, k): SampleImage => ({ index: k, label: k, predicted: k, pixels: pixels.map((v) => Math.round(v)) }));
    draws.push(draw(classicUi.means, imageGrid(images, shape, `${result.id}: the mean image of each class`, { caption: (image) => `mean of ${image.label}` }), 'canvas'));
  }
  classicUi.row.hidden = !result.evaluations?.length && !result.means;
  await Promise.all(draws).catch((error: unknown) => showError(error, 'Drawing the charts'));
}

// ---------------------------------------------------------------------------
// Save and load

async function save(): Promise<void> {
  if (!session) throw new Error('Train a model first.');
  const base = `${session.settings.id}${session.settings.cell ? `-${session.settings.cell.replace(/[^A-Za-z0-9.+-]+/g, '_')}` : ''}`;
  // Save as: the checkpoint (default), or an export for other frameworks (model.export's formats).
  const format = document.querySelector<HTMLSelectElement>('#save-format')?.value ?? 'ckpt';
  if (format !== 'ckpt') {
    const files = await exportFiles(session.model, format as ExportFormat, { name: base });
    for (const file of files) downloadFile(file.name, file.data);
    const what = format === 'tfjs' ? 'TensorFlow.js\'s Layers format, for tf.loadLayersModel' : 'safetensors, for loadSafetensors() or any safetensors reader';
    status(`Saved ${files.map((f) => f.name).join(' and ')}: ${what}.`);
    return;
  }
  const bytes = await session.checkpoint();
  const name = `${base}.ckpt`;
  downloadFile(name, bytes);
  status(`Saved ${name} (${bytes.length.toLocaleString('en-US')} bytes): the checkpoint format of shaderprop run; load it here or with model.load().`);
}

function downloadFile(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function load(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const { header } = decodeCheckpoint(bytes, file.name);
  // Select the entry the checkpoint says it holds; the sizes on the page stay.
  const origin = checkpointOrigin(header);
  if (origin && EXPERIMENTS.some((e) => e.id === origin.id && isTrainable(e))) {
    ui.experiment.value = origin.id;
    fillCells(origin.cell);
    for (const label of neuralOnly) label.hidden = false;
    describeExperiment();
    const saved = header.meta.settings as Partial<Settings> | undefined;
    if (saved?.batchSize) ui.batch.value = String(saved.batchSize);
    if (saved?.learningRate) ui.lr.value = String(saved.learningRate);
  }
  resetTrainingView();
  const s = replaceSession(readSettings());
  await s.restore(bytes, file.name);
  const result = await s.result(0);
  showResult(result, s);
  ui.curves.replaceChildren();
  if (result.history.epoch.length) await draw(ui.curves, learningCurves(result));
  addComparedRun(`${file.name} (${s.settings.id})`, result.history);
  const iteration = header.optimizer?.iteration;
  status(`Loaded ${file.name}: ${header.model}, ${s.epochsDone} epoch${s.epochsDone === 1 ? '' : 's'}${iteration !== undefined ? `, ${iteration} updates` : ''}; ` +
    `test accuracy ${result.test.accuracy.toFixed(4)} on ${result.testSamples.toLocaleString('en-US')} images.`);
}

// ---------------------------------------------------------------------------
// Shader view and step view

async function showShaders(): Promise<void> {
  const s = currentSession();
  const dispatches = await s.model.trainingStep(s.train, s.settings.batchSize);
  const rows = describeDispatches(dispatches);
  const pipelines = new Set(rows.map((r) => r.key)).size;
  ui.shaderIntro.textContent = `One training step of ${s.experiment.id} at batch ${s.settings.batchSize}: ${rows.length} dispatches of ${pipelines} pipelines, ` +
    'in the order they run. Open one to read its WGSL.';
  renderKernels(ui.kernels, rows, null);
  ui.timingChart.replaceChildren();
  ui.timingNote.textContent = rt && canTimeDispatches(rt)
    ? 'This adapter has timestamp queries: "Time one training step" runs one real step with each dispatch in its own timed pass (the model trains by that step).'
    : `This adapter (${rt?.adapter.name}) has no 'timestamp-query' feature, so kernel times cannot be measured here.`;
  shaderViewFor = s;
}

/** Timed steps after the warm-up one; the shader view shows each dispatch's median. */
const TIMED_STEPS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * One warm-up step (pipelines compiled, buffers touched, caches filled), then
 * TIMED_STEPS steps: each dispatch's median GPU time where the adapter stamps
 * passes, and the median wall time of a whole step (submit to done) on any.
 */
async function timeStep(): Promise<void> {
  const s = currentSession();
  const device = s.rt.device;
  const options = { batchSize: s.settings.batchSize };
  status('Timing: one warm-up step…');
  await s.model.timeStep(s.train, options);
  await device.queue.onSubmittedWorkDone();
  const runs: (Float64Array | null)[] = [];
  const walls: number[] = [];
  let dispatches: Awaited<ReturnType<typeof s.model.timeStep>>['dispatches'] = [];
  for (let k = 0; k < TIMED_STEPS; k++) {
    status(`Timing: step ${k + 1} of ${TIMED_STEPS}…`);
    const started = performance.now();
    const timed = await s.model.timeStep(s.train, options);
    await device.queue.onSubmittedWorkDone();
    walls.push(performance.now() - started);
    runs.push(timed.times);
    dispatches = timed.dispatches;
  }
  const rows = describeDispatches(dispatches);
  const gpu = runs.every((t): t is Float64Array => t !== null && t.length === rows.length)
    ? Float64Array.from(rows, (_, i) => median(runs.map((t) => t![i]!)))
    : null;
  renderKernels(ui.kernels, rows, gpu);
  shaderViewFor = s;
  const wall = median(walls);
  ui.timingNote.dataset.steps = String(TIMED_STEPS);
  ui.timingNote.dataset.wallMs = String(wall);
  const spread = `${Math.min(...walls).toFixed(1)}–${Math.max(...walls).toFixed(1)} ms`;
  const trained = `The model trained by these ${TIMED_STEPS + 1} steps.`;
  status(`Timed ${TIMED_STEPS} steps after a warm-up one.`);
  if (!gpu) {
    ui.timingChart.replaceChildren();
    ui.timingNote.textContent = `Wall time of one step, median of ${TIMED_STEPS} after a warm-up step: ${wall.toFixed(1)} ms (${spread}), ` +
      `with every dispatch in its own pass. This adapter (${rt?.adapter.name}) has no 'timestamp-query' feature, so the time of each kernel cannot be measured here. ${trained}`;
    return;
  }
  const total = median(runs.map((t) => t!.reduce((a, b) => a + b, 0)));
  ui.timingNote.textContent = `One step: ${formatMicroseconds(total)} of GPU time over ${rows.length} dispatches, the median of ${TIMED_STEPS} steps after a warm-up one ` +
    `(each dispatch's time below is its median); wall time ${wall.toFixed(1)} ms (${spread}), each dispatch in its own timed pass. ${trained} ` +
    'Browsers may round timestamps (Chrome to 100 µs unless started with --enable-webgpu-developer-features).';
  await draw(ui.timingChart, timingSpec(rows.map((r) => ({ index: r.index, label: r.label, microseconds: gpu[r.index]! / 1000 }))));
}

async function runStep(): Promise<void> {
  const s = currentSession();
  status('Running one training step and reading every buffer back…');
  const dispatches = await s.model.trainingStep(s.train, s.settings.batchSize);
  const before = await s.model.getWeights();
  const step = await s.model.inspectStep(s.train, { batchSize: s.settings.batchSize });
  const after = await s.model.getWeights();
  // The shader view lists this very step's dispatches: the step view's links open them there.
  renderKernels(ui.kernels, describeDispatches(dispatches), null);
  shaderViewFor = s;
  await renderStep(ui.step, step, {
    imageShape: [28, 28], dispatches, before, after,
    optimizer: withLearningRate(s.spec.optimizer(), s.settings.learningRate).describe(),
    openKernel: (index) => {
      selectTab('shaders');
      openKernel(ui.kernels, index);
    },
  });
  status(`One training step of ${s.experiment.id}: batch loss ${step.loss.toFixed(4)} (update ${step.iteration} of this model).`);
}

function selectTab(name: string): void {
  for (const tab of Array.from(document.querySelectorAll<HTMLButtonElement>('[role=tab]'))) {
    const selected = tab.dataset.tab === name;
    tab.setAttribute('aria-selected', String(selected));
    $(`tab-${tab.dataset.tab}`).hidden = !selected;
  }
  if (name === 'compare') {
    void renderComparison().catch((error: unknown) => showError(error, 'Drawing the comparison'));
    return;
  }
  if ((name === 'shaders' || name === 'step') && classicSelected()) {
    showNeuralOnlyMessage();
    return;
  }
  if (name === 'shaders' && mnist && !busy) {
    // Show the current model's kernels, unless they are already on screen.
    const s = session && JSON.stringify(session.settings) === JSON.stringify(safeSettings()) ? session : undefined;
    if (!s || s !== shaderViewFor) void guarded('working', 'Shader view', showShaders);
  }
}

function safeSettings(): Settings | undefined {
  try {
    return readSettings();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Start

function describeLimits(r: Runtime): string {
  const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;
  return `maxStorageBufferBindingSize ${mib(r.limits.maxStorageBufferBindingSize)}, maxBufferSize ${mib(r.limits.maxBufferSize)}, ` +
    `timestamp-query ${canTimeDispatches(r) ? 'yes' : 'no'}`;
}

async function start(): Promise<void> {
  document.body.dataset.state = 'starting';
  if (!('gpu' in navigator)) {
    const context = window.isSecureContext ? '' : ' WebGPU also needs a secure context: open the page at http://localhost or over https.';
    ui.adapter.textContent = 'none';
    fatal(NO_WEBGPU_MESSAGE + context);
    return;
  }
  try {
    // ?autotune=0: a fixed kernel choice per adapter kind instead of timing the variants (as SHADERPROP_AUTOTUNE=0 in Node).
    rt = await createRuntime(new URLSearchParams(location.search).get('autotune') === '0' ? { autotune: false } : {});
  } catch (error) {
    ui.adapter.textContent = 'none';
    fatal(error instanceof Error ? error.message : String(error));
    return;
  }
  const runtime = rt;
  slowAdapter = runtime.adapter.name === 'SwiftShader';
  const details = [runtime.adapter.vendor, runtime.adapter.architecture].filter(Boolean).join(' ');
  ui.adapter.textContent = `${runtime.adapter.name}${details && details.toLowerCase() !== runtime.adapter.name.toLowerCase() ? ` (${details})` : ''}` +
    (slowAdapter ? ' · a CPU emulation: small subsets by default' : '');
  ui.adapter.title = describeLimits(runtime);
  runtime.device.lost.then((info) => {
    if (info.reason !== 'destroyed') fatal(`The GPU device was lost (${info.reason}): ${info.message || 'no message'}. Reload the page to start again.`);
  });

  fillExperiments();
  onExperimentChange();
  ui.app.hidden = false;
  setState('starting');

  ui.experiment.addEventListener('change', onExperimentChange);
  ui.cell.addEventListener('change', () => {
    const e = selectedTrainable();
    writeSettings(defaultSettings(e, ui.cell.value, slowAdapter));
    describeExperiment();
  });
  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const e = selectedExperiment();
    void guarded('training', 'Training', isClassic(e) ? () => trainClassic(e) : train);
  });
  ui.stop.addEventListener('click', () => {
    stopRequested = true;
    status('Stopping after the current progress point…');
  });
  ui.save.addEventListener('click', () => void guarded('working', 'Saving', save));
  ui.load.addEventListener('change', () => {
    const file = ui.load.files?.[0];
    ui.load.value = '';
    if (file) void guarded('working', `Loading ${file.name}`, () => load(file));
  });
  ui.timeStep.addEventListener('click', () => void guarded('working', 'Timing a step', timeStep));
  ui.runStep.addEventListener('click', () => void guarded('working', 'Step view', runStep));
  for (const tab of Array.from(document.querySelectorAll<HTMLButtonElement>('[role=tab]'))) tab.addEventListener('click', () => selectTab(tab.dataset.tab!));
  ui.confusionRecall.addEventListener('click', () => setConfusionValues('recall'));
  ui.confusionCounts.addEventListener('click', () => setConfusionValues('counts'));
  ui.compareMetric.addEventListener('change', () => void renderComparison());
  ui.compareClear.addEventListener('click', () => {
    comparedRuns.length = 0;
    void renderComparison();
  });
  ui.addReport.addEventListener('change', () => {
    const files = Array.from(ui.addReport.files ?? []);
    ui.addReport.value = '';
    if (files.length) void addReports(files).catch((error: unknown) => showError(error, 'Adding a report'));
  });

  ui.data.textContent = 'loading MNIST…';
  const lines: string[] = [];
  try {
    mnist = await fetchMnist({ local: new URL('mnist/', document.baseURI).href, log: (line) => lines.push(line) });
  } catch (error) {
    ui.data.textContent = 'not loaded';
    showError(error, 'MNIST');
    document.body.dataset.state = 'error';
    return;
  }
  const cached = lines.every((l) => l.endsWith('from the browser cache'));
  ui.data.textContent = `MNIST, ${mnist.train.count.toLocaleString('en-US')} + ${mnist.test.count.toLocaleString('en-US')} images` +
    (cached ? ' (from the browser cache)' : '');
  ui.data.title = lines.join('\n');
  ui.data.dataset.source = cached ? 'cache' : 'network';
  setState('ready');
  status('Ready: press Train.');
}

void start();

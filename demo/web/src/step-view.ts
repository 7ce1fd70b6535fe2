/**
 * The step view: one training step read back from the GPU buffers, layer by
 * layer: the batch, each layer's activations, the gradient it passed on, its
 * parameter gradients, and its weights before the step, the update and the
 * weights after. Each tensor names the dispatch that wrote it (a link into the
 * shader view). Feature maps, input images and image-shaped weights are drawn
 * as pixels; everything else as histograms. Signed values share one colour
 * code, shown with its scale beside every picture: red positive, blue
 * negative, white zero; activations are grey.
 */
import type { Dispatch } from '../../../src/gpu/runtime.js';
import type { StepInspection, TensorReadback } from '../../../src/model/sequential.js';
import { draw, histogram, histogramSpec, vectorSpec } from './charts.js';

/** The colour code of signed values (gradients, updates, weights). */
export const POSITIVE = '#c62828';
export const NEGATIVE = '#1565c0';
/** Activations are not signed quantities to compare: grey. */
const ACTIVATION = '#6b7280';

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const POSITIVE_RGB = rgb(POSITIVE);
const NEGATIVE_RGB = rgb(NEGATIVE);

interface Summary {
  count: number;
  nonzero: number;
  maxAbs: number;
  sumAbs: number;
  mean: number;
}

function summarise(values: ArrayLike<number>): Summary {
  let nonzero = 0;
  let maxAbs = 0;
  let sumAbs = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0) nonzero++;
    const a = Math.abs(v);
    if (a > maxAbs) maxAbs = a;
    sumAbs += a;
    sum += v;
  }
  return { count: values.length, nonzero, maxAbs, sumAbs, mean: values.length ? sum / values.length : 0 };
}

function fmt(v: number): string {
  return v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toPrecision(3) : v.toExponential(2);
}

// ---------------------------------------------------------------------------
// Which dispatch wrote each tensor

/** A dispatch of the step, as the step view links to it. */
export interface Writer {
  index: number;
  label: string;
  entryPoint: string;
}

function writerOf(dispatches: readonly Dispatch[], index: number): Writer {
  const d = dispatches[index]!;
  return { index, label: d.label, entryPoint: d.kernel.spec.entryPoint };
}

interface Range {
  buffer: GPUBuffer;
  start: number;
  end: number;
}

function ranges(d: Dispatch, kinds: readonly string[]): Range[] {
  return d.resources.flatMap((r, i) => {
    if (!kinds.includes(d.kernel.spec.bindings[i]!.kind)) return [];
    const start = r.offset ?? 0;
    return [{ buffer: r.buffer, start, end: start + (r.size ?? r.buffer.size - start) }];
  });
}

const overlaps = (a: Range, b: Range) => a.buffer === b.buffer && a.start < b.end && b.start < a.end;
const writes = (d: Dispatch) => ranges(d, ['storage']);
const reads = (d: Dispatch) => ranges(d, ['read-only-storage']);

/**
 * The dispatches that wrote each tensor the step view shows, by its name
 * ('input', 'dense/output', 'dense/delta', 'dense/kernel gradient',
 * 'dense/kernel update', ...). Found from the dispatches' labels (which start
 * with the layer's name) and from the buffers they bind: a δ's writer is the
 * last dispatch of the backward pass that wrote a buffer its layer's gradient
 * kernel reads; a gradient's, the last of its layer's backward dispatches that
 * wrote the optimizer's gradient buffer.
 */
export function tensorWriters(step: StepInspection, dispatches: readonly Dispatch[]): Map<string, Writer[]> {
  const found = new Map<string, Writer[]>();
  const set = (name: string, indices: number[]) => {
    if (indices.length) found.set(name, indices.map((i) => writerOf(dispatches, i)));
  };
  const indices = dispatches.map((_, i) => i);
  const entry = (i: number) => dispatches[i]!.kernel.spec.entryPoint;
  const label = (i: number) => dispatches[i]!.label;
  const lossIndex = indices.find((i) => /cross_entropy|squared_error|loss/.test(entry(i)) && dispatches[i]!.kernel.spec.bindings.some((b) => b.name === 'state' && b.kind === 'storage'));
  const optimizers = indices.filter((i) => /_step$/.test(entry(i)) && entry(i) !== 'advance_step');
  const backwardFrom = lossIndex ?? 0;

  set('input', indices.filter((i) => entry(i) === 'gather_inputs' || entry(i) === 'gather_batch').slice(0, 1));
  const gradBuffers = optimizers.flatMap((i) => reads(dispatches[i]!));
  const paramCount = step.layers.reduce((n, l) => n + l.grads.length, 0);
  let param = 0;
  for (const layer of step.layers) {
    const own = (i: number) => label(i).startsWith(`${layer.name} `);
    const forward = indices.filter((i) => own(i) && (lossIndex === undefined || i < lossIndex));
    set(`${layer.name}/output`, forward.slice(-1));
    if (layer.delta) {
      const consumer = indices.find((i) => i > backwardFrom && own(i) && /backward (weight|bias)/.test(label(i)));
      if (consumer !== undefined) {
        const needed = reads(dispatches[consumer]!);
        const writer = indices.filter((i) => i >= backwardFrom && i < consumer && writes(dispatches[i]!).some((w) => needed.some((r) => overlaps(w, r)))).pop();
        if (writer !== undefined) set(`${layer.name}/delta`, [writer]);
      }
    }
    for (const grad of layer.grads) {
      const word = grad.name === 'kernel' ? 'weight' : grad.name;
      const intoGradients = (i: number) => writes(dispatches[i]!).some((w) => gradBuffers.some((g) => overlaps(w, g)));
      const named = indices.filter((i) => own(i) && label(i).startsWith(`${layer.name} backward ${word}`));
      const writer = named.filter(intoGradients).pop() ?? named.pop() ?? indices.filter((i) => own(i) && i > backwardFrom && intoGradients(i)).pop();
      if (writer !== undefined) set(`${layer.name}/${grad.name} gradient`, [writer]);
      // One optimizer dispatch per parameter tensor, in order, or one (or a few) for all of them.
      const updates = optimizers.length === paramCount ? [optimizers[param]!] : optimizers;
      set(`${layer.name}/${grad.name} update`, updates);
      set(`${layer.name}/${grad.name} after`, updates);
      set(`${layer.name}/${grad.name} before`, updates);
      param++;
    }
  }
  return found;
}

// ---------------------------------------------------------------------------
// Pictures

/** The colour of a signed value: white at 0, POSITIVE or NEGATIVE at |v| = bound. */
function signed(v: number, bound: number): [number, number, number] {
  const t = Math.min(1, Math.abs(v) / (bound || 1));
  const [r, g, b] = v >= 0 ? POSITIVE_RGB : NEGATIVE_RGB;
  return [Math.round(255 + (r - 255) * t), Math.round(255 + (g - 255) * t), Math.round(255 + (b - 255) * t)];
}

/**
 * values[offset + (y·cols + x)·stride] as a `rows`×`cols` image, `scale` screen
 * pixels per value: grey (its own min black … max white) or signed (colours
 * as `signed`, with the figure's bound, so one legend reads every image).
 */
function image(values: ArrayLike<number>, rows: number, cols: number, offset: number, stride: number, mode: 'grey' | { bound: number }, scale: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  canvas.style.width = `${cols * scale}px`;
  canvas.style.height = `${rows * scale}px`;
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < rows * cols; p++) {
    const v = values[offset + p * stride]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const pixels = new ImageData(cols, rows);
  for (let p = 0; p < rows * cols; p++) {
    const v = values[offset + p * stride]!;
    let r: number, g: number, b: number;
    if (mode === 'grey') {
      const t = hi > lo ? (v - lo) / (hi - lo) : 0;
      r = g = b = Math.round(255 * t);
    } else {
      [r, g, b] = signed(v, mode.bound);
    }
    pixels.data.set([r, g, b, 255], 4 * p);
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
  return canvas;
}

/** The colour code with its scale: −bound (blue) … 0 (white) … +bound (red). */
function legend(bound: number): HTMLElement {
  const box = document.createElement('div');
  box.className = 'legend';
  Object.assign(box.dataset, { positive: POSITIVE, negative: NEGATIVE, bound: String(bound) });
  const strip = document.createElement('span');
  strip.className = 'strip';
  strip.style.background = `linear-gradient(to right, ${NEGATIVE}, #ffffff, ${POSITIVE})`;
  const label = (text: string, className: string) => {
    const s = document.createElement('span');
    s.className = className;
    s.textContent = text;
    return s;
  };
  box.append(label(bound ? `−${fmt(bound)}` : '0', 'low'), strip, label(bound ? `+${fmt(bound)}` : '0', 'high'),
    label(bound ? 'blue negative · white 0 · red positive' : 'all zero', 'words'));
  return box;
}

function maps(children: HTMLElement[]): HTMLElement {
  const box = document.createElement('div');
  box.className = 'maps';
  box.append(...children);
  return box;
}

function labelled(canvas: HTMLCanvasElement, text: string, className?: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'labelled';
  const label = document.createElement('span');
  label.textContent = text;
  if (className) label.className = className;
  box.append(canvas, label);
  return box;
}

function withNote(content: HTMLElement, text: string): HTMLElement {
  const box = document.createElement('div');
  const note = document.createElement('div');
  note.className = 'stats-line';
  note.textContent = text;
  box.append(note, content);
  return box;
}

/** A tensor as a histogram (signed: bars red above 0, blue below), or one bar per value for short vectors. */
async function chart(parent: HTMLElement, values: ArrayLike<number>, signedValues: boolean, asVector: boolean): Promise<void> {
  const holder = document.createElement('div');
  holder.className = 'chart';
  parent.append(holder);
  const colours = signedValues ? { positive: POSITIVE, negative: NEGATIVE } : ACTIVATION;
  await draw(holder, asVector ? vectorSpec(values, colours) : histogramSpec(histogram(values, 40, signedValues), colours));
}

type Kind = 'activation' | 'gradient' | 'input' | 'weights' | 'update';

interface Figure {
  figure: HTMLElement;
  summary: Summary;
}

export interface StepViewOptions {
  /** The images' (rows, cols), to draw a first dense layer's weights as images. */
  imageShape: [number, number];
  /** The dispatches of the step (model.trainingStep), to name each tensor's writer. */
  dispatches?: readonly Dispatch[];
  /** The parameters before and after the step (model.getWeights, in its order). */
  before?: readonly { values: Float32Array }[];
  after?: readonly { values: Float32Array }[];
  /** The optimizer, in words (e.g. 'SGD(lr=0.01)'). */
  optimizer?: string;
  /** Called with a dispatch's index when its link is clicked. */
  openKernel?: (index: number) => void;
}

export async function renderStep(container: HTMLElement, step: StepInspection, options: StepViewOptions): Promise<void> {
  container.replaceChildren();
  const writers = options.dispatches ? tensorWriters(step, options.dispatches) : new Map<string, Writer[]>();

  /** A figure for one tensor; its data attributes carry the numbers drawn, for tests and for the curious. */
  const figure = (name: string, kind: Kind, caption: string, values: ArrayLike<number>, writerNote?: string): Figure => {
    const s = summarise(values);
    const f = document.createElement('figure');
    f.className = `tensor ${kind}`;
    Object.assign(f.dataset, {
      tensor: name, kind, count: String(s.count), nonzero: String(s.nonzero), maxAbs: String(s.maxAbs), sumAbs: String(s.sumAbs),
    });
    const c = document.createElement('figcaption');
    c.textContent = caption;
    const line = document.createElement('div');
    line.className = 'stats-line';
    line.textContent = `${s.count.toLocaleString('en-US')} values · mean ${fmt(s.mean)} · max |x| ${fmt(s.maxAbs)} · ${s.nonzero.toLocaleString('en-US')} non-zero`;
    f.append(c, writtenBy(name, writerNote), line);
    if (kind !== 'activation' && kind !== 'input') f.append(legend(s.maxAbs));
    return { figure: f, summary: s };
  };

  /** "written by 3. dense forward (dense_quad_forward)": links into the shader view. */
  const writtenBy = (name: string, note?: string): HTMLElement => {
    const line = document.createElement('div');
    line.className = 'writer-line';
    const list = writers.get(name);
    if (!list?.length) {
      line.textContent = note ?? (options.dispatches ? 'written by: no single dispatch found' : '');
      return line;
    }
    line.append(note ? `${note}: ` : 'written by ');
    list.forEach((w, k) => {
      if (k) line.append(', ');
      const a = document.createElement('a');
      a.className = 'writer';
      a.href = `#kernel-${w.index}`;
      a.dataset.kernel = String(w.index);
      a.dataset.entry = w.entryPoint;
      a.textContent = `${w.index + 1}. ${w.label}`;
      a.title = `Open dispatch ${w.index + 1} (${w.entryPoint}) in the shader view`;
      a.addEventListener('click', (event) => {
        event.preventDefault();
        options.openKernel?.(w.index);
      });
      const code = document.createElement('code');
      code.textContent = w.entryPoint;
      line.append(a, ' (', code, ')');
    });
    return line;
  };

  const head = document.createElement('p');
  head.className = 'note';
  head.textContent = `Step ${step.iteration} at batch size ${step.batch} (${step.samples} samples): batch loss ${step.loss.toFixed(4)}, ` +
    `batch accuracy ${step.accuracy.toFixed(3)}. Read top to bottom for the forward pass (activations), bottom to top for the backward ` +
    'pass (δ, then each layer\'s parameter gradients), then the update the optimizer made. Each tensor names the dispatch that wrote it: ' +
    'click it to read its WGSL and formula in the shader view.';
  container.append(head, legendKey());

  // The batch, all of it, each image with its label and the prediction the forward pass made.
  const [rows, cols] = options.imageShape;
  const pixels = rows * cols;
  const inputCard = document.createElement('section');
  inputCard.className = 'layer';
  inputCard.innerHTML = '<h3>input <small>the batch after preprocessing: label → predicted (red: wrong)</small></h3>';
  const inputFig = figure('input', 'input', `x ${shapeText(step.input.shape)}`, step.input.values);
  const predicted = predictions(step);
  // Feature maps show one sample at a time: the one picked among the inputs.
  const featureViews: { shown: HTMLElement; tensor: TensorReadback; mode: 'grey' | { bound: number } }[] = [];
  const showFeatureMaps = (figure: HTMLElement, tensor: TensorReadback, mode: 'grey' | { bound: number }) => {
    const shown = featureMaps(tensor, mode, 0);
    figure.append(shown);
    featureViews.push({ shown, tensor, mode });
  };
  if (step.input.values.length === step.samples * pixels) {
    const boxes = Array.from({ length: step.samples }, (_, n) => {
      const wrong = predicted && predicted[n] !== step.labels[n];
      const box = labelled(image(step.input.values, rows, cols, n * pixels, 1, 'grey', 2), predicted ? `${step.labels[n]} → ${predicted[n]}` : `label ${step.labels[n]}`, wrong ? 'wrong' : undefined);
      box.dataset.sample = String(n);
      box.title = `Sample ${n}: label ${step.labels[n]}${predicted ? `, predicted ${predicted[n]}` : ''}`;
      box.addEventListener('click', () => {
        if (!featureViews.length) return;
        for (const other of boxes) other.classList.toggle('selected', other === box);
        for (const view of featureViews) {
          const next = featureMaps(view.tensor, view.mode, n);
          view.shown.replaceWith(next);
          view.shown = next;
        }
      });
      return box;
    });
    boxes[0]?.classList.add('selected');
    inputFig.figure.append(maps(boxes));
  }
  const inputRow = document.createElement('div');
  inputRow.className = 'tensors';
  inputRow.append(inputFig.figure);
  inputCard.append(inputRow);
  container.append(inputCard);

  let param = 0;
  for (const layer of step.layers) {
    const card = document.createElement('section');
    card.className = 'layer';
    card.dataset.layer = layer.name;
    const title = document.createElement('h3');
    title.innerHTML = `${layer.name} <small></small>`;
    title.querySelector('small')!.textContent = `${layer.description} → ${shapeText(layer.output.shape)}`;
    card.append(title);
    const row = document.createElement('div');
    row.className = 'tensors';
    card.append(row);
    container.append(card);

    if (layer.typeName === 'Flatten' || layer.typeName === 'Reshape') {
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = 'The same values as the layer before, seen with another shape: no kernel runs.';
      row.append(note);
      continue;
    }

    // Activations.
    const outputName = layer.outputIsPreActivation ? 'logits (the loss applies the softmax)' : 'activations';
    const out = figure(`${layer.name}/output`, 'activation', `${outputName} ${shapeText(layer.output.shape)}`, layer.output.values);
    row.append(out.figure);
    if (layer.output.shape.length === 4) showFeatureMaps(out.figure, layer.output, 'grey');
    else await chart(out.figure, layer.output.values, false, false);

    // The gradient this layer's kernels consumed.
    if (layer.delta) {
      const what = layer.delta.of === 'pre-activation' ? 'δ = ∂L/∂(pre-activation)' : layer.outputIsPreActivation ? 'δ = ∂L/∂logits' : 'δ = ∂L/∂output';
      const d = figure(`${layer.name}/delta`, 'gradient', `${what} ${shapeText(layer.delta.shape)}`, layer.delta.values);
      row.append(d.figure);
      if (layer.delta.shape.length === 4) showFeatureMaps(d.figure, layer.delta, { bound: d.summary.maxAbs });
      else {
        if (layer.delta.shape.length === 2 && layer.delta.shape[1]! <= 64) d.figure.append(matrix(layer.delta, d.summary.maxAbs));
        await chart(d.figure, layer.delta.values, true, false);
      }
    }

    // Per parameter: its gradient, then the weights before, the update and the weights after.
    for (const grad of layer.grads) {
      const paramRow = document.createElement('div');
      paramRow.className = 'tensors param';
      card.append(paramRow);
      const g = figure(`${layer.name}/${grad.name} gradient`, 'gradient', `∂L/∂${grad.name} (${grad.shape.join(', ')})`, grad.values);
      paramRow.append(g.figure);
      await weightPicture(g, grad.values, grad.name, grad.shape);
      const before = options.before?.[param]?.values;
      const after = options.after?.[param]?.values;
      param++;
      if (!before || !after || before.length !== grad.values.length || after.length !== grad.values.length) continue;
      const update = new Float32Array(after.length);
      for (let i = 0; i < update.length; i++) update[i] = after[i]! - before[i]!;
      const first = step.iteration === 1;
      const b = figure(`${layer.name}/${grad.name} before`, 'weights', `${grad.name} before the step`, before,
        first ? 'the initial weights, uploaded from the CPU; this step\'s update will be written by' : 'written by the previous step\'s update');
      b.figure.dataset.initial = String(first);
      const u = figure(`${layer.name}/${grad.name} update`, 'update', `update Δ = after − before`, update);
      const a = figure(`${layer.name}/${grad.name} after`, 'weights', `${grad.name} after the step`, after);
      // The step size the update took along the gradient: −Δ·g / |g|² (plain SGD: the learning rate).
      let dot = 0;
      let norm = 0;
      for (let i = 0; i < update.length; i++) {
        dot += update[i]! * grad.values[i]!;
        norm += grad.values[i]! * grad.values[i]!;
      }
      const rate = norm > 0 ? -dot / norm : 0;
      u.figure.dataset.rate = String(rate);
      const explain = document.createElement('div');
      explain.className = 'stats-line';
      explain.textContent = `${options.optimizer ? `${options.optimizer}: ` : ''}−Δ·g / |g|² = ${fmt(rate)} (for plain SGD, the learning rate)`;
      u.figure.append(explain);
      paramRow.append(b.figure, u.figure, a.figure);
      for (const [fig, values] of [[b, before], [u, update], [a, after]] as const) await weightPicture(fig, values, grad.name, grad.shape);
    }
  }

  /** A parameter tensor (or its gradient or update): images where it has image shape, else a histogram or bars. */
  async function weightPicture(f: Figure, values: Float32Array, name: string, shape: number[]): Promise<void> {
    if (name === 'kernel' && shape.length === 4) f.figure.append(filterImages(values, shape, f.summary.maxAbs));
    else {
      if (name === 'kernel' && shape.length === 2 && shape[0] === pixels) f.figure.append(kernelImages(values, shape, options.imageShape, f.summary.maxAbs));
      await chart(f.figure, values, true, values.length <= 64);
    }
  }
}

/** What the colours mean, once for the whole view. */
function legendKey(): HTMLElement {
  const p = document.createElement('p');
  p.className = 'note legend-key';
  p.append('Signed values (δ, gradients, weights, updates): ');
  const sw = (colour: string, text: string) => {
    const s = document.createElement('span');
    s.className = 'swatch';
    s.style.background = colour;
    p.append(s, ` ${text} `);
  };
  sw(POSITIVE, 'positive');
  sw(NEGATIVE, 'negative');
  sw('#ffffff', 'zero;');
  p.append('the scale beside each picture gives the value of full colour. Activations and images are grey.');
  return p;
}

/** The predicted class of each sample, from the last layer's output; undefined where it is not a classifier's. */
function predictions(step: StepInspection): number[] | undefined {
  const last = step.layers[step.layers.length - 1];
  if (!last || last.output.shape.length !== 2) return undefined;
  const width = last.output.shape[1]!;
  const v = last.output.values;
  return Array.from({ length: step.samples }, (_, n) => {
    if (width === 1) return v[n]! > (last.outputIsPreActivation ? 0 : 0.5) ? 1 : 0;
    let best = 0;
    for (let c = 1; c < width; c++) if (v[n * width + c]! > v[n * width + best]!) best = c;
    return best;
  });
}

/** A (samples, units) tensor as one signed image: a row per sample, a column per unit. */
function matrix(t: TensorReadback, bound: number): HTMLElement {
  const [samples, units] = t.shape as [number, number];
  const scale = Math.max(2, Math.min(12, Math.floor(160 / units), Math.floor(200 / samples)));
  return withNote(image(t.values, samples, units, 0, 1, { bound }, scale) as unknown as HTMLElement, `a row per sample, a column per unit (${samples} × ${units})`);
}

/** Feature maps (samples, H, W, C) of one sample: one small image per channel (at most 32). */
function featureMaps(t: TensorReadback, mode: 'grey' | { bound: number }, sample: number): HTMLElement {
  const [, h, w, c] = t.shape as [number, number, number, number];
  const scale = Math.max(1, Math.round(56 / Math.max(h, w)));
  const shown = Math.min(c, 32);
  const offset = sample * h * w * c;
  return withNote(maps(Array.from({ length: shown }, (_, channel) => labelled(image(t.values, h, w, offset + channel, c, mode, scale), `ch ${channel}`))),
    `sample ${sample} of the batch (click an input image for another)${shown < c ? `, its first ${shown} of ${c} channels` : ''}`);
}

/** The first up to 16 columns of a kernel (IN, OUT) whose IN is an image's pixels, each drawn as that image. */
function kernelImages(values: Float32Array, shape: number[], imageShape: [number, number], bound: number): HTMLElement {
  const [inputs, units] = shape as [number, number];
  const [rows, cols] = imageShape;
  const shown = Math.min(units, 16);
  if (inputs !== rows * cols) throw new Error(`kernelImages: ${inputs} inputs are not ${rows}×${cols} pixels.`);
  return withNote(maps(Array.from({ length: shown }, (_, o) => labelled(image(values, rows, cols, o, units, { bound }, 2), `unit ${o}`))),
    `the weights into each unit, as the image they multiply${shown < units ? ` (the first ${shown} of ${units} units)` : ''}`);
}

/** Conv kernels (KH, KW, CIN, COUT): the first input channel of each filter (at most 32). */
function filterImages(values: Float32Array, shape: number[], bound: number): HTMLElement {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const shown = Math.min(cout, 32);
  return withNote(maps(Array.from({ length: shown }, (_, o) => labelled(image(values, kh, kw, o, cin * cout, { bound }, 8), `f ${o}`))),
    `${shown < cout ? `the first ${shown} of ${cout} filters` : 'each filter'}${cin > 1 ? `, its input channel 0 of ${cin}` : ''}`);
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

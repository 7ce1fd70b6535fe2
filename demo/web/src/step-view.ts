/**
 * The step view: one training step read back from the GPU buffers, layer by
 * layer: the batch, each layer's activations, the gradient it passed on and
 * its parameter gradients. Feature maps, input images and image-shaped weight
 * gradients are drawn as pixels; everything else as histograms.
 */
import type { StepInspection, TensorReadback } from '../../../src/model/sequential.js';
import { draw, histogram, histogramSpec, vectorSpec } from './charts.js';

/** Colours: activations in blue, gradients in red. */
const ACTIVATION = '#1f77b4';
const GRADIENT = '#d62728';

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

/** A figure for one tensor; its data attributes carry the numbers drawn, for tests and for the curious. */
function figure(name: string, kind: 'activation' | 'gradient' | 'input', caption: string, values: ArrayLike<number>): { figure: HTMLElement; summary: Summary } {
  const s = summarise(values);
  const f = document.createElement('figure');
  f.className = 'tensor';
  Object.assign(f.dataset, {
    tensor: name, kind, count: String(s.count), nonzero: String(s.nonzero), maxAbs: String(s.maxAbs), sumAbs: String(s.sumAbs),
  });
  const c = document.createElement('figcaption');
  c.textContent = caption;
  const line = document.createElement('div');
  line.className = 'stats-line';
  line.textContent = `${s.count.toLocaleString('en-US')} values · mean ${fmt(s.mean)} · max |x| ${fmt(s.maxAbs)} · ${s.nonzero.toLocaleString('en-US')} non-zero`;
  f.append(c, line);
  return { figure: f, summary: s };
}

/**
 * values[offset + (y·cols + x)·stride] as a `rows`×`cols` image, `scale` screen
 * pixels per value: grey (0 black … max white) or diverging (blue −, white 0, red +).
 */
function image(values: ArrayLike<number>, rows: number, cols: number, offset: number, stride: number, mode: 'grey' | 'diverging', scale: number): HTMLCanvasElement {
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
  const bound = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
  for (let p = 0; p < rows * cols; p++) {
    const v = values[offset + p * stride]!;
    let r: number, g: number, b: number;
    if (mode === 'grey') {
      const t = hi > lo ? (v - lo) / (hi - lo) : 0;
      r = g = b = Math.round(255 * t);
    } else {
      const t = Math.min(1, Math.abs(v) / bound);
      const fade = Math.round(255 * (1 - t));
      [r, g, b] = v >= 0 ? [255, fade, fade] : [fade, fade, 255];
    }
    pixels.data.set([r, g, b, 255], 4 * p);
  }
  canvas.getContext('2d')!.putImageData(pixels, 0, 0);
  return canvas;
}

function maps(children: HTMLElement[]): HTMLElement {
  const box = document.createElement('div');
  box.className = 'maps';
  box.append(...children);
  return box;
}

function labelled(canvas: HTMLCanvasElement, text: string): HTMLElement {
  const box = document.createElement('div');
  box.className = 'labelled';
  const label = document.createElement('span');
  label.textContent = text;
  box.append(canvas, label);
  return box;
}

/** A tensor as a histogram, or one bar per value for short vectors. */
async function chart(parent: HTMLElement, values: ArrayLike<number>, color: string, asVector: boolean): Promise<void> {
  const holder = document.createElement('div');
  holder.className = 'chart';
  parent.append(holder);
  await draw(holder, asVector ? vectorSpec(values, color) : histogramSpec(histogram(values), color));
}

/** Feature maps (samples, H, W, C) of the first sample: one small image per channel (at most 32). */
function featureMaps(t: TensorReadback, mode: 'grey' | 'diverging'): HTMLElement {
  const [, h, w, c] = t.shape as [number, number, number, number];
  const scale = Math.max(1, Math.round(56 / Math.max(h, w)));
  const shown = Math.min(c, 32);
  return withNote(maps(Array.from({ length: shown }, (_, channel) => labelled(image(t.values, h, w, channel, c, mode, scale), `ch ${channel}`))),
    `the first sample${shown < c ? `, its first ${shown} of ${c} channels` : ''}`);
}

function withNote(content: HTMLElement, text: string): HTMLElement {
  const box = document.createElement('div');
  const note = document.createElement('div');
  note.className = 'stats-line';
  note.textContent = text;
  box.append(note, content);
  return box;
}

/** The first up to 16 columns of a kernel (IN, OUT) whose IN is an image's pixels, each drawn as that image. */
function kernelImages(values: Float32Array, shape: number[], imageShape: [number, number]): HTMLElement {
  const [inputs, units] = shape as [number, number];
  const [rows, cols] = imageShape;
  const shown = Math.min(units, 16);
  if (inputs !== rows * cols) throw new Error(`kernelImages: ${inputs} inputs are not ${rows}×${cols} pixels.`);
  return withNote(maps(Array.from({ length: shown }, (_, o) => labelled(image(values, rows, cols, o, units, 'diverging', 2), `unit ${o}`))),
    `the weights into each unit, as the image they multiply${shown < units ? ` (the first ${shown} of ${units} units)` : ''}`);
}

/** Conv kernels (KH, KW, CIN, COUT): the first input channel of each filter (at most 32). */
function filterImages(values: Float32Array, shape: number[]): HTMLElement {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const shown = Math.min(cout, 32);
  return withNote(maps(Array.from({ length: shown }, (_, o) => labelled(image(values, kh, kw, o, cin * cout, 'diverging', 8), `f ${o}`))),
    `${shown < cout ? `the first ${shown} of ${cout} filters` : 'each filter'}${cin > 1 ? `, its input channel 0 of ${cin}` : ''}`);
}

export interface StepViewOptions {
  /** The images' (rows, cols), to draw a first dense layer's weight gradient as images. */
  imageShape: [number, number];
  /** Samples of the batch drawn as images. */
  inputs?: number;
}

export async function renderStep(container: HTMLElement, step: StepInspection, options: StepViewOptions): Promise<void> {
  container.replaceChildren();
  const head = document.createElement('p');
  head.className = 'note';
  head.textContent = `Step ${step.iteration} at batch size ${step.batch} (${step.samples} samples): batch loss ${step.loss.toFixed(4)}, ` +
    `batch accuracy ${step.accuracy.toFixed(3)}. Activations are the forward pass of this step; gradients are its backward pass, ` +
    'before the optimizer applied them. Gradients: red positive, blue negative, white zero.';
  container.append(head);

  // The batch.
  const [rows, cols] = options.imageShape;
  const pixels = rows * cols;
  const inputCard = document.createElement('section');
  inputCard.className = 'layer';
  inputCard.innerHTML = '<h3>input <small>the batch after preprocessing</small></h3>';
  const inputFig = figure('input', 'input', `x ${shapeText(step.input.shape)}`, step.input.values);
  const inputs = Math.min(options.inputs ?? 8, step.samples);
  if (step.input.values.length === step.samples * pixels) {
    inputFig.figure.append(maps(Array.from({ length: inputs }, (_, n) => labelled(image(step.input.values, rows, cols, n * pixels, 1, 'grey', 2), `label ${step.labels[n]}`))));
  }
  const tensors = document.createElement('div');
  tensors.className = 'tensors';
  tensors.append(inputFig.figure);
  inputCard.append(tensors);
  container.append(inputCard);

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
    if (layer.output.shape.length === 4) out.figure.append(featureMaps(layer.output, 'grey'));
    else await chart(out.figure, layer.output.values, ACTIVATION, false);

    // The gradient this layer's kernels consumed.
    if (layer.delta) {
      const what = layer.delta.of === 'pre-activation' ? 'δ = ∂L/∂(pre-activation)' : layer.outputIsPreActivation ? 'δ = ∂L/∂logits' : 'δ = ∂L/∂output';
      const d = figure(`${layer.name}/delta`, 'gradient', `${what} ${shapeText(layer.delta.shape)}`, layer.delta.values);
      row.append(d.figure);
      if (layer.delta.shape.length === 4) d.figure.append(featureMaps(layer.delta, 'diverging'));
      else await chart(d.figure, layer.delta.values, GRADIENT, false);
    }

    // Parameter gradients.
    for (const grad of layer.grads) {
      const g = figure(`${layer.name}/${grad.name} gradient`, 'gradient', `∂L/∂${grad.name} (${grad.shape.join(', ')})`, grad.values);
      row.append(g.figure);
      if (grad.name === 'kernel' && grad.shape.length === 4) g.figure.append(filterImages(grad.values, grad.shape));
      else if (grad.name === 'kernel' && grad.shape.length === 2 && grad.shape[0] === pixels) {
        g.figure.append(kernelImages(grad.values, grad.shape, options.imageShape));
      }
      if (!(grad.name === 'kernel' && grad.shape.length === 4)) await chart(g.figure, grad.values, GRADIENT, grad.values.length <= 64);
    }
  }
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

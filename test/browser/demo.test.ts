/**
 * The browser demo (demo/web), built and served as a user gets it, in headless
 * Chromium with WebGPU on SwiftShader: it trains s001-softmax to an accuracy
 * only a working model reaches, its weights after a few steps equal Dawn's in
 * Node, its checkpoints are the Node ones, the shader view shows the dense
 * kernels' WGSL, and the step view draws the gradients of a real step (checked
 * against an f64 computation here), and it runs the classic baselines (1-NN's
 * errors equal a brute-force 1-NN here). A screenshot of the trained page is kept
 * in test-output/.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentById, isClassic, Session, type Settings } from '../../demo/web/src/session.js';
import { loadMnist, type ImageSet } from '../../src/data/mnist.js';
import { balancedSubset } from '../../src/data/split.js';
import type { ClassicExperiment } from '../../src/experiments/registry.js';
import { createRuntime } from '../../src/gpu/device.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { decodeCheckpoint } from '../../src/model/checkpoint.js';
import { decodeSafetensors } from '../../src/model/safetensors.js';
import { mnistDir } from '../helpers.js';
import { CHROMIUM, collectErrors, hasChromium, launchChromium, OUTPUT, serveBuiltApp, setSettings, waitForState } from './app.js';

const dataDir = mnistDir();
if (!hasChromium) console.warn(`test/browser/demo.test.ts: skipped, ${CHROMIUM} does not exist (install chromium to run the browser demo's tests).`);
else if (!dataDir) console.warn('test/browser/demo.test.ts: skipped, no MNIST folder (set MNIST_DIR, or put the files in ../shared/mnist).');

/**
 * s001-softmax with the page's defaults on SwiftShader (6,000 training and
 * 1,000 test images, 5 epochs, seed 1) reaches 0.824; chance is 0.1, and a
 * broken gradient or update stays near it.
 */
const ACCURACY_FLOOR = 0.75;
/**
 * Chromium's weights against Node's after the same steps. Both run Dawn on
 * SwiftShader and were bit-identical when measured (max |difference| 0); a
 * real divergence (another shuffle, a wrong kernel) moves weights by 1e-4 or
 * more within a few steps, as the control comparison below shows.
 */
const CHROME_NODE_TOLERANCE = 1e-6;

describe.skipIf(!hasChromium || !dataDir)('the browser demo in headless Chromium (WebGPU on SwiftShader)', () => {
  let server: PreviewServer;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let rt: Runtime;
  let mnist: { train: ImageSet; test: ImageSet };
  /** Requests the page made for MNIST files. */
  const dataRequests: string[] = [];

  beforeAll(async () => {
    ({ server, url } = await serveBuiltApp());
    // Kernel choices fixed per adapter kind on both sides (the Node side reads SHADERPROP_AUTOTUNE=0 from the test config):
    // Chrome = Node compares the same kernels.
    url = `${url}${url.includes('?') ? '&' : '?'}autotune=0`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1360, height: 1000 }, acceptDownloads: true });
    page = await context.newPage();
    errors = collectErrors(page);
    page.on('request', (request) => {
      if (request.url().includes('/mnist/')) dataRequests.push(request.url());
    });
    rt = await createRuntime();
    mnist = await loadMnist({ dir: dataDir! });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rt?.destroy();
  });

  /** Saves the page's model through its Save button; returns the downloaded checkpoint's bytes. */
  async function downloadCheckpoint(): Promise<Uint8Array> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    return new Uint8Array(readFileSync((await download.path())!));
  }

  /** Trains in Node with the demo's own session code; returns the session (caller disposes). */
  async function trainInNode(settings: Settings): Promise<Session> {
    const session = Session.create(rt, settings, mnist);
    await session.fit();
    return session;
  }

  it('starts with the adapter named, MNIST from the server, and s001-softmax selected', async () => {
    await page.goto(url);
    await waitForState(page, ['ready']);
    expect(await page.textContent('#adapter')).toContain('SwiftShader');
    expect(await page.getAttribute('#data-status', 'data-source')).toBe('network');
    expect(dataRequests.length).toBeGreaterThanOrEqual(4);
    expect(await page.inputValue('#experiment')).toBe('s001-softmax');
    // Every registry id is listed and can be chosen, the classic baselines too.
    const options = await page.$$eval('#experiment option', (list) => list.map((o) => ({ text: o.textContent!, disabled: (o as HTMLOptionElement).disabled })));
    expect(options.find((o) => o.text.startsWith('s001-softmax'))!.text).toContain('notebook 0.92');
    expect(options.find((o) => o.text.startsWith('s003-1nn'))!.text).toContain('classic baseline');
    expect(options.filter((o) => o.disabled || o.text.includes('Node CLI only'))).toEqual([]);
    expect(await page.inputValue('#train-images')).toBe('6000');
  });

  it('trains s001-softmax with the defaults to an accuracy only a working model reaches, with live charts and the report', async () => {
    await page.click('#train');
    await waitForState(page, ['done']);
    const accuracy = Number(await page.getAttribute('#test-accuracy', 'data-value'));
    console.log(`browser demo: s001-softmax, 6,000 train / 1,000 test images, 5 epochs: test accuracy ${accuracy}`);
    expect(accuracy).toBeGreaterThan(ACCURACY_FLOOR);
    expect(await page.textContent('#stat-epoch')).toBe('5/5');
    expect(Number((await page.textContent('#stat-samples'))!.replace(/,/g, ''))).toBeGreaterThan(0);
    // The classification report's accuracy is the one shown.
    expect(await page.textContent('#report')).toMatch(new RegExp(`accuracy\\s+${accuracy.toFixed(4)}\\s+1000`));
    // The charts drew: curves, confusion matrix, and two image grids with ink in them.
    for (const id of ['curves', 'confusion']) expect(await page.locator(`#${id} svg .mark-symbol, #${id} svg .mark-rect`).count()).toBeGreaterThan(0);
    for (const id of ['first-images', 'mislabelled']) {
      const ink = await page.$eval(`#${id} canvas`, (canvas) => {
        const c = canvas as HTMLCanvasElement;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i]! < 64 && data[i + 3]! > 0) dark++;
        return dark;
      });
      expect(ink, `${id} has dark pixels`).toBeGreaterThan(1000);
    }
    // The confusion matrix as counts: whole numbers that add up to the test images; and back to recall.
    const cells = () => page.$$eval('#confusion svg .mark-text.role-mark text', (list) => list.map((t) => t.textContent!));
    expect((await cells()).every((t) => /^\d\.\d\d$/.test(t))).toBe(true);
    await page.click('#confusion-counts');
    await page.waitForSelector('#confusion[data-values=counts] svg');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#confusion svg .mark-text.role-mark text')).every((t) => /^\d+$/.test(t.textContent!)));
    const counts = (await cells()).map(Number);
    expect(counts).toHaveLength(100);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(await page.getAttribute('#confusion-counts', 'aria-pressed')).toBe('true');
    await page.click('#confusion-recall');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#confusion svg .mark-text.role-mark text')).every((t) => /^\d\.\d\d$/.test(t.textContent!)));
    // The run is on the compare plot.
    await page.click('[data-tab=compare]');
    await page.waitForSelector('#compare svg');
    expect(await page.locator('#runs li').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#compare svg [aria-roledescription="line mark"]').count()).toBe(Number(await page.getAttribute('#compare', 'data-runs')));
    await page.click('[data-tab=training]');
    mkdirSync(OUTPUT, { recursive: true });
    const screenshot = join(OUTPUT, 'web-demo-trained.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(100_000);
    expect(errors).toEqual([]);
  });

  it('saves a checkpoint that Node loads, giving the accuracy the page shows', async () => {
    const shown = Number(await page.getAttribute('#test-accuracy', 'data-value'));
    const bytes = await downloadCheckpoint();
    const { header } = decodeCheckpoint(bytes, 'web-demo.ckpt');
    expect(header.meta).toMatchObject({ id: 's001-softmax', epoch: 4 });
    const settings = header.meta.settings as Settings;
    const session = Session.create(rt, settings, mnist);
    try {
      await session.model.restore(bytes, 'web-demo.ckpt');
      expect(await session.model.iterations()).toBe(header.optimizer!.iteration);
      expect((await session.model.evaluate(session.test)).accuracy).toBe(shown);
    } finally {
      session.dispose();
    }
  });

  it('saves the model as safetensors and as TensorFlow.js files, with the checkpoint\'s weights', async () => {
    const checkpoint = decodeCheckpoint(await downloadCheckpoint(), 'web-demo.ckpt');
    // Each tensor of the checkpoint's flat parameter buffer, one after the other.
    const params = Buffer.concat(checkpoint.header.tensors.map((t) => {
      const values = checkpoint.params.subarray(t.offset, t.offset + t.count);
      return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    }));
    const downloads: { name: string; bytes: Buffer }[] = [];
    const save = async (format: string, count: number) => {
      await page.selectOption('#save-format', format);
      const done = new Promise<void>((resolve) => {
        page.on('download', async function collect(download) {
          downloads.push({ name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) });
          if (downloads.length === count) {
            page.off('download', collect);
            resolve();
          }
        });
      });
      await page.click('#save');
      await done;
    };
    try {
      await save('safetensors', 1);
      expect(downloads.map((d) => d.name)).toEqual(['s001-softmax.safetensors']);
      const { metadata, tensors } = decodeSafetensors(new Uint8Array(downloads[0]!.bytes), 's001-softmax.safetensors');
      expect(JSON.parse(metadata.architecture!)).toMatchObject({ class_name: 'Sequential' });
      expect([...tensors.keys()]).toEqual(['dense/kernel', 'dense/bias']);
      expect(Buffer.concat([...tensors.values()].map((t) => Buffer.from(t.values.buffer))).equals(params)).toBe(true);

      downloads.length = 0;
      await save('tfjs', 2);
      expect(downloads.map((d) => d.name).sort()).toEqual(['s001-softmax.json', 's001-softmax.weights.bin']);
      const modelJson = JSON.parse(downloads.find((d) => d.name.endsWith('.json'))!.bytes.toString('utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
      expect(modelJson.format).toBe('layers-model');
      expect(modelJson.weightsManifest[0]!.paths).toEqual(['s001-softmax.weights.bin']);
      expect(downloads.find((d) => d.name.endsWith('.bin'))!.bytes.equals(params)).toBe(true);
      expect(await page.textContent('#status')).toMatch(/Saved s001-softmax\.json and s001-softmax\.weights\.bin/);
    } finally {
      await page.selectOption('#save-format', 'ckpt');
    }
  });

  it('gives the same weights as Node after a few steps of s002-ii with the same seed and subset (Chrome = Node)', async () => {
    // Equal weights need the same adapter on both sides (SwiftShader in Chromium and in Dawn here and in CI).
    const pageAdapter = (await page.textContent('#adapter'))!;
    expect(pageAdapter.startsWith(rt.adapter.name), `Chrome = Node compares runs on one adapter: Chromium runs on '${pageAdapter}', Node on '${rt.adapter.name}'`).toBe(true);
    await page.selectOption('#experiment', 's002-ii');
    await setSettings(page, { train: 288, test: 100, epochs: 1, seed: 7 });
    await page.click('#train');
    await waitForState(page, ['done']);
    const { header, params } = decodeCheckpoint(await downloadCheckpoint(), 'chrome.ckpt');
    const settings = header.meta.settings as Settings;
    expect(settings).toMatchObject({ id: 's002-ii', trainImages: 288, seed: 7, batchSize: 32 });
    // 288 images less the 1/12 that validate: 264 train, 9 steps (the last one partial).
    expect(header.optimizer!.iteration).toBe(9);

    const difference = async (s: Settings) => {
      const node = await trainInNode(s);
      try {
        const weights = await node.model.getWeights();
        let max = 0;
        header.tensors.forEach((t, k) => {
          const values = weights[k]!.values;
          expect(values.length).toBe(t.count);
          for (let i = 0; i < t.count; i++) max = Math.max(max, Math.abs(params[t.offset + i]! - values[i]!));
        });
        return max;
      } finally {
        node.dispose();
      }
    };
    const same = await difference(settings);
    console.log(`browser demo: Chrome vs Node after 9 steps of s002-ii: max |weight difference| ${same}`);
    expect(same).toBeLessThanOrEqual(CHROME_NODE_TOLERANCE);
    // The control: another shuffle of the same images is a divergence the tolerance catches.
    expect(await difference({ ...settings, seed: 8 })).toBeGreaterThan(1e-4);
  });

  it('loads a checkpoint written in Node and shows the accuracy Node measures', async () => {
    const settings: Settings = { id: 's002-ii', cell: null, epochs: 1, batchSize: 32, learningRate: 0.1, trainImages: 600, testImages: 200, seed: 3 };
    const node = await trainInNode(settings);
    let expected: number;
    const file = join(OUTPUT, 's002-ii-node.ckpt');
    try {
      expected = (await node.model.evaluate(node.test)).accuracy;
      mkdirSync(OUTPUT, { recursive: true });
      writeFileSync(file, await node.checkpoint());
    } finally {
      node.dispose();
    }
    // The page keeps its sizes: make them the ones Node evaluated on.
    await setSettings(page, { train: 600, test: 200 });
    await page.setInputFiles('#load', file);
    await waitForState(page, ['ready']);
    expect(await page.inputValue('#experiment')).toBe('s002-ii');
    expect(Number(await page.getAttribute('#test-accuracy', 'data-value'))).toBe(expected);
    expect(await page.textContent('#status')).toContain('Loaded s002-ii-node.ckpt');
  });

  it('lists every kernel of a training step with its WGSL, bindings and shapes, and times them', async () => {
    await page.selectOption('#experiment', 's001-softmax');
    await page.click('[data-tab=shaders]');
    await page.waitForSelector('details.kernel');
    await waitForState(page, ['ready']);
    const entries = await page.$$eval('details.kernel', (list) => list.map((d) => (d as HTMLElement).dataset.entry));
    // The dense products run in the family the adapter gets (dense_quad_* with subgroups).
    const forward = entries.find((e) => /^dense(_quad|_tiled)?_forward$/.test(e ?? ''));
    const backwardWeight = entries.find((e) => /^dense(_quad|_tiled)?_backward_weight$/.test(e ?? ''));
    expect(forward).toBeDefined();
    expect(backwardWeight).toBeDefined();
    expect(entries).toEqual(expect.arrayContaining(['gather_batch', 'softmax_cross_entropy', 'bias_backward', 'sgd_step']));
    expect(entries.indexOf(forward)).toBeLessThan(entries.indexOf(backwardWeight));

    for (const entry of [forward!, backwardWeight!]) {
      const kernel = page.locator(`details.kernel[data-entry=${entry}]`);
      await kernel.locator('summary').click();
      await kernel.locator('.wgsl .shiki').waitFor();
      const code = (await kernel.locator('.wgsl pre').textContent())!;
      expect(code).toContain(`fn ${entry}(`);
      expect(code).toContain('@group(0) @binding(0)');
      // Highlighted: coloured tokens, and the entry point's line marked.
      expect(await kernel.locator('.wgsl pre span[style*="color"]').count()).toBeGreaterThan(50);
      expect(await kernel.locator('.wgsl .line.entry').textContent()).toContain(`fn ${entry}(`);
      const bindings = (await kernel.locator('table').first().textContent())!;
      expect(bindings).toContain('(32, 784)');
      expect(bindings).toContain('(784, 10)');
      // Its formula, from the WGSL header, beside the code: the lines of this kernel marked.
      expect(await kernel.locator('.formula pre').textContent()).toMatch(/weight/);
      expect(await kernel.locator('.formula .entry').count()).toBeGreaterThan(0);
    }
    // Every kernel names what it computes: its lines of a header's formula block, or the block of its file.
    for (const entry of ['gather_batch', 'softmax_cross_entropy', 'bias_backward', 'sgd_step']) {
      const formula = page.locator(`details.kernel[data-entry=${entry}] .formula`);
      expect(await formula.locator('.entry').first().textContent()).toContain(entry);
    }

    await page.click('#time-step');
    await waitForState(page, ['ready']);
    const times = await page.$$eval('details.kernel summary .time', (list) => list.map((t) => t.textContent!));
    expect(times.length).toBe(entries.length);
    // Five timed steps after a warm-up one: medians, per dispatch where the adapter stamps passes.
    expect(await page.getAttribute('#timing-note', 'data-steps')).toBe('5');
    expect(Number(await page.getAttribute('#timing-note', 'data-wall-ms'))).toBeGreaterThan(0);
    const note = (await page.textContent('#timing-note'))!;
    if (times.every((t) => /µs$/.test(t))) {
      expect(times.every((t) => /^\d+(\.\d)? µs$/.test(t))).toBe(true);
      expect(note).toMatch(/One step: .* µs of GPU time over \d+ dispatches, the median of 5 steps after a warm-up one/);
    } else {
      expect(note).toMatch(/Wall time of one step, median of 5 after a warm-up step/);
    }
    expect(errors).toEqual([]);
  });

  it('runs one step and draws the gradients it read back, equal to an f64 computation of that step', async () => {
    // A fresh model (another seed), so that the weights before the step are the initial ones Node makes.
    const settings: Settings = { id: 's001-softmax', cell: null, epochs: 1, batchSize: 32, learningRate: 0.01, trainImages: 512, testImages: 100, seed: 11 };
    await setSettings(page, { batch: 32, lr: 0.01, train: 512, test: 100, seed: 11, epochs: 1 });
    await page.click('[data-tab=step]');
    await page.click('#run-step');
    await waitForState(page, ['ready']);
    await page.waitForSelector('figure.tensor[data-tensor="dense/kernel gradient"] canvas');

    // The reference: softmax regression on the first 32 images (x/255) from the initial weights.
    const initial = Session.create(rt, settings, mnist);
    const [kernel, bias] = (await initial.model.getWeights()).map((t) => t.values);
    initial.dispose();
    const B = 32, IN = 784, OUT = 10;
    const dW = new Float64Array(IN * OUT);
    const db = new Float64Array(OUT);
    for (let n = 0; n < B; n++) {
      const x = Array.from(mnist.train.images.subarray(n * IN, (n + 1) * IN), (v) => v / 255);
      const z = Array.from({ length: OUT }, (_, o) => x.reduce((s, xi, i) => s + xi * kernel![i * OUT + o]!, bias![o]!));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let o = 0; o < OUT; o++) {
        const d = (e[o]! / sum - (o === mnist.train.labels[n] ? 1 : 0)) / B;
        db[o]! += d;
        for (let i = 0; i < IN; i++) dW[i * OUT + o]! += x[i]! * d;
      }
    }
    const stats = (values: Float64Array) => ({ sumAbs: values.reduce((s, v) => s + Math.abs(v), 0), maxAbs: values.reduce((s, v) => Math.max(s, Math.abs(v)), 0), nonzero: values.filter((v) => v !== 0).length });
    for (const [name, reference] of [['dense/kernel gradient', dW], ['dense/bias gradient', db]] as const) {
      const shown = await page.$eval(`figure.tensor[data-tensor="${name}"]`, (f) => ({ ...(f as HTMLElement).dataset }));
      const expected = stats(reference);
      expect(Number(shown.count)).toBe(reference.length);
      expect(Number(shown.nonzero)).toBe(expected.nonzero);
      expect(Number(shown.maxAbs)).toBeGreaterThan(0);
      expect(Math.abs(Number(shown.maxAbs) - expected.maxAbs)).toBeLessThanOrEqual(1e-4 * expected.maxAbs);
      expect(Math.abs(Number(shown.sumAbs) - expected.sumAbs)).toBeLessThanOrEqual(1e-4 * expected.sumAbs);
    }
    // Drawn in the legend's colours, by sign: each pixel of the kernel gradient's images (unit o, pixel p is dW[p, o])
    // is the legend's positive colour's hue where dW > 0 and the negative one's where dW < 0.
    const legend = await page.$eval('figure.tensor[data-tensor="dense/kernel gradient"] .legend', (l) => ({ ...(l as HTMLElement).dataset }));
    const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
    const [pos, neg] = [hex(legend.positive!), hex(legend.negative!)];
    // The two colours differ most in red and blue: red-ish or blue-ish is which of r − b and b − r is larger.
    expect(pos[0]! - pos[2]!).toBeGreaterThan(0);
    expect(neg[2]! - neg[0]!).toBeGreaterThan(0);
    const pixels = await page.$$eval('figure.tensor[data-tensor="dense/kernel gradient"] canvas', (canvases) => canvases.map((canvas) => {
      const c = canvas as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    }));
    expect(pixels).toHaveLength(10);
    const maxAbs = dW.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    let checked = 0;
    pixels.forEach((data, o) => {
      for (let p = 0; p < IN; p++) {
        const v = dW[p * OUT + o]!;
        if (Math.abs(v) < 0.05 * maxAbs) continue;
        const [r, , b] = data.slice(4 * p, 4 * p + 3);
        expect(Math.sign(r! - b!), `unit ${o} pixel ${p}: ${v}`).toBe(Math.sign(v));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(500);
    // The bias gradient's bars: one per unit, the legend's positive colour above 0 and the negative one below.
    const bars = await page.$$eval('figure.tensor[data-tensor="dense/bias gradient"] svg .mark-rect path', (paths) => paths.map((p) => ({ fill: p.getAttribute('fill'), label: p.getAttribute('aria-label') })));
    expect(bars).toHaveLength(10);
    for (const bar of bars) {
      const unit = Number(/unit: (\d+)/.exec(bar.label!)![1]);
      expect(bar.fill!.toLowerCase(), `unit ${unit}: ${db[unit]}`).toBe(db[unit]! < 0 ? legend.negative : legend.positive);
    }
    // Every histogram of a signed tensor: bars left of 0 in the negative colour, right of it in the positive one.
    const histogramBars = await page.$$eval('figure.tensor:not(.activation):not(.input) svg .mark-rect path', (paths) => paths.map((p) => ({ fill: p.getAttribute('fill'), label: p.getAttribute('aria-label') ?? '' })));
    for (const bar of histogramBars.filter((b) => b.label.startsWith('start'))) {
      const [start, end] = [/start: (\S+)/, /end: (\S+)/].map((r) => Number(r.exec(bar.label)![1]!.replace('−', '-')));
      if (start! + end! !== 0) expect(bar.fill!.toLowerCase(), bar.label).toBe(start! + end! < 0 ? legend.negative : legend.positive);
    }

    // All of the batch, each image with its label.
    expect(await page.locator('figure.tensor[data-tensor="input"] canvas').count()).toBe(32);
    // The weights before the step are the initial ones; the update is −lr·g (plain SGD).
    const before = await page.$eval('figure.tensor[data-tensor="dense/kernel before"]', (f) => ({ ...(f as HTMLElement).dataset }));
    expect(Math.abs(Number(before.sumAbs) - kernel!.reduce((a, v) => a + Math.abs(v), 0))).toBeLessThan(1e-3);
    for (const name of ['dense/kernel update', 'dense/bias update']) {
      const rate = Number(await page.getAttribute(`figure.tensor[data-tensor="${name}"]`, 'data-rate'));
      expect(Math.abs(rate - 0.01)).toBeLessThan(1e-4);
    }

    // Every tensor names the dispatch that wrote it, and that dispatch is in the shader view with the same entry point.
    const figures = await page.$$eval('#step figure.tensor', (list) => list.map((f) => ({
      tensor: (f as HTMLElement).dataset.tensor!,
      links: Array.from(f.querySelectorAll<HTMLAnchorElement>('.writer-line a.writer')).map((a) => ({ kernel: a.dataset.kernel!, entry: a.dataset.entry! })),
    })));
    expect(figures.map((f) => f.tensor).sort()).toEqual(['input', 'dense/output', 'dense/delta', ...['kernel', 'bias'].flatMap((p) => ['gradient', 'before', 'update', 'after'].map((w) => `dense/${p} ${w}`))].sort());
    const listed = await page.$$eval('#kernels details.kernel', (list) => list.map((d) => ({ id: d.id, entry: (d as HTMLElement).dataset.entry! })));
    for (const f of figures) {
      expect(f.links.length, f.tensor).toBeGreaterThan(0);
      for (const link of f.links) expect(listed, `${f.tensor} → ${link.kernel}`).toContainEqual({ id: `kernel-${link.kernel}`, entry: link.entry });
    }
    const writer = (tensor: string) => figures.find((f) => f.tensor === tensor)!.links.map((l) => l.entry);
    expect(writer('input')).toEqual(['gather_batch']);
    expect(writer('dense/delta')).toEqual(['softmax_cross_entropy']);
    expect(writer('dense/bias gradient')).toEqual(['bias_backward']);
    expect(writer('dense/kernel update')).toEqual(['sgd_step']);
    expect(writer('dense/output')[0]).toMatch(/^dense(_quad|_tiled)?_forward$|^gemm/);
    // A click opens the writer in the shader view.
    await page.click('figure.tensor[data-tensor="dense/delta"] a.writer');
    expect(await page.isHidden('#tab-step')).toBe(true);
    const opened = page.locator('#kernels details.kernel[open].target');
    expect(await opened.getAttribute('data-entry')).toBe('softmax_cross_entropy');
    await opened.locator('.wgsl .shiki').waitFor();
    await page.click('[data-tab=step]');
    expect(errors).toEqual([]);
  });

  it('draws conv feature maps and filter gradients for a conv model', async () => {
    await page.selectOption('#experiment', 's004-t1');
    await setSettings(page, { batch: 8, train: 64, test: 32 });
    await page.click('#run-step');
    await waitForState(page, ['ready']);
    const maps = await page.$$eval('figure.tensor[data-tensor="conv2d/output"] canvas', (canvases) => canvases.map((canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const levels = new Set<number>();
      for (let i = 0; i < data.length; i += 4) levels.add(data[i]!);
      return { width: c.width, levels: levels.size };
    }));
    expect(maps).toHaveLength(32);
    expect(maps.every((m) => m.width === 24 && m.levels > 10)).toBe(true);
    const filters = await page.$eval('figure.tensor[data-tensor="conv2d/kernel gradient"]', (f) => {
      const { count, nonzero } = (f as HTMLElement).dataset;
      return { count, nonzero, canvases: f.querySelectorAll('canvas').length };
    });
    expect(filters.canvases).toBe(32);
    expect(Number(filters.nonzero)).toBeGreaterThan(0);
    expect(Number(filters.count)).toBe(5 * 5 * 1 * 32);
    // All 8 images of the batch; a click on one shows its feature maps instead of the first sample's.
    expect(await page.locator('figure.tensor[data-tensor="input"] canvas').count()).toBe(8);
    const firstMap = () => page.$eval('figure.tensor[data-tensor="conv2d/output"] canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).join(',');
    });
    const before = await firstMap();
    await page.click('figure.tensor[data-tensor="input"] .labelled[data-sample="3"]');
    expect(await page.textContent('figure.tensor[data-tensor="conv2d/output"]')).toContain('sample 3 of the batch');
    expect(await page.locator('figure.tensor[data-tensor="conv2d/output"] canvas').count()).toBe(32);
    expect(await firstMap()).not.toBe(before);
    // The conv layer's δ (sigmoid' applied) is written by the next dense layer's input gradient, which folds the
    // derivative into its epilogue (src/model/fusion.ts); the dispatch is listed in the shader view.
    const writer = await page.$eval('figure.tensor[data-tensor="conv2d/delta"] a.writer', (a) => ({ ...(a as HTMLElement).dataset }));
    expect(writer.entry).toMatch(/act_grad$/);
    expect(await page.getAttribute(`#kernel-${writer.kernel}`, 'data-entry')).toBe(writer.entry);
    expect(errors).toEqual([]);
  });

  it('stops a long run on request and shows the model as it is', async () => {
    await page.click('[data-tab=training]');
    await page.selectOption('#experiment', 's001-softmax');
    await setSettings(page, { epochs: 200 });
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#stat-step')!.textContent !== '–');
    await page.click('#stop');
    await waitForState(page, ['done']);
    expect(await page.textContent('#status')).toMatch(/^s001-softmax: stopped on request after \d+ epochs? in/);
    const [epoch] = (await page.textContent('#stat-epoch'))!.split('/');
    expect(Number(epoch)).toBeLessThan(200);
    expect(Number(await page.getAttribute('#test-accuracy', 'data-value'))).toBeGreaterThan(0.1);
    expect(errors).toEqual([]);
  });

  /** The classic entry `id`, selected in the page with the seed given; the neural-only fields are hidden and its settings said in words. */
  async function selectClassic(id: string, seed: number): Promise<ClassicExperiment> {
    const e = experimentById(id);
    if (!isClassic(e)) throw new Error(`${id} is not a classic baseline`);
    await page.click('[data-tab=training]');
    await page.selectOption('#experiment', id);
    for (const field of ['epochs', 'batch', 'lr', 'train-images', 'test-images']) expect(await page.isHidden(`#${field}`), field).toBe(true);
    expect(await page.isVisible('#seed')).toBe(true);
    await setSettings(page, { seed });
    const about = (await page.textContent('#about'))!;
    expect(about).toContain('quick size');
    expect(about).toContain('Stop does not apply');
    return e;
  }

  /** Runs the selected classic baseline; returns the accuracy, errors and test count the page shows, and the seconds it took. */
  async function runClassicInPage(id: string) {
    const started = performance.now();
    await page.click('#train');
    expect(await page.isDisabled('#stop')).toBe(true);
    await waitForState(page, ['done']);
    const seconds = (performance.now() - started) / 1000;
    const accuracy = Number(await page.getAttribute('#test-accuracy', 'data-value'));
    expect(await page.textContent('#test-accuracy')).toBe(accuracy.toFixed(4));
    const report = (await page.textContent('#report'))!;
    const [, wrong, tests] = (report.match(/test errors (\d+) of (\d+)/) ?? []).map(Number);
    // Errors, accuracy, the classification report and the confusion matrix tell the same story.
    expect(wrong).toBe(Math.round((1 - accuracy) * tests!));
    expect(report).toMatch(new RegExp(`accuracy\\s+${accuracy.toFixed(4)}\\s+${tests}`));
    const confusion = await page.$eval('#confusion', (el) => ({ ...(el as HTMLElement).dataset }));
    expect(Number(confusion.total)).toBe(tests);
    expect(Number(confusion.correct)).toBe(tests! - wrong!);
    expect(await page.locator('#confusion svg .mark-rect path').count()).toBeGreaterThan(0);
    expect(await page.textContent('#status')).toMatch(new RegExp(`^${id}: done in [\\d.]+ s at quick size; test accuracy ${accuracy.toFixed(4)}`));
    for (const grid of ['first-images', 'mislabelled']) {
      const ink = await page.$eval(`#${grid} canvas`, (canvas) => {
        const c = canvas as HTMLCanvasElement;
        const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i]! < 64 && data[i + 3]! > 0) dark++;
        return dark;
      });
      expect(ink, `${grid} has dark pixels`).toBeGreaterThan(1000);
    }
    return { accuracy, wrong: wrong!, tests: tests!, seconds };
  }

  it('runs the classic s003-1nn in the page: its errors are those of a brute-force 1-NN on the same balanced subset', async () => {
    const seed = 1;
    const e = await selectClassic('s003-1nn', seed);
    const { accuracy, wrong, tests, seconds } = await runClassicInPage(e.id);
    console.log(`browser demo: s003-1nn quick (balanced 1,000 × 200, then 4,000 × 1,000): test accuracy ${accuracy} (${wrong} errors of ${tests}) in ${seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThanOrEqual(e.quick.floor);

    // The reference: exact 1-NN in f64 on the balanced subset the seed draws (ties to the lowest training index).
    const perClass = e.quick.perClass!;
    const trainIndices = balancedSubset(mnist.train.labels, perClass.train, seed);
    const testIndices = balancedSubset(mnist.test.labels, perClass.test, seed);
    expect(tests).toBe(testIndices.length);
    const size = 784;
    let expectedErrors = 0;
    for (const t of testIndices) {
      const x = mnist.test.images.subarray(t * size, (t + 1) * size);
      let best = Infinity;
      let label = -1;
      for (const n of trainIndices) {
        const y = mnist.train.images.subarray(n * size, (n + 1) * size);
        let d = 0;
        for (let i = 0; i < size; i++) d += (x[i]! - y[i]!) ** 2;
        if (d < best) [best, label] = [d, mnist.train.labels[n]!];
      }
      if (label !== mnist.test.labels[t]) expectedErrors++;
    }
    expect(wrong).toBe(expectedErrors);

    // The evaluations table: the subset (the accuracy shown), then the first 4,000 × 1,000 images.
    const rows = await page.$$eval('#evaluations tr[data-test]', (list) => list.map((r) => ({ ...(r as HTMLElement).dataset })));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ test: String(tests), errors: String(wrong), accuracy: String(accuracy) });
    expect(Number(rows[1]!.test)).toBe(e.quick.test);
    expect(Number(rows[1]!.accuracy)).toBeCloseTo(1 - Number(rows[1]!.errors) / e.quick.test, 12);
    expect(Number(rows[1]!.accuracy)).toBeGreaterThanOrEqual(e.quick.floor);
    expect(await page.textContent('#curves')).toContain('No per-step curves');
    expect(await page.isHidden('#means')).toBe(true);

    // The shader and step views say they are about neural models.
    for (const tab of ['shaders', 'step']) {
      await page.click(`[data-tab=${tab}]`);
      expect(await page.textContent(`#tab-${tab}`)).toContain('apply to neural models');
    }
    // The shader view lists the kernels this run dispatched: the knn families' pipelines.
    await page.click('[data-tab=shaders]');
    const shaders = await page.textContent('#tab-shaders');
    expect(shaders).toContain('The kernels the last run of s003-1nn dispatched');
    for (const entry of ['knn_norms', 'knn_reduce']) expect(shaders).toContain(entry);
    expect(await page.isDisabled('#time-step')).toBe(true);
    expect(await page.isDisabled('#run-step')).toBe(true);
    await page.click('[data-tab=training]');
    expect(errors).toEqual([]);
  });

  it('runs the classic s001-logreg-gd in the page: "is it a 5?" with its class names and the per-step curves drawn', async () => {
    const e = await selectClassic('s001-logreg-gd', 1);
    const { accuracy, wrong, tests, seconds } = await runClassicInPage(e.id);
    console.log(`browser demo: s001-logreg-gd quick (4,000 / 1,000 images, ${e.quick.steps} steps): test accuracy ${accuracy} (${wrong} errors of ${tests}) in ${seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThanOrEqual(e.quick.floor);
    expect(tests).toBe(e.quick.test);
    // The binary task's classes by name, in the report, the caption and the image titles.
    const report = (await page.textContent('#report'))!;
    expect(report).toMatch(/^\s*not 5\s/m);
    expect(report).toMatch(/^\s*5\s/m);
    expect(report).toMatch(/test loss \d+\.\d{4}/);
    expect(await page.textContent('#confusion-caption')).toContain('0 = not 5, 1 = 5');
    // The step curves: a line per loss, and the test error and trials panels.
    expect(await page.locator('#curves svg .mark-line path').count()).toBeGreaterThanOrEqual(3);
    expect(await page.textContent('#curves svg')).toContain('s001-logreg-gd: gradient descent, per step');
    expect(await page.isHidden('#classic-extra')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('reloads with MNIST from the browser cache, fetching nothing', async () => {
    const before = dataRequests.length;
    await page.reload();
    await waitForState(page, ['ready']);
    expect(await page.getAttribute('#data-status', 'data-source')).toBe('cache');
    expect(dataRequests.length).toBe(before);
    expect(errors).toEqual([]);
  });

  it('says which browsers have WebGPU when the page finds none', async () => {
    const bare = await context.browser()!.newContext();
    try {
      const tab = await bare.newPage();
      // A browser without WebGPU: navigator.gpu does not exist.
      await tab.addInitScript(() => {
        delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
      });
      await tab.goto(url);
      await waitForState(tab, ['fatal']);
      expect(await tab.getAttribute('body', 'data-state')).toBe('fatal');
      const message = await tab.textContent('#fatal');
      expect(message).toContain('This browser has no WebGPU (navigator.gpu is missing)');
      expect(message).toContain('Chrome or Edge 113+');
      expect(message).toContain('--enable-unsafe-webgpu');
      expect(await tab.isHidden('#app')).toBe(true);
    } finally {
      await bare.close();
    }
  });

  it('says what to do when MNIST cannot be fetched', async () => {
    const offline = await context.browser()!.newContext();
    try {
      // No local files, and no mirror answers.
      await offline.route('**/mnist/**', (route) => route.fulfill({ status: 404, body: 'not here' }));
      await offline.route(/^https:\/\//, (route) => route.abort('internetdisconnected'));
      const tab = await offline.newPage();
      await tab.goto(url);
      await tab.waitForSelector('body[data-state="error"]');
      const message = (await tab.textContent('#error'))!;
      expect(message).toContain('MNIST: Could not fetch the MNIST file train-images-idx3-ubyte.gz');
      expect(message).toMatch(/mnist\/train-images-idx3-ubyte\.gz: HTTP 404/);
      expect(message).toContain('https://storage.googleapis.com/cvdf-datasets/mnist/train-images-idx3-ubyte.gz');
      expect(message).toContain('npm run demo');
      expect(await tab.textContent('#data-status')).toBe('not loaded');
      expect(await tab.isDisabled('#train')).toBe(true);
    } finally {
      await offline.close();
    }
  });
});

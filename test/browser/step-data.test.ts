/**
 * What the demo's views compute, without a browser (Dawn in Node): each
 * kernel's formula from its WGSL header, the dispatch that wrote each tensor
 * of the step view, and the live curve's means since the last progress point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings, experimentById, isTrainable, Session, type Progress, type Settings } from '../../demo/web/src/session.js';
import { formulaOf } from '../../demo/web/src/shader-view.js';
import { tensorWriters } from '../../demo/web/src/step-view.js';
import { loadMnist, type ImageSet } from '../../src/data/mnist.js';
import { createRuntime } from '../../src/gpu/device.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { FAMILIES } from '../../src/ops/family.js';
import { WGSL, WGSL_FILES } from '../../src/ops/sources.js';
import '../../src/layers/index.js';
import { mnistDir } from '../helpers.js';

const dataDir = mnistDir();

describe('kernel formulas', () => {
  it('gives every entry point of every family variant a formula from its WGSL headers, its own lines marked where named', () => {
    const text = (key: string) => WGSL[key as keyof typeof WGSL];
    let marked = 0;
    let all = 0;
    const unmarked = new Set<string>();
    for (const family of FAMILIES) {
      for (const variant of family.variants) {
        const files = variant.files.map((key) => WGSL_FILES[key as keyof typeof WGSL_FILES]);
        const entries = variant.files.flatMap((key) => [...text(key).matchAll(/@compute[^]*?fn\s+(\w+)\s*\(/g)].map((m) => m[1]!));
        for (const entry of entries) {
          const formula = formulaOf(entry, files);
          expect(formula, `${family.name} ${variant.name}: ${entry}`).toBeDefined();
          expect(formula!.lines.length).toBeGreaterThan(0);
          all++;
          if (formula!.lines.some((l) => l.entry)) marked++;
          else unmarked.add(entry);
        }
      }
    }
    expect(all).toBeGreaterThan(10);
    // Every kernel is named in a header but the workgroup-memory GEMMs' and the conv gradient's helpers (they get their files' formula block).
    expect(marked).toBeGreaterThan(all / 3);
    expect([...unmarked].every((e) => /^gemm|_pad_gradient$|_flip_weights$/.test(e)), [...unmarked].join(', ')).toBe(true);
    const dense = formulaOf('dense_forward', ['shaders/lib/activation_fn.wgsl', 'shaders/dense.wgsl'])!;
    expect(dense.file).toBe('shaders/dense.wgsl');
    expect(dense.lines.filter((l) => l.entry).map((l) => l.text)).toEqual([expect.stringMatching(/^dense_forward\s+out\[b, o\]\s+= act\(Σ_i inp\[b, i\] · weight\[i, o\] \+ bias\[o\]\)$/)]);
    // A variant that reuses another's math: conv2d_quad_forward gets conv2d_gemm_forward's lines.
    const quad = formulaOf('conv2d_quad_forward', ['shaders/conv2d_gemm.wgsl', 'shaders/conv2d_quad.wgsl'])!;
    expect(quad.lines.find((l) => l.entry)!.text).toMatch(/^conv2d_gemm_forward /);
    // Continuation lines belong to their entry.
    const loss = formulaOf('softmax_cross_entropy', ['shaders/loss.wgsl'])!;
    expect(loss.lines.filter((l) => l.entry)).toHaveLength(2);
  });
});

describe.skipIf(!dataDir)('step view data and live curves (Dawn in Node)', () => {
  let rt: Runtime;
  let mnist: { train: ImageSet; test: ImageSet };
  beforeAll(async () => {
    rt = await createRuntime();
    mnist = await loadMnist({ dir: dataDir! });
  });
  afterAll(() => rt?.destroy());

  const settings = (id: string, over: Partial<Settings>): Settings => {
    const e = experimentById(id);
    if (!isTrainable(e)) throw new Error(id);
    return { ...defaultSettings(e, null, true), ...over };
  };

  it('names the dispatch that wrote each tensor of a conv model\'s step', async () => {
    const s = Session.create(rt, settings('s004-t1', { batchSize: 8, trainImages: 64, testImages: 16 }), mnist);
    try {
      const dispatches = await s.model.trainingStep(s.train, 8);
      const step = await s.model.inspectStep(s.train, { batchSize: 8 });
      const writers = tensorWriters(step, dispatches);
      const entry = (name: string) => writers.get(name)?.map((w) => w.entryPoint);
      const label = (name: string) => writers.get(name)?.map((w) => w.label);
      expect(entry('input')).toEqual(['gather_batch']);
      expect(label('conv2d/output')).toEqual([expect.stringMatching(/^conv2d forward/)]);
      // δ of the last layer: the loss's gradient; of the sigmoid conv layer: the dense layer's input gradient,
      // which applies sigmoid'(y) in its epilogue (src/model/fusion.ts), through flatten.
      expect(entry('dense/delta')).toEqual(['softmax_cross_entropy']);
      expect(label('conv2d/delta')).toEqual([expect.stringMatching(/^dense backward input/)]);
      expect(entry('conv2d/delta')![0]).toMatch(/act_grad$/);
      expect(label('conv2d/kernel gradient')![0]).toMatch(/^conv2d backward weight/);
      expect(label('conv2d/bias gradient')![0]).toMatch(/^conv2d backward bias/);
      expect(entry('dense/kernel gradient')![0]).toMatch(/backward_weight|gemm/);
      for (const name of ['conv2d/kernel update', 'dense/bias after']) expect(entry(name)![0]).toMatch(/_step$/);
      // Every named writer is a dispatch of the step.
      for (const list of writers.values()) for (const w of list) expect(dispatches[w.index]!.label).toBe(w.label);
    } finally {
      s.dispose();
    }
  });

  it('reports the mean over the steps since the last point: per epoch, they add up to the epoch\'s mean', async () => {
    const s = Session.create(rt, settings('s001-softmax', { epochs: 2, batchSize: 32, trainImages: 640, testImages: 100 }), mnist);
    try {
      const points: Progress[] = [];
      await s.fit({ progress: (p) => points.push(p) });
      for (const epoch of [0, 1]) {
        const own = points.filter((p) => p.epoch === epoch);
        expect(own.length).toBeGreaterThan(2);
        let samples = 0;
        let sum = 0;
        let previous = 0;
        for (const p of own) {
          // Steps of 32 samples (640 = 20 full batches).
          const fresh = (p.step - previous) * 32;
          previous = p.step;
          sum += p.recentLoss * fresh;
          samples += fresh;
        }
        const last = own[own.length - 1]!;
        expect(Math.abs(sum / samples - last.loss)).toBeLessThan(1e-5);
        expect(Math.abs(own[0]!.recentLoss - own[0]!.loss)).toBeLessThan(1e-6);
      }
      // No reset: the first point of epoch 2 is the mean of its own steps, near the last of epoch 1, not the epoch's first steps' noise.
      const firstOfSecond = points.find((p) => p.epoch === 1)!;
      const lastOfFirst = points.filter((p) => p.epoch === 0).pop()!;
      expect(firstOfSecond.recentLoss).toBeLessThan(lastOfFirst.loss);
    } finally {
      s.dispose();
    }
  });
});

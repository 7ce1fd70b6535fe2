/**
 * The classic baselines' kernel families (src/ops/classic/), each variant run
 * by name on small random inputs against an independent f64 computation in
 * this file: exact where the kernels are exact (u32 norms, distances, Gram
 * sums, copies), within f32 tolerance elsewhere. Also: every classic family
 * is registered and lists only shaders of src/ops/sources.ts.
 */
import { describe, expect, it } from 'vitest';
import { FAMILIES, runFamily } from '../../src/ops/family.js';
import { WGSL, WGSL_FILES } from '../../src/ops/sources.js';
import { KNN_NEAREST, KNN_NORMS, KNN_REDUCE, type NearestTile } from '../../src/ops/classic/knn.js';
import { GAUSSIAN_GRAM, GAUSSIAN_PACK, GAUSSIAN_SCORE } from '../../src/ops/classic/gaussian.js';
import {
  LOGISTIC_COLUMN_SUMS, LOGISTIC_COPY, LOGISTIC_FINISH, LOGISTIC_GRADIENT, LOGISTIC_LOSS, LOGISTIC_SCORES, LOGISTIC_TRIAL,
} from '../../src/ops/classic/logistic.js';
import { assertClose } from '../../src/reference/compare.js';
import { nearestNeighbour } from '../../src/classic/knn.js';
import { expectNoGpuErrors, makeRng, normalF32, useRuntime } from './gpu.js';

const rt = useRuntime();

function randomBytes(seed: number, n: number, max = 256): Uint8Array {
  const rng = makeRng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rng.next() * max));
}

/** `rows` rows of `features` bytes, packed 4 to a u32 word, zero-padded to `words` words. */
function pack(bytes: Uint8Array, rows: number, features: number, words: number): Uint32Array {
  const out = new Uint8Array(rows * words * 4);
  for (let r = 0; r < rows; r++) out.set(bytes.subarray(r * features, (r + 1) * features), r * words * 4);
  return new Uint32Array(out.buffer);
}

describe('classic kernel families', () => {
  it('are registered, and every file they list is a shader of src/ops/sources.ts', () => {
    const names = FAMILIES.map((f) => f.name);
    for (const name of ['knn.norms', 'knn.nearest', 'knn.reduce', 'gaussian.pack', 'gaussian.gram', 'gaussian.score',
      'logistic.scores', 'logistic.loss', 'logistic.gradient', 'logistic.column_sums', 'logistic.trial', 'logistic.copy', 'logistic.finish']) {
      expect(names).toContain(name);
    }
    for (const family of FAMILIES) {
      for (const variant of family.variants) for (const file of variant.files) expect(WGSL_FILES[file as keyof typeof WGSL]).toBeDefined();
    }
    expect(Object.values(WGSL_FILES)).toEqual(expect.arrayContaining(['shaders/classic/knn.wgsl', 'shaders/classic/gaussian.wgsl', 'shaders/classic/logistic.wgsl']));
  });

  it('knn.norms, knn.nearest (direct and tiled) and knn.reduce find the exact nearest rows, lowest index on ties', async () => {
    const r = rt();
    const features = 23;
    const words = Math.ceil(features / 4);
    const trainN = 70;
    const testN = 13;
    const train = randomBytes(1, trainN * features, 4); // few values: many equal distances
    const test = randomBytes(2, testN * features, 4);
    train.set(train.subarray(5 * features, 6 * features), 40 * features); // row 40 = row 5
    const norm = (b: Uint8Array, i: number) => { let s = 0; for (let f = 0; f < features; f++) s += b[i * features + f]! ** 2; return s; };
    const want = Array.from({ length: testN }, (_, t) => {
      let best = [Infinity, -1];
      for (let n = 0; n < trainN; n++) {
        let d = 0;
        for (let f = 0; f < features; f++) d += (test[t * features + f]! - train[n * features + f]!) ** 2;
        if (d < best[0]!) best = [d, n];
      }
      return best;
    });
    const trainWords = r.storage(pack(train, trainN, features, words), 'train words');
    const testWords = r.storage(pack(test, testN, features, words), 'test words');
    const trainNorms = r.storage(trainN * 4, 'train norms');
    const testNorms = r.storage(testN * 4, 'test norms');
    r.submit([
      ...await runFamily(r, KNN_NORMS, { rows: trainN, words, packedDot: false }, { words: { buffer: trainWords, size: trainN * words * 4 }, norms: { buffer: trainNorms, size: trainN * 4 } }, 'norms', { variant: 'rows' }),
      ...await runFamily(r, KNN_NORMS, { rows: testN, words, packedDot: false }, { words: { buffer: testWords, size: testN * words * 4 }, norms: { buffer: testNorms, size: testN * 4 } }, 'norms', { variant: 'rows' }),
    ]);
    expect(Array.from(await r.readU32(trainNorms, trainN))).toEqual(Array.from({ length: trainN }, (_, i) => norm(train, i)));
    const tile: NearestTile = { test: 8, train: 16, words: 2 };
    for (const variant of ['direct', 'tiled']) {
      for (const slices of [1, 3]) {
        const partial = r.storage(testN * slices * 8, 'partial');
        const nearest = r.storage(testN * 8, 'nearest');
        r.submit([
          // Sized bindings: the kernels take the row counts from the arrays' lengths.
          ...await runFamily(r, KNN_NEAREST, { rows: testN, train: trainN, words, slices, tile, packedDot: false }, {
            testWords: { buffer: testWords, size: testN * words * 4 }, testNorms: { buffer: testNorms, size: testN * 4 },
            trainWords: { buffer: trainWords, size: trainN * words * 4 }, trainNorms: { buffer: trainNorms, size: trainN * 4 },
            partial: { buffer: partial, size: testN * slices * 8 },
          }, 'nearest', { variant }),
          ...await runFamily(r, KNN_REDUCE, { rows: testN, slices, packedDot: false },
            { partial: { buffer: partial, size: testN * slices * 8 }, nearest: { buffer: nearest, size: testN * 8 } }, 'reduce', { variant: 'in-order' }),
        ]);
        const pairs = await r.readU32(nearest, testN * 2);
        const got = Array.from({ length: testN }, (_, t) => [pairs[2 * t]!, pairs[2 * t + 1]!]);
        expect(got, `${variant}, ${slices} slices`).toEqual(want);
        r.pool.destroy(partial);
        r.pool.destroy(nearest);
      }
    }
    expectNoGpuErrors(r);
    for (const b of [trainWords, testWords, trainNorms, testNorms]) r.pool.destroy(b);
  });

  it('gaussian.pack and gaussian.gram give each block\'s exact Σ x̃ x̃ᵀ (upper triangle)', async () => {
    const r = rt();
    const D = 9;
    const DP = Math.ceil((D + 1) / 4) * 4;
    const count = 11;
    const images = randomBytes(3, count * D);
    // Two blocks: examples 0..6 and 7..10, each padded to whole groups of 4.
    const EMPTY = 0xffffffff;
    const blocks = [[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10]];
    const slots: number[] = [];
    const ranges: [number, number][] = [];
    for (const block of blocks) {
      const first = slots.length / 4;
      slots.push(...block);
      while (slots.length % 4) slots.push(EMPTY);
      ranges.push([first, slots.length / 4 - first]);
    }
    const groups = slots.length / 4;
    const imageBuffer = r.storage(images, 'images');
    const order = r.storage(Uint32Array.from(slots), 'order');
    const packed = r.storage(groups * DP * 4, 'packed');
    const gram = r.storage(blocks.length * DP * DP * 4, 'gram');
    r.submit(await runFamily(r, GAUSSIAN_PACK, { D, DP, groups }, { images: imageBuffer, order, packed }, 'pack', { variant: 'words' }));
    const uniforms = ranges.map(([first, n], index) => r.uniform(new Uint32Array([first, n, index, 0]), 'block'));
    for (const block of uniforms) {
      r.submit(await runFamily(r, GAUSSIAN_GRAM, { DP, packedDot: false }, { packed, block, gram }, 'gram', { variant: 'upper-tiles' }));
    }
    const raw = new Uint32Array(await r.read(gram, blocks.length * DP * DP * 4));
    blocks.forEach((members, b) => {
      const x = (n: number, i: number) => (i < D ? images[n * D + i]! : i === D ? 1 : 0);
      for (let i = 0; i < DP; i++) {
        for (let j = i; j < DP; j++) {
          let want = 0;
          for (const n of members) want += x(n, i) * x(n, j);
          expect(raw[b * DP * DP + i * DP + j], `block ${b} [${i}, ${j}]`).toBe(want);
        }
      }
    });
    expectNoGpuErrors(r);
    for (const buffer of [imageBuffer, order, packed, gram, ...uniforms]) r.pool.destroy(buffer);
  });

  it('gaussian.score gives ‖A_c (x − μ_c)‖² for a chunk of images', async () => {
    const r = rt();
    const D = 6;
    const K = 3;
    const N = 37;
    const width = Math.ceil(D / 4) * 4;
    const rng = makeRng(4);
    const images = randomBytes(5, N * D);
    const mean = Float64Array.from({ length: K * D }, () => 255 * rng.next());
    const a = new Float64Array(K * D * D); // lower triangular A_c
    for (let c = 0; c < K; c++) for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) a[c * D * D + i * D + j] = (rng.next() - 0.5) / 50;
    const testBytes = new Uint8Array(N * width);
    for (let n = 0; n < N; n++) testBytes.set(images.subarray(n * D, (n + 1) * D), n * width);
    const means = new Float32Array(K * width);
    const factorT = new Float32Array(K * width * width);
    for (let c = 0; c < K; c++) {
      for (let i = 0; i < D; i++) means[c * width + i] = mean[c * D + i]!;
      for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) factorT[c * width * width + j * width + i] = a[c * D * D + i * D + j]!;
    }
    const test = r.storage(testBytes, 'test');
    const meanBuffer = r.storage(means, 'means');
    const factorBuffer = r.storage(factorT, 'factor');
    const q = r.storage(new Float32Array(N * K).fill(-1), 'q');
    const first = 3;
    const chunk = r.uniform(new Uint32Array([first, N, 0, 0]), 'chunk');
    r.submit(await runFamily(r, GAUSSIAN_SCORE, { D, K, images: N - first }, { test, means: meanBuffer, factorT: factorBuffer, chunk, q }, 'score', { variant: 'triangular' }));
    const got = await r.readF32(q, N * K);
    const want = new Float64Array(N * K).fill(-1);
    for (let n = first; n < N; n++) {
      for (let c = 0; c < K; c++) {
        let sum = 0;
        for (let i = 0; i < D; i++) {
          let v = 0;
          for (let j = 0; j <= i; j++) v += a[c * D * D + i * D + j]! * (images[n * D + j]! - mean[c * D + j]!);
          sum += v * v;
        }
        want[n * K + c] = sum;
      }
    }
    assertClose(got, want, { atol: 1e-4, rtol: 1e-4, label: 'q' });
    expectNoGpuErrors(r);
    for (const buffer of [test, meanBuffer, factorBuffer, q, chunk]) r.pool.destroy(buffer);
  });

  for (const f32Input of [false, true]) {
    it(`logistic.scores, .loss, .gradient, .trial, .copy and .finish on ${f32Input ? 'f32' : 'byte'} samples`, async () => {
      const r = rt();
      const D = 7;
      const words = Math.ceil(D / 4);
      const DP = words * 4;
      const K = 3;
      const N = 21;
      const chunk = 8;
      const chunks = Math.ceil(N / chunk);
      const rng = makeRng(6);
      const p = { words, K, f32Input };
      const bytes = randomBytes(7, N * D);
      const rows = new Float32Array(N * DP);
      for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) rows[n * DP + d] = bytes[n * D + d]!;
      const shiftScale = new Float32Array(2 * DP);
      for (let d = 0; d < D; d++) { shiftScale[d] = 100 * rng.next(); shiftScale[DP + d] = 0.01 + 0.02 * rng.next(); }
      const xt = (n: number, d: number) => (rows[n * DP + d]! - shiftScale[d]!) * shiftScale[DP + d]!;
      const params = normalF32(rng, K * DP + K);
      for (let k = 0; k < K; k++) for (let d = D; d < DP; d++) params[k * DP + d] = 0;
      const targets = Float32Array.from({ length: N * K }, () => (rng.next() < 0.4 ? 1 : 0));
      const direction = normalF32(rng, N * K);
      const steps = Float32Array.from([0.5, 0, 2]);

      const images = r.storage(f32Input ? rows : pack(bytes, N, D, words), 'images');
      const standardize = r.storage(shiftScale, 'standardize');
      const paramBuffer = r.storage(params, 'params');
      const scores = r.storage(N * K * 4, 'scores');
      const directionBuffer = r.storage(direction, 'direction');
      const stepBuffer = r.storage(steps, 'steps');
      const targetBuffer = r.storage(targets, 'targets');
      const trialScores = r.storage(N * K * 4, 'trial scores');
      const residual = r.storage(N * K * 4, 'residual');
      const lossTerms = r.storage(N * (K + 1) * 4, 'loss terms');
      const partials = r.storage(chunks * K * DP * 4, 'partials');
      r.submit([
        ...await runFamily(r, LOGISTIC_SCORES, { ...p, rows: N }, { images, standardize, params: paramBuffer, out: scores }, 'scores', { variant: 'rows4' }),
        ...await runFamily(r, LOGISTIC_LOSS, { ...p, rows: N }, { scores, direction: directionBuffer, steps: stepBuffer, targets: targetBuffer,
          trialScores, residual, lossTerms }, 'loss', { variant: 'per-sample' }),
        ...await runFamily(r, LOGISTIC_GRADIENT, { ...p, rows: N, chunk }, { images, standardize, residual, partials }, 'gradient', { variant: 'chunks' }),
      ]);
      const z = new Float64Array(N * K);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          let s = params[K * DP + k]!;
          for (let d = 0; d < D; d++) s += params[k * DP + d]! * xt(n, d);
          z[n * K + k] = s;
        }
      }
      assertClose(await r.readF32(scores, N * K), z, { atol: 1e-4, rtol: 1e-4, label: 'scores' });
      const zt = z.map((v, i) => v - steps[i % K]! * direction[i]!);
      const res = zt.map((v, i) => 1 / (1 + Math.exp(-v)) - targets[i]!);
      const softplus = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
      const terms = new Float64Array(N * (K + 1));
      for (let n = 0; n < N; n++) {
        let bz = 0; let by = 0;
        for (let k = 0; k < K; k++) {
          const at = n * K + k;
          const y = targets[at]!;
          terms[n * (K + 1) + k] = y * softplus(-zt[at]!) + (1 - y) * softplus(zt[at]!);
          if (k === 0 || zt[at]! > zt[n * K + bz]!) bz = k;
          if (k === 0 || y > targets[n * K + by]!) by = k;
        }
        terms[n * (K + 1) + K] = bz !== by ? 1 : 0;
      }
      assertClose(await r.readF32(trialScores, N * K), zt, { atol: 1e-4, rtol: 1e-4, label: 'trial scores' });
      assertClose(await r.readF32(residual, N * K), res, { atol: 1e-5, rtol: 1e-4, label: 'residual' });
      assertClose(await r.readF32(lossTerms, N * (K + 1)), terms, { atol: 1e-5, rtol: 1e-4, label: 'loss terms' });
      const gotResidual = await r.readF32(residual, N * K);
      const wantPartials = new Float64Array(chunks * K * DP);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) wantPartials[Math.floor(n / chunk) * K * DP + k * DP + d]! += xt(n, d) * gotResidual[n * K + k]!;
      }
      assertClose(await r.readF32(partials, chunks * K * DP), wantPartials, { atol: 1e-4, rtol: 1e-4, label: 'gradient partials' });

      // trial = current − t·gradient and ‖w_k‖²; copy; finish adds (λ/N)·w and writes ‖g_k‖².
      const gradient = normalF32(rng, K * DP + K);
      const gradientBuffer = r.storage(gradient, 'gradient');
      const trial = r.storage((K * DP + K) * 4, 'trial');
      const summary = r.storage(new Float32Array(2 * K + 2), 'summary');
      const copied = r.storage((K * DP + K) * 4, 'copied');
      const l2OverN = 0.25;
      r.submit([
        ...await runFamily(r, LOGISTIC_TRIAL, { ...p, normOffset: 1 }, { current: paramBuffer, gradient: gradientBuffer, stepSizes: stepBuffer, trial, summary }, 'trial', { variant: 'per-output' }),
        ...await runFamily(r, LOGISTIC_COPY, { ...p, count: K * DP + K }, { from: trial, to: copied }, 'copy', { variant: 'values' }),
        ...await runFamily(r, LOGISTIC_FINISH, { ...p, normOffset: K + 1, l2OverN, bias: true }, { weights: paramBuffer, dparams: gradientBuffer, norms: summary }, 'finish', { variant: 'per-output' }),
      ]);
      const wantTrial = Float64Array.from(params, (w, i) => w - steps[i < K * DP ? Math.floor(i / DP) : i - K * DP]! * gradient[i]!);
      const gotTrial = await r.readF32(trial, K * DP + K);
      assertClose(gotTrial, wantTrial, { atol: 1e-5, rtol: 1e-5, label: 'trial' });
      expect(Array.from(await r.readF32(copied, K * DP + K))).toEqual(Array.from(gotTrial));
      const wantG = Float64Array.from(gradient, (g, i) => (i < K * DP ? g + l2OverN * params[i]! : g));
      assertClose(await r.readF32(gradientBuffer, K * DP + K), wantG, { atol: 1e-5, rtol: 1e-5, label: 'finished gradient' });
      const sq = (v: ArrayLike<number>, k: number, withBias: boolean) => {
        let s = 0;
        for (let d = 0; d < DP; d++) s += v[k * DP + d]! ** 2;
        return s + (withBias ? v[K * DP + k]! ** 2 : 0);
      };
      const wantSummary = [0, ...Array.from({ length: K }, (_, k) => sq(wantTrial, k, false)), ...Array.from({ length: K }, (_, k) => sq(wantG, k, true)), 0];
      assertClose(await r.readF32(summary, 2 * K + 2), wantSummary, { atol: 1e-4, rtol: 1e-4, label: 'norms' });
      expectNoGpuErrors(r);
      for (const b of [images, standardize, paramBuffer, scores, directionBuffer, stepBuffer, targetBuffer, trialScores, residual, lossTerms,
        partials, gradientBuffer, trial, summary, copied]) r.pool.destroy(b);
    });
  }

  it('logistic.column_sums: tree and in-order both give scale · Σ_r values[r, c] at the offset', async () => {
    const r = rt();
    const p = { words: 1, K: 1, f32Input: false };
    for (const [rows, columns] of [[300, 3], [5, 70]] as const) {
      const values = normalF32(makeRng(rows), rows * columns);
      const want = new Float64Array(columns + 2);
      for (let c = 0; c < columns; c++) { let s = 0; for (let i = 0; i < rows; i++) s += values[i * columns + c]!; want[2 + c] = s / rows; }
      for (const variant of ['tree', 'in-order']) {
        const valueBuffer = r.storage(values, 'values');
        const sums = r.storage(new Float32Array(columns + 2), 'sums');
        r.submit(await runFamily(r, LOGISTIC_COLUMN_SUMS, { ...p, rows, columns, offset: 2, scale: 1 / rows }, { values: valueBuffer, sums }, 'sums', { variant }));
        assertClose(await r.readF32(sums, columns + 2), want, { atol: 1e-5, rtol: 1e-4, label: `${variant} ${rows}×${columns}` });
        r.pool.destroy(valueBuffer);
        r.pool.destroy(sums);
      }
    }
    expectNoGpuErrors(r);
  });

  it('Runtime.watchSubmits sees the dispatches of a classic run: its families\' kernels, from shaders/classic/', async () => {
    const r = rt();
    const seen: string[] = [];
    const stop = r.watchSubmits((list) => {
      for (const d of list) seen.push(`${d.kernel.spec.entryPoint} ${d.kernel.spec.sources.map((text) => text === WGSL.classicKnn ? 'knn.wgsl' : '?').join()}`);
    });
    const set = { images: randomBytes(8, 40 * 6), labels: new Uint8Array(40), count: 40, rows: 2, cols: 3 };
    try {
      await nearestNeighbour(r, set, { ...set, count: 10 }, { kernel: 'direct' });
    } finally {
      stop();
    }
    expect(seen).toEqual(['knn_norms knn.wgsl', 'knn_norms knn.wgsl', 'knn_nearest_direct knn.wgsl', 'knn_reduce knn.wgsl']);
    await nearestNeighbour(r, set, set);
    expect(seen).toHaveLength(4);
  });
});

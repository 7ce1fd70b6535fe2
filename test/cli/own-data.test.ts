/** `run --data` with your own files, and `train --model model.json`, through the command line. */
import { existsSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pseudoBytes, tempDir } from '../data/fixtures.js';
import { npy, npz, writePngFolder } from '../data/own-data-fixtures.js';
import { runCli } from './run-cli.js';

const tmp = tempDir('shaderprop-own-data-cli-');
afterAll(() => tmp.cleanup());
const at = (name: string) => join(tmp.dir, name);

/** n images of size×size whose bright column stripe is their class (0–9), so a linear model can learn them. */
function stripes(n: number, size = 28, seed = 1): { x: Uint8Array; y: Uint8Array } {
  const x = pseudoBytes(n * size * size, seed, 40);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7 + seed) % 10;
    for (let r = 0; r < size; r++) x[i * size * size + r * size + y[i]! * 2] = 230;
  }
  return { x, y };
}

const train = stripes(120);
const test = stripes(30, 28, 2);
const npzPath = at('digits.npz');
writeFileSync(npzPath, npz({
  x_train: npy('|u1', [120, 28, 28], train.x), y_train: npy('|u1', [120], train.y),
  x_test: npy('|u1', [30, 28, 28], test.x), y_test: npy('<i8', [30], BigInt64Array.from(test.y, BigInt)),
}, true));

const topology = (inputShape: number[], units = 10) => JSON.stringify({
  class_name: 'Sequential',
  config: { name: 'tiny', layers: [
    { class_name: 'Flatten', config: { name: 'flatten', batch_input_shape: [null, ...inputShape] } },
    { class_name: 'Dense', config: { name: 'dense', units, activation: 'softmax' } },
  ] },
});

describe('run --data with your own files', () => {
  it('trains a registry id on an .npz with x_train/y_train/x_test/y_test', async () => {
    const out = at('run-npz');
    const r = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--data', npzPath, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`data: 120 train images from ${npzPath}, 30 test images from its x_test/y_test`);
    expect(r.json[0]).toMatchObject({ id: 's001-softmax', train_samples: expect.any(Number) });
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });

  it('holds out a test set from a CSV, and reads a PNG folder', async () => {
    const lines = ['label,' + Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')];
    for (let n = 0; n < 60; n++) lines.push([train.y[n], ...train.x.subarray(n * 784, (n + 1) * 784)].join(','));
    const csv = at('digits.csv');
    writeFileSync(csv, lines.join('\n'));
    const r = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--data', csv, '--out', at('run-csv')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data: 50 train images from ${csv}, 10 test images held out from it (a random sixth, seed 1;`);

    const png = at('png-digits');
    writePngFolder(png, test.x, test.y, { width: 28, height: 28 });
    const p = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--data', png, '--test', npzPath, '--out', at('run-png')]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`data: 30 train images from ${png}, 30 test images from ${npzPath}`);
  });

  it('says why data does not fit: image size, labels out of range, mismatched counts', async () => {
    const big = at('big.npz');
    writeFileSync(big, npz({ x: npy('|u1', [6, 32, 32], new Uint8Array(6 * 1024)), y: npy('|u1', [6], new Uint8Array(6)) }));
    const labels = at('labels.npz');
    writeFileSync(labels, npz({ x: npy('|u1', [6, 784], new Uint8Array(6 * 784)), y: npy('|u1', [6], Uint8Array.from([1, 2, 3, 10, 4, 5])) }));
    const counts = at('counts.npz');
    writeFileSync(counts, npz({ x: npy('|u1', [6, 28, 28], new Uint8Array(6 * 784)), y: npy('|u1', [5], new Uint8Array(5)) }));
    const flat = at('flat-png');
    writePngFolder(flat, new Uint8Array(784), [0], { width: 28, height: 28 });
    renameSync(join(flat, '0', '0000.png'), join(flat, 'a.png'));
    rmdirSync(join(flat, '0'));
    const results = await Promise.all([big, labels, counts, flat].map((data, i) => runCli(['run', 's001-softmax', '--quick', '--data', data, '--out', at(`bad-${i}`)])));
    expect(results.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    // A folder without class sub-folders is read as MNIST's IDX folder, as always; the message adds what a PNG folder needs.
    expect(results[3]!.stderr).toMatch(/train-images-idx3-ubyte.*holds 1 PNG file\(s\) but no class sub-folders: for PNG images, put each in a sub-folder named by its class/);
    expect(results[0]!.stderr).toContain(`shaderprop: ${big}: the samples have shape (32, 32), but each registry model (MNIST-shaped) takes 28×28 grayscale images`);
    expect(results[1]!.stderr).toContain(`shaderprop: ${labels}: label 10 of sample 3 is out of range: each registry model (MNIST-shaped) has 10 classes (0–9).`);
    expect(results[2]!.stderr).toContain(`shaderprop: ${counts}:x.npy has 6 images but ${counts}:y.npy has 5 labels; they must be equal`);
    for (let i = 0; i < 4; i++) expect(existsSync(at(`bad-${i}`))).toBe(false);
  });
});

describe('train --model model.json', () => {
  it('trains, evaluates and writes the model; its exported model.json trains again', async () => {
    const model = at('model.json');
    writeFileSync(model, topology([28, 28]));
    const out = at('trained');
    const r = await runCli(['train', '--model', model, '--data', npzPath, '--epochs', '2', '--batch-size', '16', '--optimizer', 'adam', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('data: 120 train samples from');
    const summary = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8')) as { history: { loss: number[] }; test: { samples: number; accuracy: number }; optimizer: string };
    expect(r.json[0]).toEqual(summary);
    expect(summary.history.loss).toHaveLength(2);
    expect(summary.test.samples).toBe(30);
    expect(summary.optimizer).toBe('adam');
    for (const f of ['model.ckpt', 'model.safetensors', 'tfjs/model.json', 'tfjs/weights.bin']) expect(existsSync(join(out, f)), f).toBe(true);

    const png = at('png-train');
    writePngFolder(png, train.x.subarray(0, 40 * 784), train.y.subarray(0, 40), { width: 28, height: 28 });
    const again = await runCli(['train', '--model', join(out, 'tfjs', 'model.json'), '--data', png, '--test', npzPath, '--epochs', '1', '--out', at('trained-2')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/test: loss [\d.]+ {2}accuracy [\d.]+ on 30 samples/);
  });

  it('refuses data the model cannot take, and a model file that is not JSON', async () => {
    const wide = at('wide.json');
    writeFileSync(wide, topology([32, 32]));
    const three = at('three.json');
    writeFileSync(three, topology([28, 28], 3));
    const broken = at('broken.json');
    writeFileSync(broken, '{ "class_name": ');
    const [size, classes, json, usage] = await Promise.all([
      runCli(['train', '--model', wide, '--data', npzPath, '--out', at('t-wide')]),
      runCli(['train', '--model', three, '--data', npzPath, '--out', at('t-three')]),
      runCli(['train', '--model', broken, '--data', npzPath, '--out', at('t-broken')]),
      runCli(['train', '--data', npzPath]),
    ]);
    expect(size.code).toBe(1);
    expect(size.stderr).toContain(`${npzPath} (train): the samples have shape (28, 28) (784 values) but the model takes (32, 32) (1024 values)`);
    expect(classes.stderr).toMatch(/label \d of sample \d+ is out of range: the model has 3 outputs \(classes 0–2\)/);
    expect(json.stderr).toContain(`--model ${broken}: not JSON (`);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '--model <model.json>' not specified");
  });
});

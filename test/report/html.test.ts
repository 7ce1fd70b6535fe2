import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duration, markdownSummary, pointsDifference, QUICK_BANNER, writeReport } from '../../src/report/index.js';
import { REPORT_IMAGES, runReport, runResult } from './fixtures.js';
import { seedSpread } from '../../src/experiments/seeds.js';
import type { RunResult } from '../../src/experiments/result.js';

const DATA_URI = /data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)/g;

/** The <tr data-id="id"> row of the summary table. */
function summaryRow(html: string, id: string): string {
  const row = html.match(new RegExp(`<tr data-id="${id}">(.*?)</tr>`))?.[1];
  expect(row, `summary row of ${id}`).toBeDefined();
  return row!;
}

describe('writeReport', () => {
  let dir: string;
  let quickDir: string;
  let written: { index: string; files: string[] };
  let html: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shaderprop-report-'));
    quickDir = mkdtempSync(join(tmpdir(), 'shaderprop-report-quick-'));
    written = await writeReport(dir, runReport());
    html = readFileSync(written.index, 'utf8');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(quickDir, { recursive: true, force: true });
  });

  it('writes the pictures and report.json of every result, and the index, with no temporary files left', () => {
    expect(written.index).toBe(join(dir, 'index.html'));
    const expected = [
      ...['learning-curves', 'confusion', 'confusion-counts', 'class-distribution', 'first-25', 'mislabelled-25'].map((n) => `s001-dense/${n}.svg`),
      ...['learning-curves', 'confusion', 'confusion-counts', 'class-distribution'].map((n) => `s007-cnn/${n}.svg`),
      ...['sweep-grid', 'sweep-compare', 'first-25', 'mislabelled-25'].map((n) => `s014-sweep/${n}.svg`),
      ...['steps', 'means', 'confusion', 'confusion-counts', 'class-distribution', 'first-25', 'mislabelled-25'].map((n) => `s020-classic/${n}.svg`),
      's001-dense/report.json', 's007-cnn/report.json', 's014-sweep/report.json', 's020-classic/report.json', 'index.html',
    ];
    expect(written.files.map((f) => relative(dir, f)).sort()).toEqual(expected.sort());
    const onDisk = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
    expect(onDisk.sort()).toEqual(expected.sort());
    expect(onDisk.some((f) => f.includes('.tmp-'))).toBe(false);

    for (const file of written.files.filter((f) => f.endsWith('.svg'))) {
      expect(readFileSync(file, 'utf8').startsWith('<svg'), file).toBe(true);
    }
    const report = runReport();
    expect(JSON.parse(readFileSync(join(dir, 's001-dense', 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(report.results[0])));
  });

  it('is self-contained: every picture an SVG data URI with alt text, no URL outside them, no script', () => {
    const uris = [...html.matchAll(DATA_URI)];
    expect(uris).toHaveLength(REPORT_IMAGES);
    for (const [, b64] of uris) expect(Buffer.from(b64!, 'base64').toString('utf8').startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // The embedded SVG of the dense run's confusion matrix is the file written beside it.
    const confusion = readFileSync(join(dir, 's001-dense', 'confusion.svg'), 'utf8');
    expect(uris.some(([, b64]) => b64 === Buffer.from(confusion).toString('base64'))).toBe(true);

    const imgs = html.match(/<img [^>]*>/g)!;
    expect(imgs).toHaveLength(REPORT_IMAGES);
    for (const img of imgs) expect(img).toMatch(/ alt="[^"]{20,}"/);
    const outside = html.replace(DATA_URI, '');
    expect(outside).not.toMatch(/https?:\/\//);
    expect(outside).not.toMatch(/<script|<link|@import|url\(/i);
  });

  it('summarises every result with its numbers and the signed difference in points', () => {
    // Ours 857/1000 against 0.82 → +3.70, and against 0.99 → -13.30; the sweep reports no number.
    const dense = summaryRow(html, 's001-dense');
    for (const part of ['784-128-64-10 relu, softmax', 'SGD lr 0.01', '<td>3</td>', '0.82 test (0.8104 train acc)', '<td>0.8570</td>', '+3.70', '1 min 23 s', 'SwiftShader']) {
      expect(dense).toContain(part);
    }
    const cnn = summaryRow(html, 's007-cnn');
    for (const part of ['Adam lr 0.001', '<td>0.8570</td>', '-13.30', 'class="worse"', '1 h 06 min']) expect(cnn).toContain(part);
    const sweep = summaryRow(html, 's014-sweep');
    for (const part of ['best lr=0.1 init=xavier', '<td>0.9200</td>', '<td>—</td>', '1 min 50 s']) expect(sweep).toContain(part);
    expect(html).toContain('<li><b>s099-rnn</b>: recurrent layers are not implemented</li>');
    const classic = summaryRow(html, 's020-classic');
    for (const part of ['A classic baseline', '<td>classic</td>', '<td>12 steps</td>', '<td>0.8570</td>', '-4.30', '12.5 s']) expect(classic).toContain(part);
  });

  it('shows a classic baseline: method, errors, phases, evaluations, curves, means and the per-step table', () => {
    const section = html.slice(html.indexOf('id="result-s020-classic"'));
    expect(section).toContain('<th>method</th><td>gradient descent with a line search &lt;on the GPU&gt;</td>');
    expect(section).toContain('<th>test errors</th><td>143 of 1000</td>');
    expect(section).toContain('<th>test loss</th><td>0.1500</td>');
    expect(section).toContain('<th>time: fit</th><td>10.3 s</td>');
    expect(section).toContain('<tr><td>subset</td><td>600</td><td>100</td><td>10</td><td>0.9000</td><td>1.5 s</td><td>notebook: 185 s</td></tr>');
    expect(section).toContain('<tr><td>full</td><td>6000</td><td>1000</td><td>143</td><td>0.8570</td><td>11.0 s</td><td>—</td></tr>');
    expect(section).toMatch(/alt="Gradient descent of s020-classic per step/);
    expect(section).toMatch(/alt="The 10 class means of s020-classic/);
    // Step 3 of the table: losses 0.6 and 0.62, error 0.28, 4 trials, t = 0.125.
    expect(section).toContain('<tr><td>3</td><td>0.6000</td><td>0.6200</td><td>0.2800</td><td>4.0</td><td>0.125</td></tr>');
  });

  it('shows each section: note, model summary, numbers, classification report, epochs, sweep cells', () => {
    expect(html).toContain('The notebook scaled the images twice');
    expect(html).toContain('dense_1 (Dense)      (None, 64)      8256');
    expect(html).toContain('54000 / 6000 / 1000');
    // best.epoch is 0-based: epoch 2 of the table.
    expect(html).toContain('0.4000 / 0.8610 (epoch 2, val_loss 0.4500)');
    expect(html).toContain('<th>test loss / accuracy (before training)</th><td>2.3075 / 0.0982</td>');
    expect(html).toMatch(/weighted avg\s+0\.8\d\s+0\.86\s+0\.8\d\s+1000/);
    expect(html).toContain('<tr class="best"><td>2 (best)</td><td>0.5000</td><td>0.8500</td><td>0.4500</td><td>0.8600</td><td>27.6</td><td>0.01</td></tr>');
    // Sweep cells: lr, init, final val_accuracy, final val_loss, test accuracy, time; the best highlighted.
    expect(html).toContain('<tr class="best"><td>0.1</td><td>xavier</td><td>0.9000</td><td>0.4300</td><td>0.9200</td><td>20.7 s</td></tr>');
    expect(html).toContain('<tr><td>0.01</td><td>he</td><td>0.8300</td><td>0.5000</td><td>0.8500</td><td>20.0 s</td></tr>');
  });

  it('escapes text into HTML', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Conv &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; pool');
  });

  it('shows the QUICK banner only in quick mode', async () => {
    expect(html).not.toContain(QUICK_BANNER);
    const quick = readFileSync((await writeReport(quickDir, runReport(true))).index, 'utf8');
    expect(quick).toContain(`<p class="banner">${QUICK_BANNER}</p>`);
    expect(quick).toContain('shaderprop run s001-dense s007-cnn s014-sweep s099-rnn --quick');
  });

  it('rejects ids that are not plain folder names, and repeated ids', async () => {
    const report = runReport();
    await expect(writeReport(quickDir, { ...report, results: [runResult({ id: '../escape' })] })).rejects.toThrow(/not a plain folder name/);
    await expect(writeReport(quickDir, { ...report, results: [runResult(), runResult()] })).rejects.toThrow(/appears twice/);
    expect(existsSync(join(quickDir, '..', 'escape'))).toBe(false);
  });
});

describe('report text', () => {
  it('formats the difference in points with its sign', () => {
    expect(pointsDifference(0.857, 0.82)).toBe('+3.70');
    expect(pointsDifference(0.857, 0.99)).toBe('-13.30');
    expect(pointsDifference(0.9, 0.9)).toBe('±0.00');
    expect(pointsDifference(0.9, null)).toBe('—');
  });

  it('formats durations', () => {
    expect(duration(42.06)).toBe('42.1 s');
    expect(duration(187)).toBe('3 min 07 s');
    expect(duration(7500)).toBe('2 h 05 min');
  });

  it('writes the summary as a GitHub markdown table', () => {
    const lines = markdownSummary(runReport(true)).split('\n');
    expect(lines[0]).toBe(`> **${QUICK_BANNER}**`);
    expect(lines.slice(2, 8)).toEqual([
      '| id | notebook | ours | diff | time | adapter |',
      '|---|---|---:|---:|---:|---|',
      '| s001-dense | 0.82 test (0.8104 train acc) | 0.8570 | +3.70 | 1 min 23 s | SwiftShader |',
      '| s007-cnn | 0.99 test | 0.8570 | -13.30 | 1 h 06 min | SwiftShader |',
      '| s014-sweep | best lr 0.1 (no test accuracy stated) | 0.9200 | — | 1 min 50 s | SwiftShader |',
      '| s020-classic | 100 errors / 1,000 | 0.8570 | -4.30 | 12.5 s | SwiftShader |',
    ]);
    expect(lines.at(-1)).toBe('- could not run **s099-rnn**: recurrent layers are not implemented');
    expect(markdownSummary({ ...runReport(), results: [runResult({ reportedText: 'a | b' })] })).toContain('| a \\| b |');
  });

  it('shows the seed spread: mean ± sd in the summary, whether the notebook is inside the range, and the band', async () => {
    const base = runReport();
    const first = base.results[0] as RunResult;
    const seeds: RunResult[] = [0.857, 0.83, 0.84].map((accuracy, i) => ({ ...first, seed: i + 1, test: { ...first.test, accuracy } }));
    const spread = seedSpread(seeds);
    // The notebook's 0.82 lies below the lowest seed (0.83): outside the range, and outside mean ± 2 sd too.
    expect(spread).toMatchObject({ mean: (0.857 + 0.83 + 0.84) / 3, min: 0.83, max: 0.857, notebookInRange: false });
    const seeded = { ...base, spreads: [spread] };
    const lines = markdownSummary(seeded).split('\n');
    expect(lines[0]).toBe('| id | notebook | ours (mean ± sd) | seeds (min–max) | inside | diff | time | adapter |');
    expect(lines[2]).toBe(`| s001-dense | 0.82 test (0.8104 train acc) | ${spread.mean.toFixed(4)} ± ${spread.sd.toFixed(4)} | 3: 0.8300–0.8570 | no | +2.23 | ${duration(first.seconds * 3)} | SwiftShader |`);
    expect(lines[3]).toMatch(/^\| s007-cnn \| 0\.99 test \| 0\.8570 \| 1 \| — \|/);
    const seedDir = mkdtempSync(join(tmpdir(), 'shaderprop-report-seeds-'));
    try {
      const { index } = await writeReport(seedDir, seeded);
      const page = readFileSync(index, 'utf8');
      expect(summaryRow(page, 's001-dense')).toContain(`${spread.mean.toFixed(4)} ± ${spread.sd.toFixed(4)}`);
      expect(summaryRow(page, 's001-dense')).toContain('<td>no</td>');
      expect(page).toContain('notebook inside the seeds\' range [min, max]');
      expect(page).toContain('The notebook\'s 0.82 (0.815–0.825 as printed) lies outside the range of the seeds');
      expect(page).toContain('read with the decimals it was printed with: 0.92 stands for 0.915–0.925');
      const svg = readFileSync(join(seedDir, 's001-dense', 'seeds.svg'), 'utf8');
      expect(svg).toContain('notebook 0.82');
      expect(JSON.parse(readFileSync(join(seedDir, 's001-dense', 'seeds.json'), 'utf8'))).toEqual(spread);
    } finally {
      rmSync(seedDir, { recursive: true, force: true });
    }
  });
});

/** Opens the written report in headless Chromium: every picture loads, and a screenshot is kept for people to look at. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/report/index.js';
import { REPORT_IMAGES, runReport } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/report/browser.test.ts: skipped, ${CHROMIUM} does not exist (install chromium to run it).`);

describe.skipIf(!hasChromium)(`the report in headless Chromium (${CHROMIUM})`, () => {
  let dir: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shaderprop-report-browser-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads every picture from the page alone and renders a full-page screenshot', async () => {
    const { index } = await writeReport(dir, runReport(true));
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    // Self-contained: the page asks for nothing but itself and its data: URIs.
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));

    await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });
    const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({ alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight })));
    expect(images).toHaveLength(REPORT_IMAGES);
    for (const image of images) {
      expect(image.complete && image.width > 0 && image.height > 0, `picture "${image.alt}" loaded`).toBe(true);
    }
    expect(await page.textContent('.banner')).toContain('QUICK MODE');
    expect(requests.filter((url) => !url.startsWith('file://') && !url.startsWith('data:'))).toEqual([]);
    expect(errors).toEqual([]);

    mkdirSync(OUTPUT, { recursive: true });
    const screenshot = join(OUTPUT, 'report-screenshot.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    // A blank page of this size compresses to a few kB; the report's pictures and tables make it far larger.
    expect(statSync(screenshot).size).toBeGreaterThan(100_000);
  });
});

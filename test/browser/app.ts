/**
 * What the browser tests share: the built demo served by Vite's preview
 * server (with /mnist/ from the local MNIST folder), and headless Chromium
 * with WebGPU on SwiftShader.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
const CONFIG = fileURLToPath(new URL('../../vite.config.ts', import.meta.url));

/**
 * Headless Chromium with WebGPU. Without a GPU, Chromium's WebGPU (Dawn) runs
 * on its bundled SwiftShader Vulkan driver; `--enable-unsafe-webgpu` is all it
 * takes on Linux. The rest stop start-up network attempts (there is no network).
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Builds the demo into dist/web (quietly) and serves it; returns the server and its URL. */
export async function serveBuiltApp(): Promise<{ server: PreviewServer; url: string }> {
  await build({ configFile: CONFIG, logLevel: 'warn' });
  const server = await preview({ configFile: CONFIG, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('The preview server reports no local URL.');
  return { server, url };
}

/** Console errors and page errors, collected for a test to assert there are none. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}

/** Waits until the page's body[data-state] is one of `states`; fails with the page's error text otherwise. */
export async function waitForState(page: Page, states: string[], timeout = 120_000): Promise<string> {
  const selector = states.map((s) => `body[data-state="${s}"]`).concat('body[data-state="error"]', 'body[data-state="fatal"]').join(', ');
  await page.waitForSelector(selector, { timeout, state: 'attached' });
  const state = (await page.getAttribute('body', 'data-state'))!;
  if (!states.includes(state)) {
    const message = (await page.textContent('#error'))?.trim() || (await page.textContent('#fatal'))?.trim();
    throw new Error(`The page is in state '${state}': ${message}`);
  }
  return state;
}

/** Fills the settings form. */
export async function setSettings(page: Page, s: { id?: string; epochs?: number; batch?: number; lr?: number; train?: number; test?: number; seed?: number }): Promise<void> {
  if (s.id) await page.selectOption('#experiment', s.id);
  const fields: [string, number | undefined][] = [
    ['#epochs', s.epochs], ['#batch', s.batch], ['#lr', s.lr], ['#train-images', s.train], ['#test-images', s.test], ['#seed', s.seed],
  ];
  for (const [selector, value] of fields) if (value !== undefined) await page.fill(selector, String(value));
}

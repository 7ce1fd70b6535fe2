/**
 * The shader view: every dispatch of one training step in the order it runs,
 * with its pipeline's WGSL (highlighted by shiki, which has a WGSL grammar),
 * the bindings and the shapes they hold, the workgroup size and the grid,
 * and, where the adapter stamps passes, the GPU time of each.
 */
import type { Dispatch } from '../../../src/gpu/runtime.js';
import { WGSL, WGSL_FILES } from '../../../src/ops/sources.js';
import type { HighlighterCore } from 'shiki/core';

/** One row of the view: what a dispatch runs and on what. */
export interface KernelRow {
  index: number;
  /** What the dispatch does, e.g. 'dense forward'. */
  label: string;
  /** The program's name and its WGSL entry point. */
  program: string;
  entryPoint: string;
  /** The .wgsl files the program is made of, libraries first. */
  files: string[];
  workgroupSize: [number, number, number];
  workgroups: [number, number, number];
  overrides: Record<string, number>;
  bindings: { name: string; kind: string; shape: string; bytes: number }[];
  /** The WGSL as compiled (after the preprocessor). */
  source: string;
  /** The pipeline's cache key: rows with equal keys share one pipeline. */
  key: string;
}

const FILE_OF = new Map<string, string>(Object.entries(WGSL).map(([name, text]) => [text, WGSL_FILES[name as keyof typeof WGSL]]));

export function describeDispatches(dispatches: readonly Dispatch[]): KernelRow[] {
  return dispatches.map((d, index) => {
    const spec = d.kernel.spec;
    const [x, y = 1, z = 1] = spec.workgroupSize;
    return {
      index, label: d.label, program: spec.name, entryPoint: spec.entryPoint,
      files: spec.sources.map((text) => FILE_OF.get(text) ?? 'WGSL given inline'),
      workgroupSize: [x, y, z], workgroups: [...d.workgroups],
      overrides: { ...spec.overrides },
      bindings: spec.bindings.map((binding, i) => {
        const resource = d.resources[i]!;
        const bytes = resource.size ?? resource.buffer.size - (resource.offset ?? 0);
        const shape = resource.shape ? `(${resource.shape.join(', ')})` : binding.kind === 'uniform' ? 'uniform block' : `${bytes / 4} words`;
        return { name: binding.name, kind: binding.kind, shape, bytes };
      }),
      source: d.kernel.source, key: d.kernel.key,
    };
  });
}

let highlighter: Promise<HighlighterCore> | undefined;

/** Shiki with only WGSL and one theme, loaded on first use (its own chunk), with the JavaScript regex engine (no WebAssembly). */
function getHighlighter(): Promise<HighlighterCore> {
  highlighter ??= (async () => {
    const [{ createHighlighterCore }, { createJavaScriptRegexEngine }] = await Promise.all([import('shiki/core'), import('shiki/engine/javascript')]);
    return createHighlighterCore({
      themes: [import('shiki/themes/github-light.mjs')],
      langs: [import('shiki/langs/wgsl.mjs')],
      engine: createJavaScriptRegexEngine(),
    });
  })();
  return highlighter;
}

/** Highlighted WGSL, the entry point's line marked and scrolled to. */
async function showSource(container: HTMLElement, row: KernelRow): Promise<void> {
  const h = await getHighlighter();
  container.innerHTML = h.codeToHtml(row.source, { lang: 'wgsl', theme: 'github-light' });
  const pre = container.querySelector('pre');
  const lines = Array.from(container.querySelectorAll<HTMLElement>('.line'));
  const pattern = new RegExp(`\\bfn\\s+${row.entryPoint}\\s*\\(`);
  const entry = lines.find((line) => pattern.test(line.textContent ?? ''));
  if (entry && pre) {
    entry.classList.add('entry');
    pre.scrollTop = Math.max(0, entry.offsetTop - pre.offsetTop - 60);
  }
}

export function formatMicroseconds(ns: number): string {
  const us = ns / 1000;
  return us >= 100 ? `${us.toFixed(0)} µs` : `${us.toFixed(1)} µs`;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function table(head: string[], rows: string[][]): HTMLTableElement {
  const t = element('table');
  const tr = t.createTHead().insertRow();
  for (const h of head) tr.append(element('th', h));
  const body = t.createTBody();
  for (const row of rows) {
    const r = body.insertRow();
    for (const cell of row) r.insertCell().textContent = cell;
  }
  return t;
}

/** The list of dispatches: one collapsible row each, its WGSL highlighted when opened. */
export function renderKernels(container: HTMLElement, rows: readonly KernelRow[], times: Float64Array | null): void {
  container.replaceChildren();
  for (const row of rows) {
    const details = element('details', undefined, 'kernel');
    details.dataset.entry = row.entryPoint;
    details.dataset.index = String(row.index);
    const summary = element('summary');
    const threads = row.workgroupSize.reduce((a, b) => a * b, 1) * row.workgroups.reduce((a, b) => a * b, 1);
    summary.append(
      element('span', String(row.index + 1), 'index'),
      element('span', row.label),
      element('code', row.entryPoint),
      element('span', `wg ${row.workgroupSize.join('×')}`),
      element('span', `grid ${row.workgroups.join('×')}`),
      element('span', times ? formatMicroseconds(times[row.index]!) : `${threads.toLocaleString('en-US')} threads`, 'time'),
    );
    summary.title = `${threads.toLocaleString('en-US')} threads in ${row.workgroups.reduce((a, b) => a * b, 1).toLocaleString('en-US')} workgroups`;
    const body = element('div', undefined, 'body');
    body.append(
      element('p', `Program ${row.program}, entry point ${row.entryPoint}, from ${row.files.join(' + ')}. ` +
        `Workgroup ${row.workgroupSize.join('×')}, dispatched as ${row.workgroups.join('×')} workgroups (${threads.toLocaleString('en-US')} threads).`, 'note'),
      table(['binding', 'variable', 'kind', 'holds', 'bytes'], row.bindings.map((b, i) => [String(i), b.name, b.kind, b.shape, b.bytes.toLocaleString('en-US')])),
    );
    const overrides = Object.entries(row.overrides);
    if (overrides.length) body.append(table(['override', 'value'], overrides.map(([k, v]) => [k, String(v)])));
    const code = element('div', undefined, 'wgsl');
    code.textContent = 'Loading the highlighter…';
    body.append(code);
    details.append(summary, body);
    let shown = false;
    details.addEventListener('toggle', () => {
      if (!details.open || shown) return;
      shown = true;
      showSource(code, row).catch((error: unknown) => {
        // Without highlighting the source is still worth showing.
        code.replaceChildren(element('pre', row.source));
        console.warn('WGSL highlighting failed:', error);
      });
    });
    container.append(details);
  }
}

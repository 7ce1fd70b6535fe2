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
const TEXT_OF = new Map<string, string>(Object.entries(WGSL).map(([name, text]) => [WGSL_FILES[name as keyof typeof WGSL], text]));

/** A kernel's math, from the header comment of its WGSL: the block that names the entry point, its own lines marked. */
export interface Formula {
  file: string;
  lines: { text: string; entry: boolean }[];
}

/** The header comment's lines (the leading `//` lines), without the `//`. */
function headerLines(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.slice(2));
  }
  return lines;
}

/** Runs of header lines indented past the prose (3 or more spaces after `//`): the formulas. */
function formulaBlocks(text: string): string[][] {
  const blocks: string[][] = [];
  let block: string[] = [];
  for (const line of headerLines(text)) {
    if (/^ {3,}\S/.test(line)) block.push(line.replace(/\s+$/, ''));
    else if (block.length) {
      blocks.push(block);
      block = [];
    }
  }
  if (block.length) blocks.push(block);
  return blocks;
}

const indent = (line: string) => /^ */.exec(line)![0].length;

/**
 * The formula of `entryPoint` in `files` (WGSL file paths, libraries first):
 * the header block that names it, searching the program's own file first.
 * A kernel its header does not name (a family's variant that reuses another's
 * math, e.g. conv2d_quad_forward) gets the block of the same product in the
 * files it is built on (conv2d_gemm_forward). Undefined where no header says.
 */
export function formulaOf(entryPoint: string, files: readonly string[]): Formula | undefined {
  const texts = [...files].reverse().flatMap((file) => {
    const text = TEXT_OF.get(file);
    return text ? [{ file, blocks: formulaBlocks(text) }] : [];
  });
  const parts = entryPoint.split('_');
  // The entry point itself; ever shorter suffixes of it (quad_forward, forward) after another prefix; ever shorter prefixes of it.
  const patterns = [
    new RegExp(`\\b${entryPoint}\\b`),
    ...parts.slice(1).map((_, k) => new RegExp(`\\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*_${parts.slice(k + 1).join('_')}\\b`)),
    ...parts.slice(1).map((_, k) => new RegExp(`\\b${parts.slice(0, parts.length - 1 - k).join('_')}\\b`)),
  ];
  for (const pattern of patterns) {
    for (const { file, blocks } of texts) {
      for (const [b, found] of blocks.entries()) {
        if (!found.some((line) => pattern.test(line))) continue;
        // A table of entry points without an equation (dense_quad.wgsl's strides) reads with the formula block before it.
        const block = !found.some((line) => line.includes('=')) && b > 0 ? [...blocks[b - 1]!, '', ...found] : found;
        // The entry's lines: those naming it, and the more deeply indented lines that continue them.
        const marked = new Set<number>();
        for (let i = 0; i < block.length; i++) {
          if (!block[i] || !pattern.test(block[i]!)) continue;
          marked.add(i);
          for (let j = i + 1; j < block.length && indent(block[j]!) > indent(block[i]!); j++) marked.add(j);
        }
        const shift = Math.min(...block.filter((line) => line).map(indent));
        return { file, lines: block.map((text, i) => ({ text: text.slice(shift), entry: marked.has(i) })) };
      }
    }
  }
  // Else the first block with an equation in it, from the program's own file first, nothing marked.
  for (const { file, blocks } of texts) {
    const block = blocks.find((b) => b.some((line) => line.includes('=')));
    if (!block) continue;
    const shift = Math.min(...block.map(indent));
    return { file, lines: block.map((text) => ({ text: text.slice(shift), entry: false })) };
  }
  return undefined;
}

/** The shader view's element id of dispatch `index`: the step view links to it. */
export function kernelElementId(index: number): string {
  return `kernel-${index}`;
}

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
    details.id = kernelElementId(row.index);
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
    );
    const code = element('div', undefined, 'wgsl');
    code.textContent = 'Loading the highlighter…';
    // The math beside the code: the header's formula block, this kernel's lines in bold.
    const formula = formulaOf(row.entryPoint, row.files);
    const math = element('div', undefined, 'formula');
    if (formula) {
      math.append(element('div', `What it computes (from ${formula.file}):`, 'formula-head'));
      const pre = element('pre');
      for (const line of formula.lines) pre.append(element('span', `${line.text}\n`, line.entry ? 'entry' : undefined));
      math.append(pre);
    } else {
      math.append(element('div', 'The header of its WGSL states no formula for this kernel.', 'formula-head'));
    }
    // Under the formula, what the dispatch binds and its override constants.
    math.append(table(['binding', 'variable', 'kind', 'holds', 'bytes'], row.bindings.map((b, i) => [String(i), b.name, b.kind, b.shape, b.bytes.toLocaleString('en-US')])));
    const overrides = Object.entries(row.overrides);
    if (overrides.length) math.append(table(['overrides'], [[overrides.map(([k, v]) => `${k} = ${v}`).join(', ')]]));
    const pair = element('div', undefined, 'code-and-math');
    pair.append(math, code);
    body.append(pair);
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

/** Opens dispatch `index` in the shader view (its WGSL loads) and scrolls to it; false where the view does not list it. */
export function openKernel(container: HTMLElement, index: number): boolean {
  const details = container.querySelector<HTMLDetailsElement>(`#${kernelElementId(index)}`);
  if (!details) return false;
  details.open = true;
  for (const other of Array.from(container.querySelectorAll('details.kernel.target'))) other.classList.remove('target');
  details.classList.add('target');
  details.scrollIntoView({ block: 'start' });
  return true;
}

/**
 * MNIST for a browser tab, where there are no files: the four IDX files are
 * fetched from the page's own server first (the demo's dev server serves
 * MNIST_DIR there), then from the public mirrors, gunzipped with
 * `DecompressionStream`, and kept in a byte cache (the Cache API) so that a
 * reload fetches nothing.
 *
 * Files from the mirrors are checked against their published SHA-256 before
 * they are used or cached, as `download.ts` does in Node; files from the
 * page's own server are trusted, as a local folder is in Node. Only web APIs
 * (fetch, crypto.subtle, DecompressionStream, caches), so the tests run it in Node.
 */
import { gunzip, isGzip, parseIdx } from './idx.js';
import type { ImageSet } from './images.js';
import { checkImages, checkLabels } from './mnist.js';
import { MNIST_FILES, MNIST_SHA256 } from './mnist-files.js';

/** Where fetched files are kept between page loads. */
export interface ByteCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface BrowserMnistOptions {
  /**
   * The page's own folder of MNIST files, e.g. 'mnist/' (relative to the page):
   * `<name>.gz` or `<name>`, tried first. Null: none.
   */
  local?: string | null;
  /** Base URLs ending in '/', tried after `local` (default MNIST_MIRRORS). */
  mirrors?: readonly string[];
  /** Default: the Cache API where the page has one (secure contexts); null: no cache. */
  cache?: ByteCache | null;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Progress lines for the page's status bar. */
  log?: (line: string) => void;
}

/** Thrown when a file could be fetched from none of the sources; the message lists each attempt. */
export class MnistFetchError extends Error {
  constructor(readonly file: string, readonly failures: readonly string[]) {
    super(
      `Could not fetch the MNIST file ${file}.\n  ${failures.join('\n  ')}\n` +
        'Start the demo with `npm run demo`: its server serves MNIST_DIR (or ../shared/mnist beside the repository) at mnist/. ' +
        'Otherwise the four files must be reachable at mnist/ beside the page, or a public mirror must answer ' +
        '(it must allow cross-origin requests, and the machine must be online).',
    );
    this.name = 'MnistFetchError';
  }
}

const CACHE_NAME = 'shaderprop-mnist-v1';

/** The Cache API as a ByteCache, or undefined where the page has none (insecure contexts, Node). */
async function cacheStorage(name = CACHE_NAME): Promise<ByteCache | undefined> {
  if (typeof caches === 'undefined') return undefined;
  let cache: Cache;
  try {
    cache = await caches.open(name);
  } catch {
    return undefined; // e.g. storage disabled for this origin
  }
  // Keys are URLs; these name no real resource, only an entry of this cache.
  const url = (key: string) => `https://shaderprop.invalid/mnist/${key}`;
  return {
    async get(key) {
      const response = await cache.match(url(key));
      return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      await cache.put(url(key), new Response(bytes as Uint8Array<ArrayBuffer>));
    },
    async delete(key) {
      await cache.delete(url(key));
    },
  };
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

async function attempt(get: typeof fetch, url: string): Promise<Uint8Array | string> {
  try {
    const response = await get(url);
    if (!response.ok) return `${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    // A static host's fallback page for a missing file, not the file.
    if (response.headers.get('content-type')?.includes('text/html')) return `${url}: an HTML page, not the file`;
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    // A mirror without CORS headers fails here too, as a network error.
    return `${url}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The bytes of one file (gzipped or raw) and where they came from. */
async function fetchFile(base: string, options: BrowserMnistOptions, cache: ByteCache | null): Promise<{ bytes: Uint8Array; from: string }> {
  const cached = await cache?.get(base);
  if (cached) return { bytes: cached, from: 'the browser cache' };
  const get = options.fetch ?? fetch;
  const failures: string[] = [];
  let found: { bytes: Uint8Array; from: string } | undefined;
  if (options.local) {
    for (const name of [`${base}.gz`, base]) {
      const result = await attempt(get, options.local + name);
      if (typeof result === 'string') {
        failures.push(result);
        continue;
      }
      found = { bytes: result, from: options.local };
      break;
    }
  }
  // download.ts as mnist.ts loads it, lazily: a bundle keeps it in a chunk of its own.
  const { MNIST_MIRRORS, sha256Hex } = await import('./download.js');
  for (const mirror of found ? [] : (options.mirrors ?? MNIST_MIRRORS)) {
    const name = `${base}.gz`;
    const result = await attempt(get, mirror + name);
    if (typeof result === 'string') {
      failures.push(result);
      continue;
    }
    const expected = MNIST_SHA256[name]!;
    const actual = await sha256Hex(result);
    if (actual !== expected) {
      failures.push(`${mirror + name}: SHA-256 ${actual} does not match the published ${expected} (corrupt or different file)`);
      continue;
    }
    found = { bytes: result, from: mirror };
    break;
  }
  if (!found) throw new MnistFetchError(`${base}.gz`, failures);
  await cache?.put(base, found.bytes).catch(() => {
    // A full or disabled cache costs a download next time, nothing more.
  });
  return found;
}

async function parseFile(base: string, bytes: Uint8Array) {
  return parseIdx(isGzip(bytes) ? await gunzip(bytes, base) : bytes, base);
}

/** Fetches and parses one file; a cached copy that does not parse is dropped and fetched again. */
async function loadFile(base: string, options: BrowserMnistOptions, cache: ByteCache | null) {
  const log = options.log ?? (() => {});
  const { bytes, from } = await fetchFile(base, options, cache);
  try {
    const parsed = await parseFile(base, bytes);
    log(`${base}: ${megabytes(bytes.length)} from ${from}`);
    return parsed;
  } catch (error) {
    if (from !== 'the browser cache' || !cache) throw error;
    await cache.delete(base);
    log(`${base}: the cached copy is damaged; fetching it again`);
    const fresh = await fetchFile(base, options, cache);
    log(`${base}: ${megabytes(fresh.bytes.length)} from ${fresh.from}`);
    return parseFile(base, fresh.bytes);
  }
}

async function loadSplit(imagesBase: string, labelsBase: string, name: string, options: BrowserMnistOptions, cache: ByteCache | null): Promise<ImageSet> {
  const images = await loadFile(imagesBase, options, cache);
  const labels = await loadFile(labelsBase, options, cache);
  checkImages(images, imagesBase);
  checkLabels(labels, labelsBase);
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new Error(`MNIST count mismatch: ${imagesBase} has ${count} images but ${labelsBase} has ${labels.dims[0]} labels; the files do not belong together.`);
  }
  return { images: images.data, labels: labels.data, count, rows, cols, name };
}

/**
 * The MNIST training (60,000) and test (10,000) sets for a page: from the
 * cache, else `local`, else the mirrors; what was fetched is cached.
 */
export async function fetchMnist(options: BrowserMnistOptions = {}): Promise<{ train: ImageSet; test: ImageSet }> {
  const cache = options.cache === undefined ? ((await cacheStorage()) ?? null) : options.cache;
  const train = await loadSplit(MNIST_FILES.trainImages, MNIST_FILES.trainLabels, 'mnist-train', options, cache);
  const test = await loadSplit(MNIST_FILES.testImages, MNIST_FILES.testLabels, 'mnist-test', options, cache);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(`MNIST image size mismatch: training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}.`);
  }
  return { train, test };
}

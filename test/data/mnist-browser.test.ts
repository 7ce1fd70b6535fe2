/**
 * The browser's MNIST loader (src/data/mnist-browser.ts) against local HTTP
 * servers standing in for the page's own server and for the mirrors, with an
 * in-memory cache standing in for the Cache API.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchMnist, MnistFetchError, type ByteCache } from '../../src/data/mnist-browser.js';
import { loadMnist, MNIST_SHA256 } from '../../src/data/mnist.js';
import { mnistDir } from '../helpers.js';
import { serveFiles } from './fixtures.js';

const source = mnistDir();

function memoryCache(): ByteCache & { entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  return {
    entries,
    get: async (key) => entries.get(key),
    put: async (key, bytes) => void entries.set(key, bytes.slice()),
    delete: async (key) => void entries.delete(key),
  };
}

describe.skipIf(!source)('fetchMnist (MNIST in a browser tab)', () => {
  const servers: Server[] = [];
  let gz: Awaited<ReturnType<typeof serveFiles>>;
  let raw: Awaited<ReturnType<typeof serveFiles>>;
  let corrupt: Awaited<ReturnType<typeof serveFiles>>;
  let empty: Awaited<ReturnType<typeof serveFiles>>;
  let reference: Awaited<ReturnType<typeof loadMnist>>;

  beforeAll(async () => {
    const files = new Map<string, Uint8Array>();
    const unzipped = new Map<string, Uint8Array>();
    for (const name of Object.keys(MNIST_SHA256)) {
      const bytes = new Uint8Array(await readFile(join(source!, name)));
      files.set(name, bytes);
      unzipped.set(name.replace(/\.gz$/, ''), new Uint8Array(gunzipSync(bytes)));
    }
    const damaged = new Map(files);
    const labels = new Uint8Array(files.get('t10k-labels-idx1-ubyte.gz')!);
    labels[labels.length >> 1] ^= 0xff;
    damaged.set('t10k-labels-idx1-ubyte.gz', labels);
    gz = await serveFiles(files);
    raw = await serveFiles(unzipped);
    corrupt = await serveFiles(damaged);
    empty = await serveFiles(new Map());
    servers.push(gz.server, raw.server, corrupt.server, empty.server);
    reference = await loadMnist({ dir: source! });
  });
  afterAll(() => servers.forEach((s) => s.close()));

  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

  it('reads the page\'s own gzipped files as the Node loader does, caches them, and a reload fetches nothing', async () => {
    const cache = memoryCache();
    const lines: string[] = [];
    const mnist = await fetchMnist({ local: gz.url, mirrors: [], cache, log: (l) => lines.push(l) });
    expect([mnist.train.count, mnist.test.count, mnist.train.rows, mnist.train.cols]).toEqual([60000, 10000, 28, 28]);
    expect(same(mnist.train.images, reference.train.images)).toBe(true);
    expect(same(mnist.test.labels, reference.test.labels)).toBe(true);
    expect([...cache.entries.keys()].sort()).toEqual(Object.keys(MNIST_SHA256).map((n) => n.replace(/\.gz$/, '')).sort());
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^train-images-idx3-ubyte: 9\.9 MB from http:\/\/127\.0\.0\.1:\d+\/mnist\/$/);

    const before = gz.requests.length;
    const again = await fetchMnist({ local: gz.url, mirrors: [], cache, log: (l) => lines.push(l) });
    expect(gz.requests.length).toBe(before);
    expect(lines.slice(4).every((l) => l.endsWith('from the browser cache'))).toBe(true);
    expect(same(again.train.labels, reference.train.labels)).toBe(true);
  });

  it('takes raw (not gzipped) files from the page\'s server', async () => {
    const mnist = await fetchMnist({ local: raw.url, mirrors: [], cache: null });
    expect(same(mnist.test.images, reference.test.images)).toBe(true);
    // It asked for <name>.gz first, then <name>.
    expect(raw.requests.slice(0, 2)).toEqual(['train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte']);
  });

  it('falls back to a mirror when the page has no files, past a mirror that answers 404', async () => {
    const cache = memoryCache();
    const mnist = await fetchMnist({ local: empty.url, mirrors: [empty.url, gz.url], cache });
    expect(same(mnist.train.labels, reference.train.labels)).toBe(true);
    expect(cache.entries.size).toBe(4);
  });

  it('refuses a mirror\'s file whose SHA-256 differs, caches nothing for it, and says what to do', async () => {
    const cache = memoryCache();
    const error = (await fetchMnist({ local: empty.url, mirrors: [corrupt.url], cache }).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(MnistFetchError);
    expect(error.message).toMatch(/Could not fetch the MNIST file t10k-labels-idx1-ubyte\.gz/);
    expect(error.message).toMatch(/SHA-256 [0-9a-f]{64} does not match the published/);
    expect(error.message).toMatch(/t10k-labels-idx1-ubyte\.gz: HTTP 404/);
    expect(error.message).toMatch(/npm run demo/);
    expect(cache.entries.has('t10k-labels-idx1-ubyte')).toBe(false);
    expect(cache.entries.has('train-images-idx3-ubyte')).toBe(true);
  });

  it('takes a static host\'s HTML fallback page for a missing file, not for the file', async () => {
    const spa = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>app</title>'));
    await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve));
    servers.push(spa);
    const local = `http://127.0.0.1:${(spa.address() as { port: number }).port}/mnist/`;
    const mnist = await fetchMnist({ local, mirrors: [gz.url], cache: null });
    expect(same(mnist.train.labels, reference.train.labels)).toBe(true);
    const error = (await fetchMnist({ local, mirrors: [], cache: null }).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error.message).toContain(`${local}train-images-idx3-ubyte.gz: an HTML page, not the file`);
  });

  it('names an unreachable server in its error', async () => {
    const error = (await fetchMnist({ local: 'http://127.0.0.1:9/mnist/', mirrors: [], cache: null }).then(() => undefined, (e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(MnistFetchError);
    expect(error.message).toMatch(/http:\/\/127\.0\.0\.1:9\/mnist\/train-images-idx3-ubyte\.gz: /);
  });

  it('drops a damaged cached copy and fetches the file again', async () => {
    const cache = memoryCache();
    await fetchMnist({ local: gz.url, mirrors: [], cache });
    cache.entries.set('t10k-labels-idx1-ubyte', new Uint8Array([0, 0, 8, 1, 0, 0]));
    const lines: string[] = [];
    const mnist = await fetchMnist({ local: gz.url, mirrors: [], cache, log: (l) => lines.push(l) });
    expect(same(mnist.test.labels, reference.test.labels)).toBe(true);
    expect(lines).toContain('t10k-labels-idx1-ubyte: the cached copy is damaged; fetching it again');
    expect(cache.entries.get('t10k-labels-idx1-ubyte')!.length).toBe(4542);
  });
});

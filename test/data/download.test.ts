/**
 * The MNIST download against local HTTP servers: one serving the real files,
 * one a corrupted copy, one nothing at all.
 */
import type { Server } from 'node:http';
import { readFile, readdir, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadMnist, sha256Hex } from '../../src/data/download.js';
import { loadMnist, MNIST_SHA256 } from '../../src/data/mnist.js';
import { mnistDir } from '../helpers.js';
import { serveFiles } from './fixtures.js';

const source = mnistDir();

describe.skipIf(!source)('MNIST download', () => {
  const servers: Server[] = [];
  let good: Awaited<ReturnType<typeof serveFiles>>;
  let corrupt: Awaited<ReturnType<typeof serveFiles>>;
  let empty: Awaited<ReturnType<typeof serveFiles>>;

  beforeAll(async () => {
    const files = new Map<string, Uint8Array>();
    for (const name of Object.keys(MNIST_SHA256)) files.set(name, new Uint8Array(await readFile(join(source!, name))));
    const damaged = new Map(files);
    const labels = new Uint8Array(files.get('train-labels-idx1-ubyte.gz')!);
    labels[labels.length >> 1] ^= 0xff;
    damaged.set('train-labels-idx1-ubyte.gz', labels);
    good = await serveFiles(files);
    corrupt = await serveFiles(damaged);
    empty = await serveFiles(new Map());
    servers.push(good.server, corrupt.server, empty.server);
  });
  afterAll(() => servers.forEach((s) => s.close()));

  it('fetches, verifies and caches the four files, falling back past a failing mirror', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'shaderprop-cache-'));
    const lines: string[] = [];
    const dir = await downloadMnist({ mirrors: [empty.url, good.url], cacheDir, log: (l) => lines.push(l) });
    expect(dir).toBe(cacheDir);
    expect((await readdir(cacheDir)).sort()).toEqual(Object.keys(MNIST_SHA256).sort());
    for (const [name, sum] of Object.entries(MNIST_SHA256)) expect(await sha256Hex(new Uint8Array(await readFile(join(cacheDir, name))))).toBe(sum);
    expect(lines.filter((l) => l.includes('verified'))).toHaveLength(4);
    // A second call finds the verified cache and fetches nothing.
    const before = good.requests.length;
    await downloadMnist({ mirrors: [good.url], cacheDir });
    expect(good.requests.length).toBe(before);
    // And loadMnist can use it.
    const mnist = await loadMnist({ dir, subset: { train: 10, test: 10 } });
    expect(mnist.train.labels[0]).toBe(5);
  });

  it('refuses a corrupted file with a clear error and caches nothing for it', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'shaderprop-cache-'));
    const error = (await downloadMnist({ mirrors: [corrupt.url], cacheDir }).then(() => undefined, (e: unknown) => e)) as Error | undefined;
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/train-labels-idx1-ubyte\.gz.*nothing was cached/);
    expect(error!.message).toMatch(/SHA-256 [0-9a-f]{64} does not match the published/);
    const cached = await readdir(cacheDir);
    expect(cached).not.toContain('train-labels-idx1-ubyte.gz');
    expect(cached.some((f) => f.includes('.tmp'))).toBe(false);
  });

  it('replaces a corrupted cached file', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'shaderprop-cache-'));
    await writeFile(join(cacheDir, 't10k-labels-idx1-ubyte.gz'), 'not mnist');
    await downloadMnist({ mirrors: [good.url], cacheDir });
    expect(await sha256Hex(new Uint8Array(await readFile(join(cacheDir, 't10k-labels-idx1-ubyte.gz'))))).toBe(MNIST_SHA256['t10k-labels-idx1-ubyte.gz']);
    expect(existsSync(join(cacheDir, 't10k-labels-idx1-ubyte.gz'))).toBe(true);
  });
});

/** Builders of small IDX / MNIST fixture files in a temporary folder, for the data tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** An IDX file: magic 00 00 <type> <ndims>, big-endian u32 dims, then `data`. */
export function makeIdx(dims: number[], data: Uint8Array, typeCode = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = typeCode;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

export function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes));
}

/** Deterministic pseudo-random bytes below `below` (an LCG; enough for fixtures). */
export function pseudoBytes(n: number, seed = 1, below = 256): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = (x >>> 16) % below;
  }
  return out;
}

/** A fresh temporary folder; `cleanup` removes it. */
export function tempDir(prefix = 'shaderprop-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeFile(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

export interface FakeMnist {
  trainImages: Uint8Array;
  trainLabels: Uint8Array;
  testImages: Uint8Array;
  testLabels: Uint8Array;
}

/**
 * Writes a tiny MNIST-shaped set (trainCount/testCount images of rows×cols) into `dir`,
 * gzipped or raw; returns the contents so tests can compare.
 */
export function writeFakeMnist(
  dir: string,
  options: { trainCount?: number; testCount?: number; rows?: number; cols?: number; gz?: boolean } = {},
): FakeMnist {
  const { trainCount = 12, testCount = 5, rows = 4, cols = 3, gz = true } = options;
  const contents: FakeMnist = {
    trainImages: pseudoBytes(trainCount * rows * cols, 11),
    trainLabels: pseudoBytes(trainCount, 12, 10),
    testImages: pseudoBytes(testCount * rows * cols, 13),
    testLabels: pseudoBytes(testCount, 14, 10),
  };
  const files: [string, number[], Uint8Array][] = [
    ['train-images-idx3-ubyte', [trainCount, rows, cols], contents.trainImages],
    ['train-labels-idx1-ubyte', [trainCount], contents.trainLabels],
    ['t10k-images-idx3-ubyte', [testCount, rows, cols], contents.testImages],
    ['t10k-labels-idx1-ubyte', [testCount], contents.testLabels],
  ];
  for (const [name, dims, data] of files) {
    const idx = makeIdx(dims, data);
    writeFile(dir, gz ? `${name}.gz` : name, gz ? gzip(idx) : idx);
  }
  return contents;
}

/**
 * Serves `files` (name → bytes) on 127.0.0.1 under /mnist/; other paths are 404.
 * Records the file name of each request, for tests that count them.
 */
export async function serveFiles(files: Map<string, Uint8Array>): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const name = (req.url ?? '').split('/').pop()!;
    requests.push(name);
    const body = files.get(name);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mnist/`, server, requests };
}

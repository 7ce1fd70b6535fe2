/**
 * Fetching MNIST when no folder has it: the four `.gz` files from a list of
 * mirrors into a cache folder, each verified against its published SHA-256
 * before it is written, and written atomically (temporary file, then rename),
 * so the cache never holds a partial or unverified file.
 *
 * Uses only `fetch` and `crypto.subtle` (in Node 20 and in browsers); the
 * cache goes through the platform's file functions.
 */
import { getPlatform } from '../platform/platform.js';
import { MNIST_FILES, MNIST_SHA256 } from './mnist-files.js';

/** Where the MNIST files are served, tried in order. */
export const MNIST_MIRRORS: readonly string[] = [
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://yann.lecun.com/exdb/mnist/',
];

export interface DownloadOptions {
  /** Base URLs ending in '/', tried in order (default MNIST_MIRRORS). */
  mirrors?: readonly string[];
  /** Cache folder (default `<platform cache>/mnist`, i.e. ~/.cache/shaderprop/mnist in Node). */
  cacheDir?: string;
  /** Progress lines, e.g. console.log. */
  log?: (line: string) => void;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Makes sure the cache holds the four verified files and returns its folder.
 * Files already cached are re-verified; a bad one is fetched again.
 */
export async function downloadMnist(options: DownloadOptions = {}): Promise<string> {
  const platform = await getPlatform();
  const dir = options.cacheDir ?? platform.joinPath(platform.cacheDir(), 'mnist');
  const mirrors = options.mirrors ?? MNIST_MIRRORS;
  const get = options.fetch ?? fetch;
  const log = options.log ?? (() => {});
  await platform.mkdirp(dir);
  for (const base of Object.values(MNIST_FILES)) {
    const name = `${base}.gz`;
    const expected = MNIST_SHA256[name]!;
    const path = platform.joinPath(dir, name);
    if (await platform.exists(path)) {
      if ((await sha256Hex(await platform.readFile(path))) === expected) continue;
      log(`${path}: checksum does not match; fetching it again`);
    }
    const failures: string[] = [];
    let saved = false;
    for (const mirror of mirrors) {
      const url = mirror + name;
      let bytes: Uint8Array;
      try {
        const response = await get(url);
        if (!response.ok) {
          failures.push(`${url}: HTTP ${response.status}`);
          continue;
        }
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        failures.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const actual = await sha256Hex(bytes);
      if (actual !== expected) {
        failures.push(`${url}: SHA-256 ${actual} does not match the published ${expected} (corrupt or different file)`);
        continue;
      }
      await platform.writeFileAtomic(path, bytes);
      log(`${name}: ${bytes.length.toLocaleString('en-US')} bytes from ${mirror}, verified`);
      saved = true;
      break;
    }
    if (!saved) {
      throw new Error(
        `Could not fetch a verified ${name}; nothing was cached for it.\n  ${failures.join('\n  ')}\n` +
          `Download the MNIST files by hand into a folder and pass it as --data or MNIST_DIR.`,
      );
    }
  }
  return dir;
}

/**
 * What shaderprop needs from its host, and nothing more: a WebGPU entry point,
 * file access for datasets and checkpoints, and environment variables.
 *
 * In a browser `navigator.gpu` is the GPU and there are no files; in Node all of
 * it comes from `./node.ts`, the one module that knows it runs in Node. It is
 * loaded lazily, through a specifier bundlers do not follow, so a browser build
 * never sees it.
 */
export interface Platform {
  readonly name: 'node' | 'browser';
  /**
   * The WebGPU entry point (`navigator.gpu` or Dawn's), or a clear error.
   * `boundsChecks: false` asks for one whose devices compile shaders without
   * bounds checks (Dawn's `disable_robustness`): Node only.
   */
  gpu(options?: { boundsChecks?: boolean }): Promise<GPU>;
  /** Reads a whole file; rejects with an error naming the path. */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a file atomically: a temporary file in the same folder, then a rename. */
  writeFileAtomic(path: string, data: Uint8Array | string): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** The entries of a folder, sorted by name; rejects with an error naming the path. Node only. */
  readDir(path: string): Promise<{ name: string; directory: boolean }[]>;
  mkdirp(path: string): Promise<void>;
  joinPath(...parts: string[]): string;
  env(name: string): string | undefined;
  /** A per-user cache folder (`~/.cache/shaderprop` in Node). */
  cacheDir(): string;
}

let current: Promise<Platform> | undefined;

function inBrowser(): boolean {
  return typeof window !== 'undefined' && typeof navigator !== 'undefined' && 'gpu' in navigator;
}

/** What a page without `navigator.gpu` says (the browser demo shows it too). */
export const NO_WEBGPU_MESSAGE =
  'This browser has no WebGPU (navigator.gpu is missing). Use Chrome or Edge 113+, ' +
  'Safari 26+, or Firefox 141+ (Windows); in Chromium on Linux start it with --enable-unsafe-webgpu.';

/** The browser's platform: `navigator.gpu`, `fetch` for reading, no file system. */
export const browserPlatform: Platform = {
  name: 'browser',
  async gpu(options) {
    if (!('gpu' in navigator)) throw new Error(NO_WEBGPU_MESSAGE);
    if (options?.boundsChecks === false) {
      throw new Error(
        'boundsChecks: false works in Node only: a page cannot turn off WebGPU\'s bounds checks. ' +
          '(Chromium started with --enable-dawn-features=disable_robustness turns them off for every page.)',
      );
    }
    return navigator.gpu;
  },
  async readFile(path) {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`Could not fetch ${path}: HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  },
  async writeFileAtomic(path) {
    throw new Error(`Cannot write ${path}: a browser page has no file system; save through a download instead.`);
  },
  async exists(path) {
    try {
      const response = await fetch(path, { method: 'HEAD' });
      return response.ok;
    } catch {
      return false;
    }
  },
  async readDir(path) {
    throw new Error(`Cannot list the folder ${path}: a browser page cannot list folders; load the files one by one.`);
  },
  async mkdirp() {},
  joinPath: (...parts) => parts.join('/').replace(/\/+/g, '/'),
  env: () => undefined,
  cacheDir: () => 'shaderprop-cache',
};

/**
 * Fixes the platform instead of detecting it: the package's Node entry passes
 * Node's, its browser entry the browser's (which never loads a Node module).
 */
export function usePlatform(platform: Platform): void {
  current = Promise.resolve(platform);
}

/** The host platform, detected once (or set by `usePlatform`). */
export function getPlatform(): Promise<Platform> {
  if (!current) {
    if (inBrowser()) {
      current = Promise.resolve(browserPlatform);
    } else {
      // A computed specifier keeps bundlers from pulling Node modules into a browser build.
      const nodeModule = './node.js';
      current = import(/* @vite-ignore */ nodeModule).then((m: { nodePlatform: Platform }) => m.nodePlatform);
    }
  }
  return current;
}

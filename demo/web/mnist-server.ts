/**
 * The demo server's data: a Vite plugin that serves the MNIST files of a local
 * folder at `mnist/`, for the dev server (`npm run demo`) and for the preview
 * server of the built app (the browser tests). The folder is MNIST_DIR, else
 * ../shared/mnist beside the repository; the page falls back to the public
 * mirrors when neither has the files.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { MNIST_FILES } from '../../src/data/mnist.js';

/** The only names served: the four files, gzipped or not. */
const NAMES = new Set(Object.values(MNIST_FILES).flatMap((base) => [base, `${base}.gz`]));

/** MNIST_DIR, else ../shared/mnist beside the repository, when it exists. */
export function mnistFolder(): string | undefined {
  if (process.env.MNIST_DIR) return resolve(process.env.MNIST_DIR);
  const beside = fileURLToPath(new URL('../../../shared/mnist', import.meta.url));
  return existsSync(beside) ? beside : undefined;
}

/** Connect middleware: GET or HEAD of /<name> answers the file, anything else 404 with a reason. */
export function mnistMiddleware(folder: string | undefined) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const name = decodeURIComponent((req.url ?? '').split('?')[0]!.replace(/^\/+/, ''));
    const path = folder && NAMES.has(name) ? join(folder, name) : undefined;
    if (!path || !existsSync(path)) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(folder ? `${name} is not in ${folder}.` : 'No MNIST folder: set MNIST_DIR to a folder with the four MNIST files.');
      return;
    }
    res.statusCode = 200;
    // The bytes as they are on disk: no Content-Encoding, so a .gz arrives gzipped and the page gunzips it.
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', String(statSync(path).size));
    res.setHeader('cache-control', 'no-cache');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(path).pipe(res);
  };
}

export function mnistPlugin(folder = mnistFolder()): Plugin {
  const describe = () => (folder ? `MNIST from ${folder}` : 'no local MNIST folder (MNIST_DIR unset, no ../shared/mnist): the page tries the public mirrors');
  return {
    name: 'shaderprop-mnist',
    configureServer(server) {
      server.middlewares.use('/mnist', mnistMiddleware(folder));
      server.config.logger.info(`  shaderprop: ${describe()}, served at /mnist/`);
    },
    configurePreviewServer(server) {
      server.middlewares.use('/mnist', mnistMiddleware(folder));
      server.config.logger.info(`  shaderprop: ${describe()}, served at /mnist/`);
    },
  };
}

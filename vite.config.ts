/**
 * The browser demo (demo/web): `npm run demo` serves it with live reload,
 * `npm run demo:build` writes the static app to dist/web. Both servers (dev
 * and `vite preview`) serve MNIST at /mnist/ from MNIST_DIR or ../shared/mnist.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { mnistPlugin } from './demo/web/mnist-server.js';

const repository = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('./demo/web', import.meta.url)),
  // Relative asset paths: the built app works from any folder it is served from.
  base: './',
  plugins: [mnistPlugin()],
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // vega and vega-lite are about 1 MB minified; the app loads them once.
    chunkSizeWarningLimit: 2500,
  },
  server: {
    port: 5173,
    // The app imports the library (src/) and its shaders (shaders/) from the repository.
    fs: { allow: [repository] },
  },
  preview: { port: 4173 },
});

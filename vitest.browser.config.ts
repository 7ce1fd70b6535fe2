import { configDefaults, defineConfig } from 'vitest/config';

// The browser demo in real Chromium (test/browser/): `npm run test:browser`.
// One file after another in forks, as the main suite: Chromium's SwiftShader
// and Dawn in Node (the Chrome = Node test) share the machine's cores.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    // Kernel choices fixed per adapter kind, here and in the page (?autotune=0).
    env: { SHADERPROP_AUTOTUNE: '0' },
  },
});

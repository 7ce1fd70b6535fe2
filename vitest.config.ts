import { configDefaults, defineConfig } from 'vitest/config';

// Dawn is a native addon: each test file gets its own process (forks), and the
// files run one after another so SwiftShader's thread pool has both cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser demo's tests run on their own: `npm run test:browser` (vitest.browser.config.ts).
    exclude: [...configDefaults.exclude, 'test/browser/**'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // Kernel choices fixed per adapter kind (the first applicable variant):
    // tests that measure set autotune themselves (test/kernels/tuner.test.ts).
    env: { SHADERPROP_AUTOTUNE: '0' },
  },
});

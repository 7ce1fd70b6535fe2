/**
 * CPU reference ("twin") implementations of every GPU kernel, in f64 plain loops,
 * plus the tools the tests use to judge them: closeness checks, finite-difference
 * gradients and a seeded PRNG.
 */
export * from './activations.js';
export * from './compare.js';
export * from './conv2d.js';
export * from './dense.js';
export * from './gradcheck.js';
export * from './losses.js';
export * from './optimizers.js';
export * from './pool.js';
export * from './test-rng.js';

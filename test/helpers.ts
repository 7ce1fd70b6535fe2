/** Shared by the GPU tests: the MNIST folder and a quiet runtime per file. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** MNIST_DIR, else ../shared/mnist beside the repository when it exists. */
export function mnistDir(): string | undefined {
  if (process.env.MNIST_DIR) return process.env.MNIST_DIR;
  const beside = resolve(import.meta.dirname, '../../shared/mnist');
  return existsSync(beside) ? beside : undefined;
}

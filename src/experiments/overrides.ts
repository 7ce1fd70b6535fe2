/**
 * Settings that replace a registry entry's own for one run: the learning rate,
 * the batch size, and how many MNIST images train and test. The command line's
 * `run --lr --batch-size --train-images --test-images` and the browser demo's
 * fields both go through here.
 */
import { firstImages, type ImageSet } from '../data/images.js';
import type { Optimizer, Schedule } from '../optimizers/optimizers.js';
import type { Experiment, TrainSpec } from './registry.js';

export interface RunSettings {
  /** Replaces every run's learning rate (the initial one, for a decaying schedule). */
  learningRate?: number;
  batchSize?: number;
  /** The first N training images (before the validation split). */
  trainImages?: number;
  /** The first N test images. */
  testImages?: number;
}

/** The learning rate an optimizer starts with. */
export function initialLearningRate(optimizer: Optimizer): number {
  return optimizer.schedule.kind === 'constant' ? optimizer.schedule.learningRate : optimizer.schedule.initialLearningRate;
}

/** The optimizer with another (initial) learning rate; its schedule's shape is kept. */
export function withLearningRate(optimizer: Optimizer, learningRate: number): Optimizer {
  if (learningRate === initialLearningRate(optimizer)) return optimizer;
  const schedule: Schedule = optimizer.schedule.kind === 'constant'
    ? { kind: 'constant', learningRate }
    : { ...optimizer.schedule, initialLearningRate: learningRate };
  const description = optimizer.describe().replace(/lr=[^,)·]+/, `lr=${learningRate}`);
  return { ...optimizer, schedule, describe: () => description };
}

/**
 * The entry with `settings`' learning rate and batch size in its training spec
 * (every cell's, for a sweep). A classic baseline has neither and is returned as it is.
 */
export function withSettings(experiment: Experiment, settings: RunSettings): Experiment {
  const { learningRate, batchSize } = settings;
  if (learningRate === undefined && batchSize === undefined) return experiment;
  const train = (spec: TrainSpec): TrainSpec => ({
    ...spec,
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(learningRate !== undefined ? { optimizer: () => withLearningRate(spec.optimizer(), learningRate) } : {}),
  });
  switch (experiment.kind) {
    case 'neural':
      return { ...experiment, train: train(experiment.train) };
    case 'sweep':
      return { ...experiment, cells: experiment.cells.map((cell) => ({ ...cell, train: train(cell.train) })) };
    case 'classic':
      return experiment;
  }
}

/** Which of the settings a classic baseline ignores, as option names: ['--lr', '--batch-size']. */
export function ignoredByClassic(settings: RunSettings): string[] {
  return [settings.learningRate !== undefined ? '--lr' : '', settings.batchSize !== undefined ? '--batch-size' : ''].filter(Boolean);
}

/** MNIST cut to `settings`' numbers of train and test images. */
export function limitImages<T extends { train: ImageSet; test: ImageSet }>(mnist: T, settings: RunSettings): T {
  return { ...mnist, train: firstImages(mnist.train, settings.trainImages), test: firstImages(mnist.test, settings.testImages) };
}

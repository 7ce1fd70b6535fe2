/**
 * Logistic regression's input, checked once and packed: targets from labels,
 * image sets as rows, the rows and the descent options validated, the samples
 * padded as the kernels read them, the parameters unpacked from their layout.
 */
import { formatBytes } from '../gpu/buffers.js';
import type { Runtime } from '../gpu/runtime.js';
import type { CheckedImageSet } from './types.js';
import type { DescentOptions, LogisticRows, LogisticTargets } from './logistic-types.js';

const DEFAULTS = { steps: 200, alpha: 0.01, beta: 0.5, maxTrials: 60 } as const;

/** Targets from labels: (count, K) f32 rows of 0 and 1. */
function labelTargets(labels: Uint8Array, count: number, targets: LogisticTargets): Float32Array {
  const K = checkTargets(targets);
  const out = new Float32Array(count * K);
  for (let n = 0; n < count; n++) {
    const label = labels[n]!;
    if (targets.kind === 'binary') {
      out[n] = label === targets.positive ? 1 : 0;
    } else {
      if (label >= K) {
        throw new RangeError(
          `Logistic regression: label ${n} is ${label}, not below classes = ${K}. Pass one-vs-all classes > the largest label.`,
        );
      }
      out[n * K + label] = 1;
    }
  }
  return out;
}


/** The rows of a checked image set, with targets from its labels. */
export function imageRows(set: CheckedImageSet, targets: LogisticTargets, outputs: number): LogisticRows {
  return {
    x: set.images.subarray(0, set.count * set.features),
    targets: labelTargets(set.labels, set.count, targets),
    count: set.count,
    features: set.features,
    outputs,
  };
}

export function checkTargets(targets: LogisticTargets): number {
  if (targets.kind === 'binary') {
    if (!Number.isInteger(targets.positive) || targets.positive < 0 || targets.positive > 255) {
      throw new RangeError(`Logistic regression: the positive label must be an integer 0–255, got ${targets.positive}.`);
    }
    return 1;
  }
  if (targets.kind === 'one-vs-all') {
    if (!Number.isInteger(targets.classes) || targets.classes < 2 || targets.classes > 256) {
      throw new RangeError(`Logistic regression: one-vs-all needs an integer number of classes 2–256, got ${targets.classes}.`);
    }
    return targets.classes;
  }
  throw new TypeError(`Logistic regression: targets.kind must be 'binary' or 'one-vs-all', got '${(targets as { kind: string }).kind}'.`);
}

export function checkRows(what: string, rows: LogisticRows): void {
  const { count, features, outputs } = rows;
  for (const [name, value] of [['count', count], ['features', features], ['outputs', outputs]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what}: ${name} must be an integer ≥ 1, got ${value}.`);
  }
  if (!(rows.x instanceof Uint8Array) && !(rows.x instanceof Float32Array)) {
    throw new TypeError(`${what}: x must be a Uint8Array (bytes) or a Float32Array.`);
  }
  if (rows.x.length < count * features) {
    throw new RangeError(`${what}: x holds ${rows.x.length} values, fewer than count × features = ${count} × ${features}.`);
  }
  if (rows.x instanceof Float32Array) {
    for (let i = 0; i < count * features; i++) {
      if (!Number.isFinite(rows.x[i]!)) {
        throw new RangeError(
          `${what}: x[${i}] (sample ${Math.floor(i / features)}, feature ${i % features}) is ${rows.x[i]}. ` +
            'Every sample value must be finite: remove or impute the sample before training.',
        );
      }
    }
  }
  if (rows.targets.length !== count * outputs) {
    throw new RangeError(
      `${what}: targets hold ${rows.targets.length} values; expected count × outputs = ${count} × ${outputs}.`,
    );
  }
  for (let i = 0; i < rows.targets.length; i++) {
    const y = rows.targets[i]!;
    if (!(y >= 0 && y <= 1)) {
      throw new RangeError(
        `${what}: target ${i} (sample ${Math.floor(i / outputs)}, output ${i % outputs}) is ${y}; targets must lie in [0, 1].`,
      );
    }
  }
}

export function checkDescent(options: DescentOptions): { steps: number; alpha: number; beta: number; maxTrials: number } {
  const steps = options.steps ?? DEFAULTS.steps;
  const alpha = options.alpha ?? DEFAULTS.alpha;
  const beta = options.beta ?? DEFAULTS.beta;
  const maxTrials = options.maxTrials ?? DEFAULTS.maxTrials;
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`Logistic regression: steps must be an integer ≥ 0, got ${steps}.`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`Logistic regression: alpha must lie in (0, 1), got ${alpha}.`);
  if (!(beta > 0 && beta < 1)) throw new RangeError(`Logistic regression: beta must lie in (0, 1), got ${beta}.`);
  if (!Number.isInteger(maxTrials) || maxTrials < 1) {
    throw new RangeError(`Logistic regression: maxTrials must be an integer ≥ 1, got ${maxTrials}.`);
  }
  return { steps, alpha, beta, maxTrials };
}

export function fits(rt: Runtime, what: string, bytes: number, advice: string): void {
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
  if (bytes > limit) {
    throw new RangeError(
      `Logistic regression: ${what} need ${formatBytes(bytes)}, more than this adapter's storage-buffer limit of ` +
        `${formatBytes(limit)}. ${advice}`,
    );
  }
}

/**
 * The samples as the kernels read them: rows of `padded` features (a multiple
 * of 4), zero after the last feature; bytes stay bytes (four to a word), f32 stays f32.
 */
export function packRows(rows: LogisticRows, padded: number): Uint8Array | Float32Array {
  const { x, count, features } = rows;
  if (padded === features) return x.subarray(0, count * features);
  const out = x instanceof Float32Array ? new Float32Array(count * padded) : new Uint8Array(count * padded);
  for (let n = 0; n < count; n++) out.set(x.subarray(n * features, (n + 1) * features), n * padded);
  return out;
}

/** (K·DP + K) kernel layout → weights (D, K) row-major and bias (K). */
export function unpackParams(params: Float32Array, D: number, K: number, DP: number): { weights: Float32Array; bias: Float32Array } {
  const weights = new Float32Array(D * K);
  for (let d = 0; d < D; d++) for (let k = 0; k < K; k++) weights[d * K + k] = params[k * DP + d]!;
  return { weights, bias: params.slice(K * DP, K * DP + K) };
}

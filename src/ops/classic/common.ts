/**
 * Helpers of the classic baselines' kernel families (src/ops/classic/): a
 * family with one variant, and a 1-D grid folded into 2-D past the
 * per-dimension limit.
 */
import type { Dispatch, Runtime } from '../../gpu/runtime.js';
import { defineFamily, type KernelFamily } from '../family.js';
import type { WGSL } from '../sources.js';

/** A family whose product has one kernel: one variant, `variant`, that applies everywhere. */
export function singleFamily<S, R>(f: {
  name: string;
  summary: string;
  variant: string;
  files: readonly (keyof typeof WGSL)[];
  shapeKey(s: S): string;
  record(rt: Runtime, s: S, r: R, label: string): Promise<Dispatch[]>;
}): KernelFamily<S, R> {
  return defineFamily<S, R>({
    name: f.name,
    summary: f.summary,
    shapeKey: f.shapeKey,
    variants: [{ name: f.variant, files: f.files, applies: () => true, record: (rt, s, r, label) => f.record(rt, s, r, label) }],
    order: { cpu: [f.variant], gpu: [f.variant] },
  });
}

/** Workgroups for `groups` workgroups along x, the rest along y. */
export function foldedGroups(rt: Runtime, groups: number): [number, number, number] {
  const x = Math.min(groups, rt.limits.maxComputeWorkgroupsPerDimension);
  return [x, Math.ceil(groups / x), 1];
}

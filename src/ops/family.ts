/**
 * Kernel families: one GPU product (dense forward, conv weight gradient, ...)
 * and the variants that compute it. Each variant says when it applies (shape,
 * adapter features, limits) and records its dispatches; the family lists its
 * variants in the order of the fixed choice for each adapter kind. Layers and
 * the classic code call `runFamily`, never a variant: the runtime's tuner
 * (src/gpu/tuner.ts) picks the fastest variant on the adapter in use, or the
 * fixed choice when autotuning is off. `variant` names one by hand (tests,
 * benchmarks).
 */
import { isCpuAdapter } from '../gpu/features.js';
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import type { ScratchAlloc } from '../gpu/tuner.js';
import { SOURCES_HASH } from './sources.js';

export interface Variant<S, R> {
  readonly name: string;
  /** The WGSL files it runs (for the shader view), as keys of WGSL_FILES. */
  readonly files: readonly string[];
  /** true where it applies, else why not (shown when it is requested by name). */
  applies(rt: Runtime, s: S): true | string;
  /** Whether it needs scratch buffers (it is left out where the caller has no allocator). */
  readonly scratch?: boolean;
  /**
   * false: not a candidate of 'auto' on CPU emulations (still runnable by
   * name). For kernels built on workgroup memory and barriers, which such
   * adapters run slowly and compile slowly (SwiftShader: 1.5-2 s per pipeline
   * of shaders/gemm.wgsl on 2 cores, against 0.05-0.1 s for the others).
   */
  readonly onCpu?: boolean;
  record(rt: Runtime, s: S, r: R, label: string, alloc: ScratchAlloc): Promise<Dispatch[]>;
}

export interface KernelFamily<S, R> {
  /** e.g. 'dense.forward' */
  readonly name: string;
  /** What it computes, one line (the shader view). */
  readonly summary: string;
  /** The key of a shape: everything the variants' speed depends on. */
  shapeKey(s: S): string;
  readonly variants: readonly Variant<S, R>[];
  /** Variant names in fixed-choice order on CPU emulations and on GPUs; unlisted ones follow. */
  readonly order: { readonly cpu: readonly string[]; readonly gpu: readonly string[] };
}

/** Every family, for the shader view and the benchmarks. */
export const FAMILIES: KernelFamily<never, never>[] = [];

export function defineFamily<S, R>(family: KernelFamily<S, R>): KernelFamily<S, R> {
  FAMILIES.push(family as unknown as KernelFamily<never, never>);
  return family;
}

export interface RunOptions {
  /** 'auto' (default) or a variant's name. */
  variant?: string | undefined;
  /** Scratch for the variants that need it; without it they are not candidates. */
  alloc?: ScratchAlloc | undefined;
}

/** The variants that apply, in the fixed-choice order for this adapter. */
export function applicableVariants<S, R>(rt: Runtime, family: KernelFamily<S, R>, s: S, hasAlloc: boolean): Variant<S, R>[] {
  const cpu = isCpuAdapter(rt);
  const order = cpu ? family.order.cpu : family.order.gpu;
  const rank = (v: Variant<S, R>) => {
    const i = order.indexOf(v.name);
    return i < 0 ? order.length : i;
  };
  return family.variants
    .filter((v) => v.applies(rt, s) === true && (!v.scratch || hasAlloc) && !(cpu && v.onCpu === false))
    .sort((a, b) => rank(a) - rank(b));
}

/** Records the family's product for shape `s`, by the chosen (or requested) variant. */
export async function runFamily<S, R>(
  rt: Runtime,
  family: KernelFamily<S, R>,
  s: S,
  r: R,
  label: string,
  options: RunOptions = {},
): Promise<Dispatch[]> {
  const requested = options.variant ?? 'auto';
  const noAlloc: ScratchAlloc = () => {
    throw new Error(`${label}: this kernel variant needs scratch buffers; pass an allocator.`);
  };
  const alloc = options.alloc ?? noAlloc;
  if (requested !== 'auto') {
    const variant = family.variants.find((v) => v.name === requested);
    if (!variant) {
      throw new Error(`${family.name}: no variant '${requested}'; the variants are ${family.variants.map((v) => `'${v.name}'`).join(', ')}, or 'auto'.`);
    }
    const applies = variant.applies(rt, s);
    if (applies !== true) throw new Error(`${family.name}: variant '${requested}' does not apply here: ${applies}. Use 'auto'.`);
    return variant.record(rt, s, r, label, alloc);
  }
  const variants = applicableVariants(rt, family, s, options.alloc !== undefined);
  const name = await rt.tuner.choose(
    family.name,
    family.shapeKey(s),
    variants.map((v) => ({ variant: v.name, build: (scratch) => v.record(rt, s, r, label, scratch) })),
    SOURCES_HASH,
  );
  const chosen = variants.find((v) => v.name === name)!;
  return chosen.record(rt, s, r, label, alloc);
}

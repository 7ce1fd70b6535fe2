/**
 * The optimizer on the GPU: its slots (state vectors in the parameters'
 * layout, starting where the optimizer says), its hyperparameter uniforms and
 * the update dispatches that close every training step.
 */
import type { Dispatch, Runtime } from '../gpu/runtime.js';
import { hyperUniform, optimizerStep } from '../ops/optimizer.js';
import { resetStepState } from '../ops/step.js';
import { scheduleHyper, type Optimizer } from '../optimizers/optimizers.js';
import { alignedCount, type Parameters } from './parameters.js';

export class OptimizerState {
  private constructor(
    private readonly rt: Runtime,
    readonly config: Optimizer,
    readonly slots: readonly GPUBuffer[],
    private readonly hypers: readonly GPUBuffer[],
    /** The updates of one step, in order. */
    readonly dispatches: readonly Dispatch[],
  ) {}

  /** Slots at their starting values, and the update dispatches; the iteration count restarts at 0. */
  static async create(config: Optimizer, params: Parameters, trainState: GPUBuffer): Promise<OptimizerState> {
    const { rt, layout, total } = params;
    const slots = config.slots.map((start, s) => rt.storage(new Float32Array(total).fill(start), `${config.name} slot ${s}`));
    // One dispatch per run of consecutive tensors with the same L2 coefficient
    // (usually one for the whole model). Alignment gaps between tensors hold
    // zero weights and zero gradients, which every rule leaves at zero.
    const runs: { start: number; end: number; l2: number }[] = [];
    for (const t of params.tensors) {
      const end = t.offset + alignedCount(t.count);
      const last = runs[runs.length - 1];
      if (last && last.l2 === t.l2 && last.end === t.offset) last.end = end;
      else runs.push({ start: t.offset, end, l2: t.l2 });
    }
    const hypers: GPUBuffer[] = [];
    const dispatches: Dispatch[] = [];
    for (const run of runs) {
      const hyper = rt.uniform(hyperUniform({ ...config.hyper, ...scheduleHyper(config.schedule), l2: run.l2 }), `${config.name} hyperparameters`);
      hypers.push(hyper);
      const count = run.end - run.start;
      const range = (buffer: GPUBuffer) => ({ buffer, offset: run.start * 4, size: count * 4 });
      dispatches.push(
        await optimizerStep(rt, config.kind, { count, slots: slots.length }, {
          param: range(layout.paramBuffer), grad: range(layout.gradBuffer), hyper, state: trainState,
          ...(slots[0] ? { slot0: range(slots[0]) } : {}), ...(slots[1] ? { slot1: range(slots[1]) } : {}),
        }, `${config.name} update [${run.start}, ${run.end})`),
      );
    }
    resetStepState(rt, trainState, 0, 0);
    return new OptimizerState(rt, config, slots, hypers, dispatches);
  }

  /** Every slot, read back whole. */
  readSlots(total: number): Promise<Float32Array[]> {
    return Promise.all(this.slots.map((b) => this.rt.readF32(b, total)));
  }

  /** Overwrites the slots that `values` holds (a checkpoint's). */
  writeSlots(values: readonly Float32Array[]): void {
    this.slots.forEach((buffer, k) => values[k] && this.rt.write(buffer, values[k]!));
  }

  dispose(): void {
    for (const b of [...this.slots, ...this.hypers]) this.rt.pool.release(b);
  }
}

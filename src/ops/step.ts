/**
 * The StepState buffer (shaders/lib/step_state.wgsl) seen from the CPU:
 * created once per stream (training, validation, ...), reset at the start of a
 * pass, read back once per epoch or every N steps.
 */
import type { Runtime } from '../gpu/runtime.js';

export const STEP_STATE_BYTES = 32;

export interface StepStateValues {
  step: number;
  iteration: number;
  sampleCount: number;
  halted: boolean;
  haltedStep: number;
  lossSum: number;
  correct: number;
  seen: number;
}

export function createStepState(rt: Runtime, label: string): GPUBuffer {
  return rt.storage(new Uint32Array(STEP_STATE_BYTES / 4), label);
}

/**
 * Starts a pass over `sampleCount` samples: step, halt flag and sums go to 0.
 * The iteration count (word 1) is left alone unless `iteration` is given.
 */
export function resetStepState(rt: Runtime, state: GPUBuffer, sampleCount: number, iteration?: number): void {
  rt.write(state, new Uint32Array([0]), 0);
  if (iteration !== undefined) rt.write(state, new Uint32Array([iteration]), 4);
  rt.write(state, new Uint32Array([sampleCount, 0, 0, 0, 0, 0]), 8);
}

export async function readStepState(rt: Runtime, state: GPUBuffer): Promise<StepStateValues> {
  const bytes = await rt.read(state, STEP_STATE_BYTES);
  const u = new Uint32Array(bytes);
  const f = new Float32Array(bytes);
  return {
    step: u[0]!,
    iteration: u[1]!,
    sampleCount: u[2]!,
    halted: u[3]! !== 0,
    haltedStep: u[4]!,
    lossSum: f[5]!,
    correct: u[6]!,
    seen: u[7]!,
  };
}

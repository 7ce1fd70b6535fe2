/**
 * Everything a model holds on the GPU: its parameters, the StepState that
 * training advances, the optimizer's state, and the plans built so far
 * (a Workspace per batch size and target width, a Stream per role and
 * dataset), each built on first use and kept for the next.
 */
import type { Dataset } from '../data/dataset.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Layer, Shape } from '../layers/layer.js';
import { createStepState, readStepState, resetStepState } from '../ops/step.js';
import type { Optimizer } from '../optimizers/optimizers.js';
import { OptimizerState } from './optimizer-state.js';
import { Parameters } from './parameters.js';
import { Stream, Workspace, type LossPlan, type StreamRole } from './plan.js';

export class GpuModel {
  /** The optimizer's slots and update dispatches, once training needs them. */
  optimizer: OptimizerState | undefined;
  readonly workspaces = new Map<string, Workspace>();
  readonly streams = new Map<string, Stream>();

  private constructor(
    readonly rt: Runtime,
    readonly params: Parameters,
    /** The StepState of training: step, iteration, halt flags and the epoch's sums. */
    readonly trainState: GPUBuffer,
    /** The loss and the output activation, asked for when a workspace is built. */
    private readonly lossPlan: () => LossPlan,
  ) {}

  static create(rt: Runtime, name: string, layers: readonly Layer[], shapes: readonly Shape[], seed: number, lossPlan: () => LossPlan): GpuModel {
    const params = Parameters.create(rt, name, layers, shapes, seed);
    return new GpuModel(rt, params, createStepState(rt, `${name} training state`), lossPlan);
  }

  /** The optimizer's GPU state, made (iteration 0, fresh slots) on first use. */
  async optimizerFor(config: Optimizer): Promise<OptimizerState> {
    this.optimizer ??= await OptimizerState.create(config, this.params, this.trainState);
    return this.optimizer;
  }

  /** Updates applied so far. */
  async iterations(): Promise<number> {
    return (await readStepState(this.rt, this.trainState)).iteration;
  }

  /** Sets the iteration count (a restored checkpoint's), at the start of an epoch. */
  restartSteps(iteration: number): void {
    resetStepState(this.rt, this.trainState, 0, iteration);
  }

  private async workspace(batch: number, targetWidth: number): Promise<Workspace> {
    const key = `${batch}:${targetWidth}`;
    let ws = this.workspaces.get(key);
    if (!ws) {
      ws = await Workspace.create(this.rt, batch, targetWidth, this.params.layout, this.lossPlan());
      this.workspaces.set(key, ws);
    }
    return ws;
  }

  /** The stream of `role` over `dataset` at `batch`, holding at least `capacity` sample indices. */
  async stream(role: StreamRole, dataset: Dataset, batch: number, capacity: number): Promise<Stream> {
    const ws = await this.workspace(batch, dataset.targetWidth);
    const key = `${role}:${dataset.storageId}:${batch}:${dataset.targetWidth}:${dataset.sampleShape.join('x')}`;
    let stream = this.streams.get(key);
    if (stream && stream.capacity < capacity) {
      stream.dispose(role !== 'train');
      this.streams.delete(key);
      stream = undefined;
    }
    if (!stream) {
      const state = role === 'train' ? this.trainState : createStepState(this.rt, `${role} state`);
      stream = await Stream.create(this.rt, role, ws, dataset, state, capacity);
      this.streams.set(key, stream);
    }
    return stream;
  }

  /** Forgets the optimizer's state (a new compile brings a new optimizer). */
  disposeOptimizer(): void {
    this.optimizer?.dispose();
    this.optimizer = undefined;
  }

  /** Forgets every plan (a new compile may bring a new loss). */
  disposePlans(): void {
    for (const s of this.streams.values()) s.dispose(s.state !== this.trainState);
    for (const w of this.workspaces.values()) w.dispose();
    this.streams.clear();
    this.workspaces.clear();
  }

  dispose(): void {
    this.disposeOptimizer();
    this.disposePlans();
    this.params.dispose();
    this.rt.pool.release(this.trainState);
    this.rt.pool.trim();
  }
}

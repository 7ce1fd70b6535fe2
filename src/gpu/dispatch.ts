/**
 * What a recorded dispatch is, and the part of the runtime that the kernel
 * tuner, the GPU timer and the feature probes use (`RuntimeCore`; the
 * `Runtime` of runtime.ts implements it). They take this rather than the
 * runtime itself, so the runtime can own its tuner without a circle of imports.
 */
import type { BufferPool } from './buffers.js';
import type { ProgramSpec } from './program.js';

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A short name for reports, e.g. 'SwiftShader' or 'nvidia hopper'. */
  name: string;
}

/** A built pipeline and the descriptor it came from. */
export interface Kernel {
  readonly spec: ProgramSpec;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly key: string;
  readonly source: string;
}

/** One recorded dispatch: a kernel, its bound resources, and the grid. */
export interface Dispatch {
  readonly kernel: Kernel;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  /** What this dispatch does, e.g. 'dense_1 forward'. */
  readonly label: string;
  /** The resources bound, in binding order (for the shader view and debugging). */
  readonly resources: readonly BoundResource[];
}

export interface BoundResource {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
  /** Shape of what the binding holds, for the shader view. */
  shape?: readonly number[];
}

/** The runtime as the tuner, the timer and the feature probes see it. */
export interface RuntimeCore {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly features: ReadonlySet<string>;
  readonly limits: GPUSupportedLimits;
  readonly boundsChecks: boolean;
  readonly pool: BufferPool;
  readonly queue: GPUQueue;
  /** Throws DeviceLostError once the device is lost. */
  checkAlive(): void;
  /** Records the dispatches into one compute pass (`repeat` times) and submits it. */
  submit(dispatches: readonly Dispatch[], repeat?: number): void;
  /** A pooled storage buffer of at least `bytesOrData` bytes (or holding the data). */
  storage(bytesOrData: number | ArrayBufferView, label: string, extraUsage?: GPUBufferUsageFlags): GPUBuffer;
  read(buffer: GPUBuffer, bytes?: number, offset?: number): Promise<ArrayBuffer>;
  /** Resolves when the queue's work so far is done. */
  sync(): Promise<void>;
  /** Pipelines being built now. */
  readonly buildsInFlight: number;
  /** Resolves once no pipeline is being built (builds started meanwhile included). */
  settleBuilds(): Promise<void>;
  /** Runs `work` with no pipeline build starting meanwhile (builds asked for wait until it ends). */
  withoutBuilds<T>(work: () => Promise<T>): Promise<T>;
}

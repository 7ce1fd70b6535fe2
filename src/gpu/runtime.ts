/**
 * The runtime: one GPUDevice, its buffer pool, its pipeline cache, and the
 * means to record dispatches and read results back.
 *
 * Everything here is plain WebGPU; the host (browser or Node) is reached only
 * through `getPlatform()`.
 */
import { BufferPool } from './buffers.js';
import { programKey, programSource, workgroupOverrides, type ProgramSpec } from './program.js';
import { KernelTuner, type DispatchTimer, type TuneStore } from './tuner.js';
import type { AdapterDescription, BoundResource, Dispatch, Kernel, RuntimeCore } from './dispatch.js';

export type { AdapterDescription, BoundResource, Dispatch, Kernel, RuntimeCore } from './dispatch.js';

export interface RuntimeOptions {
  /** 'high-performance' (default) or 'low-power'. */
  powerPreference?: GPUPowerPreference;
  /** Print the WGSL of every pipeline as it is built (also `SHADERPROP_DEBUG_WGSL=1`). */
  printShaders?: boolean;
  /** An existing GPU entry point; by default `navigator.gpu` or Dawn's in Node. */
  gpu?: GPU;
  /**
   * Ask for the adapter's `subgroups` feature (default true where it has it).
   * Without it the kernels that need subgroups give way to their plain twins.
   */
  subgroups?: boolean;
  /**
   * Dawn's bounds checks on every buffer and array access of every shader
   * (default true; `SHADERPROP_BOUNDS_CHECKS=0` changes the default).
   *
   * false compiles shaders without them (Dawn's `disable_robustness` toggle,
   * as native users of Dawn such as Skia and ONNX Runtime run their own
   * kernels): Node only, on a GPU object of its own. shaderprop's kernels keep
   * every access inside its buffer themselves, and their tests also run
   * without the checks; on SwiftShader the checks cost about a fifth of a
   * training step. An access out of bounds is then undefined: leave the checks
   * on for shaders of your own. Not with `gpu` (that GPU object's own flags
   * decide).
   */
  boundsChecks?: boolean;
  /**
   * Choose each kernel family's variant by timing the ones that apply on this
   * adapter, the first time a shape runs (default true; `SHADERPROP_AUTOTUNE=0`
   * changes the default). false takes a fixed choice per adapter kind.
   */
  autotune?: boolean;
  /**
   * Where measured choices are kept between processes: by default a JSON file
   * in the cache folder in Node (`SHADERPROP_CACHE`, else `~/.cache/shaderprop`)
   * and localStorage in a browser; false keeps them for this runtime only.
   */
  tuneStore?: TuneStore | false;
  /** Replaces the tuner's wall-clock timer (tests). */
  tuneTimer?: DispatchTimer;
}

export class DeviceLostError extends Error {
  constructor(readonly reason: string, message: string) {
    super(`The GPU device was lost (${reason}): ${message}. Create a new runtime to go on; GPU data of this one is gone.`);
    this.name = 'DeviceLostError';
  }
}

export class Runtime implements RuntimeCore {
  readonly pool: BufferPool;
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  /** Whether this runtime's shaders were compiled with Dawn's bounds checks (see RuntimeOptions.boundsChecks). */
  readonly boundsChecks: boolean;
  private readonly kernels = new Map<string, Kernel>();
  private readonly submitWatchers = new Set<(dispatches: readonly Dispatch[]) => void>();
  private readonly pending = new Map<string, Promise<Kernel>>();
  /** Set while `withoutBuilds` runs: builds asked for wait for it. */
  private hold: Promise<void> | undefined;
  /** Builds compiling now (not those waiting for a hold to end). */
  private readonly running = new Set<Promise<Kernel>>();
  private lostError: DeviceLostError | undefined;
  private destroyed = false;
  /** Callback for uncaptured validation errors; by default they are collected in `errors`. */
  readonly errors: string[] = [];
  /** Picks each kernel family's variant for a shape (see tuner.ts). */
  readonly tuner: KernelTuner;
  /** Seconds spent building pipelines so far. */
  pipelineSeconds = 0;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    private readonly options: RuntimeOptions = {},
  ) {
    this.boundsChecks = options.boundsChecks !== false;
    this.limits = device.limits;
    this.features = new Set(device.features as unknown as Iterable<string>);
    this.pool = new BufferPool(device, device.limits.maxBufferSize);
    this.tuner = new KernelTuner(this, {
      autotune: options.autotune !== false,
      store: options.tuneStore === false ? undefined : options.tuneStore,
      ...(options.tuneTimer ? { timer: options.tuneTimer } : {}),
    });
    device.lost.then((info) => {
      if (!this.destroyed) this.lostError = new DeviceLostError(info.reason, info.message || 'no message');
    });
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      this.errors.push(message);
      if (this.errors.length > 100) this.errors.shift();
    });
  }

  get queue(): GPUQueue {
    return this.device.queue;
  }

  /** Throws if the device was lost. */
  checkAlive(): void {
    if (this.lostError) throw this.lostError;
    if (this.destroyed) throw new Error('This runtime was destroyed; create a new one with createRuntime().');
  }

  /** Builds (or returns the cached) pipeline for a descriptor. */
  async kernel(spec: ProgramSpec): Promise<Kernel> {
    this.checkAlive();
    const key = programKey(spec);
    const cached = this.kernels.get(key);
    if (cached) return cached;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.hold ? this.afterHold().then(() => this.startBuild(spec, key)) : this.startBuild(spec, key);
      this.pending.set(key, pending);
    }
    try {
      const kernel = await pending;
      this.kernels.set(key, kernel);
      return kernel;
    } finally {
      this.pending.delete(key);
    }
  }

  /** Pipelines being built now. */
  get buildsInFlight(): number {
    return this.pending.size;
  }

  /**
   * Resolves once no pipeline is being built (builds started meanwhile
   * included); a failed build counts as done. Not from inside `withoutBuilds`,
   * whose held builds would never settle.
   */
  async settleBuilds(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending.values()]);
  }

  /**
   * Runs `work` once the builds running now are done, with no pipeline build
   * starting meanwhile: a build asked for waits until `work` ends. On a CPU
   * emulation the shader compiler runs on the cores the kernels run on; the
   * kernel tuner times its candidates this way there.
   */
  async withoutBuilds<T>(work: () => Promise<T>): Promise<T> {
    await this.afterHold();
    let release!: () => void;
    this.hold = new Promise<void>((resolve) => (release = resolve));
    try {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      return await work();
    } finally {
      this.hold = undefined;
      release();
    }
  }

  private async afterHold(): Promise<void> {
    while (this.hold) await this.hold;
  }

  private startBuild(spec: ProgramSpec, key: string): Promise<Kernel> {
    const build = this.buildKernel(spec, key);
    this.running.add(build);
    build.finally(() => this.running.delete(build)).catch(() => {});
    return build;
  }

  /** Every pipeline built so far, in the order they were first requested. */
  get builtKernels(): readonly Kernel[] {
    return [...this.kernels.values()];
  }

  private async buildKernel(spec: ProgramSpec, key: string): Promise<Kernel> {
    const started = performance.now();
    try {
      return await this.compile(spec, key);
    } finally {
      this.pipelineSeconds += (performance.now() - started) / 1000;
    }
  }

  private async compile(spec: ProgramSpec, key: string): Promise<Kernel> {
    const source = programSource(spec);
    if (this.options.printShaders) {
      console.log(`// ---- ${key}\n${source}`);
    }
    const constants: Record<string, number> = {};
    const all = { ...workgroupOverrides(spec), ...spec.overrides };
    for (const [name, value] of Object.entries(all)) {
      const declared = new RegExp(`\\boverride\\s+${name}\\b`).test(source);
      if (declared) constants[name] = value;
      else if (!name.startsWith('WG_')) {
        throw new Error(`Program '${spec.name}' sets override '${name}', which its WGSL does not declare.`);
      }
    }
    const module = this.device.createShaderModule({ code: source, label: spec.name });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      const lines = source.split('\n');
      const detail = errors
        .map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`)
        .join('\n');
      throw new Error(`WGSL of program '${spec.name}' (entry ${spec.entryPoint}) does not compile:\n${detail}`);
    }
    const layout = this.device.createBindGroupLayout({
      label: `${spec.name} layout`,
      entries: spec.bindings.map((binding, index) => ({
        binding: index,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: binding.kind },
      })),
    });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({
        label: spec.name,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: spec.entryPoint, constants },
      });
    } catch (error) {
      throw new Error(`Could not build the pipeline of '${spec.name}' (entry ${spec.entryPoint}): ${String(error)}`);
    }
    return { spec, pipeline, layout, key, source };
  }

  /**
   * Binds resources to a kernel (in binding order) and returns the dispatch
   * record. Built once, when a plan is made; replayed every step.
   */
  dispatch(
    kernel: Kernel,
    resources: readonly (GPUBuffer | BoundResource)[],
    workgroups: readonly [number, number?, number?],
    label: string,
  ): Dispatch {
    if (resources.length !== kernel.spec.bindings.length) {
      throw new Error(
        `Dispatch '${label}': kernel '${kernel.spec.name}' has ${kernel.spec.bindings.length} bindings ` +
          `(${kernel.spec.bindings.map((b) => b.name).join(', ')}) but ${resources.length} resources were given.`,
      );
    }
    const bound = resources.map((r) => ('buffer' in r && !('mapState' in r) ? (r as BoundResource) : { buffer: r as GPUBuffer }));
    const bindGroup = this.device.createBindGroup({
      label,
      layout: kernel.layout,
      entries: bound.map((r, index) => ({
        binding: index,
        resource: { buffer: r.buffer, offset: r.offset ?? 0, ...(r.size !== undefined ? { size: r.size } : {}) },
      })),
    });
    let [x, y = 1, z = 1] = workgroups;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (y > max && z === 1 && kernel.spec.foldY) {
      // Fold y into z: y' · z ≥ y, and the kernel unfolds it (shaders/lib/grid.wgsl).
      z = Math.ceil(y / max);
      y = Math.ceil(y / z);
    }
    if (x > max || y > max || z > max) {
      throw new Error(`Dispatch '${label}' needs ${x}×${y}×${z} workgroups; this adapter allows ${max} per dimension. ` +
        'Use a smaller batch size.');
    }
    return { kernel, bindGroup, workgroups: [x, y, z], label, resources: bound };
  }

  /**
   * Calls `listener` with the dispatch list of every later `submit` (once per
   * submit, whatever its `repeat`) until the returned function is called: how
   * the page's shader view learns which kernels a classic run dispatched.
   */
  watchSubmits(listener: (dispatches: readonly Dispatch[]) => void): () => void {
    this.submitWatchers.add(listener);
    return () => this.submitWatchers.delete(listener);
  }

  /** Encodes the dispatch lists `repeat` times into one command buffer and submits it. */
  submit(dispatches: readonly Dispatch[], repeat = 1): void {
    this.checkAlive();
    for (const watch of this.submitWatchers) watch(dispatches);
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (let r = 0; r < repeat; r++) {
      for (const d of dispatches) {
        pass.setPipeline(d.kernel.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      }
    }
    pass.end();
    this.queue.submit([encoder.finish()]);
  }

  /** A storage buffer from the pool, optionally filled. */
  storage(bytesOrData: number | ArrayBufferView, label: string, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    this.checkAlive();
    const bytes = typeof bytesOrData === 'number' ? bytesOrData : bytesOrData.byteLength;
    const buffer = this.pool.alloc(
      bytes,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
      label,
    );
    if (typeof bytesOrData !== 'number') this.write(buffer, bytesOrData);
    return buffer;
  }

  /** A uniform buffer from the pool, filled with `data`. */
  uniform(data: ArrayBufferView, label: string): GPUBuffer {
    this.checkAlive();
    const buffer = this.pool.alloc(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
    this.write(buffer, data);
    return buffer;
  }

  write(buffer: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
    this.checkAlive();
    // writeBuffer wants a multiple of 4 bytes.
    const padded = data.byteLength % 4 === 0 ? data : padTo4(data);
    this.queue.writeBuffer(buffer, offsetBytes, padded.buffer, padded.byteOffset, padded.byteLength);
  }

  /** Copies `bytes` bytes from `buffer` (at `offset`) back to the CPU. */
  async read(buffer: GPUBuffer, bytes = buffer.size, offset = 0): Promise<ArrayBuffer> {
    this.checkAlive();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.alloc(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'read-back');
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
    this.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (error) {
      this.checkAlive();
      throw error;
    }
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.pool.release(staging);
    return copy;
  }

  async readF32(buffer: GPUBuffer, count: number, offsetElements = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count * 4, offsetElements * 4));
  }

  async readU32(buffer: GPUBuffer, count: number, offsetElements = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.read(buffer, count * 4, offsetElements * 4));
  }

  /** Resolves when all submitted work has finished. */
  async sync(): Promise<void> {
    this.checkAlive();
    await this.queue.onSubmittedWorkDone();
    this.checkAlive();
  }

  /** Frees every buffer and the device. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.pool.destroyAll();
    this.kernels.clear();
    this.device.destroy();
  }
}

function padTo4(data: ArrayBufferView): Uint8Array {
  const bytes = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return bytes;
}

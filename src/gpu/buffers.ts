/**
 * A small allocator over GPUBuffers: alloc, release, write, read.
 *
 * Released buffers go back to a free list keyed by (size, usage) and are handed
 * out again by the next alloc of the same kind. Nothing in shaderprop allocates
 * inside a training step, so the pool's job is to make a model's buffers
 * reusable across plans and to keep an honest count of what exists:
 * `live` is the number of GPUBuffers created and not yet destroyed, and tests
 * assert on it to prove training does not leak.
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly owned = new Set<GPUBuffer>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();

  constructor(private readonly device: GPUDevice, private readonly maxBufferSize: number) {}

  /** GPUBuffers that exist (in use or pooled). */
  get live(): number {
    return this.owned.size;
  }

  /** GPUBuffers handed out and not released. */
  get inUse(): number {
    let pooled = 0;
    for (const list of this.free.values()) pooled += list.length;
    return this.owned.size - pooled;
  }

  /** Bytes held by all live buffers. */
  get bytes(): number {
    let total = 0;
    for (const buffer of this.owned) total += this.sizes.get(buffer) ?? 0;
    return total;
  }

  alloc(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    // WebGPU wants sizes in multiples of 4; round up to 16 so vec4 views fit.
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > this.maxBufferSize) {
      throw new Error(
        `Buffer '${label}' needs ${formatBytes(size)}, more than this adapter's maxBufferSize of ` +
          `${formatBytes(this.maxBufferSize)}. Use a smaller batch size or model, or a subset of the data.`,
      );
    }
    const key = `${size}:${usage}`;
    const reused = this.free.get(key)?.pop();
    if (reused) {
      reused.label = label;
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage, label });
    this.owned.add(buffer);
    this.sizes.set(buffer, size);
    return buffer;
  }

  /** Returns a buffer to the pool; the caller must not use it again. */
  release(buffer: GPUBuffer): void {
    if (!this.owned.has(buffer)) return;
    const key = `${buffer.size}:${buffer.usage}`;
    const list = this.free.get(key) ?? [];
    if (!list.includes(buffer)) list.push(buffer);
    this.free.set(key, list);
  }

  /** Destroys one buffer now (its memory is freed, not pooled). */
  destroy(buffer: GPUBuffer): void {
    if (!this.owned.delete(buffer)) return;
    for (const list of this.free.values()) {
      const at = list.indexOf(buffer);
      if (at >= 0) list.splice(at, 1);
    }
    buffer.destroy();
  }

  /** Destroys pooled (released) buffers, keeping the ones in use. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const buffer of list) {
        this.owned.delete(buffer);
        buffer.destroy();
      }
    }
    this.free.clear();
  }

  /** Destroys every buffer, in use or not. */
  destroyAll(): void {
    for (const buffer of this.owned) buffer.destroy();
    this.owned.clear();
    this.free.clear();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/**
 * Kernel selection by measurement. A kernel family (src/ops/family.ts) offers
 * the variants that apply to a shape; the first time a (family, shape) runs
 * on an adapter, the tuner times each of them there and keeps the fastest.
 * The choice is cached in memory for the process and in a store that outlives
 * it (a JSON file in the cache folder in Node, the page's localStorage in a
 * browser), keyed by the adapter (vendor, architecture, device, description,
 * which names the driver, and whether bounds checks are on) and stamped with a
 * hash of the shader sources: a changed shader is tuned again.
 *
 * Timing: every candidate's dispatches are submitted `reps` times in one
 * compute pass; `reps` grows until one measurement lasts about 2 ms (10 ms on
 * a CPU emulation, where the operating system's scheduling jitter is of the
 * order of a millisecond), so launch overhead and the clock's grain do not
 * decide. The time is the GPU's own, from timestamps at the start and end of
 * the pass, where the adapter has 'timestamp-query' (Dawn's rounding of them
 * is turned off in Node); otherwise, or where the stamps are not usable, the
 * wall clock over the submit, which every adapter has. Three rounds, the
 * candidates interleaved, the median of each; up to five while the leader is
 * in doubt (another candidate's fastest round beat its slowest), so that two
 * disturbed rounds do not decide. A candidate more than three times slower
 * than the fastest in the first round, whose one run outlasts the target,
 * sits out the other rounds (its one time stands). On a GPU the first
 * measurement of a runtime is preceded by about 0.1 s of work, so that
 * clocks ramping up from idle do not favour whichever variant runs last.
 *
 * On a CPU emulation the kernels share the cores with everything else: the
 * shader compiler, JavaScript and its garbage collector, other processes.
 * There each measurement waits until no pipeline is being built, and no
 * build starts while it runs (while one family is timed, the next families'
 * candidates are asked for: they wait). The wait for builds is start-up, not
 * tuning, and is not counted in `tuningSeconds`. (Measured on SwiftShader,
 * 2 cores, empty caches: with 2 ms, three rounds and builds beside it,
 * s001-softmax's 32×784×10 product timed 290–3,900 µs from one tuning to the
 * next, and 4 of 13 tunings kept a slower variant of one of its products;
 * s001-dense's 128×128×64 weight gradient, timed while other families'
 * variants were built, took 3.4–7.4 ms with a variant that runs in 0.64 ms,
 * and 6 of 6 tunings kept a slower one. With all of the above, 20 tunings of
 * s001-dense and s001-softmax at batch 32 and 128 kept the fastest variant,
 * `quad`, of every product; docs/benchmarks.md has the figures.)
 *
 * With autotuning off (`autotune: false`, `SHADERPROP_AUTOTUNE=0`) the first
 * candidate wins: families list their variants in the order that suits the
 * adapter kind (CPU emulation or GPU), so the choice is fixed per adapter kind.
 *
 * The same cache gives the same choices, hence the same arithmetic: one seed
 * still gives bit-identical weights on one adapter.
 */
import { isCpuAdapter } from './features.js';
import type { Dispatch, RuntimeCore } from './dispatch.js';
import { timeRepeats } from './timing.js';

/** One variant offered for a (family, shape): how to record its dispatches. */
export interface TuneCandidate {
  variant: string;
  /** Records the dispatches; scratch comes from `alloc` (elements of f32). */
  build(alloc: ScratchAlloc): Promise<Dispatch[]>;
}

export type ScratchAlloc = (elements: number, name: string) => GPUBuffer;

export interface TuneRecord {
  variant: string;
  /** Hash of the shader sources the times were measured with. */
  sources: string;
  /** Median microseconds per run of each variant timed. */
  micros: Record<string, number>;
  measured: string;
  /** What timed them: the GPU's timestamps or the wall clock (absent in records written before it was kept). */
  clock?: Clock;
}

export type Clock = 'gpu timestamps' | 'wall clock';

/** Where choices outlive the process. */
export interface TuneStore {
  load(): Promise<Record<string, TuneRecord>>;
  save(records: Record<string, TuneRecord>): Promise<void>;
}

/**
 * Seconds one run of `dispatches` takes, measured over `reps` repeats
 * (injectable for tests); with the clock that measured it where the timer says.
 */
export type DispatchTimer = (rt: RuntimeCore, dispatches: readonly Dispatch[], reps: number) => Promise<number | { seconds: number; clock: Clock }>;

/** What was chosen for one (family, shape), for reports and `--json`. */
export interface Choice {
  family: string;
  shape: string;
  variant: string;
  how: 'measured' | 'cached' | 'fixed' | 'requested' | 'only';
  micros?: Record<string, number>;
  clock?: Clock;
}

export interface TunerOptions {
  autotune: boolean;
  store?: TuneStore | undefined;
  timer?: DispatchTimer;
  /** Target length of one measurement, seconds (default 0.002 on GPUs, 0.01 on CPU emulations). */
  target?: number;
  /** Rounds per candidate (default 3). */
  rounds?: number;
  /**
   * Rounds at most, where the result is in doubt: while another candidate's
   * fastest round is faster than the leader's slowest, the two (and any
   * other such) run one more round (default 5; equal to `rounds`, no extra
   * rounds).
   */
  maxRounds?: number;
  /** Seconds of work before a runtime's first measurement (default 0.1 on GPUs, 0 on CPU emulations). */
  warmup?: number;
  /**
   * A candidate that takes more than this many times the fastest in the
   * first round, in a measurement longer than twice the target (one long
   * run), sits out the other rounds (default 3; Infinity times every
   * candidate in every round).
   */
  prune?: number;
  /**
   * Wait until no pipeline is being built before each measurement, and
   * start none while it runs (default: on CPU emulations, where shaders
   * compile on the cores that run the kernels, so a build beside a
   * measurement slows the variant being timed).
   */
  quietBuilds?: boolean;
}

/** Wall clock over `reps` repeats in one submit, waiting for the queue. */
export const wallClockTimer: DispatchTimer = async (rt, dispatches, reps) => {
  await rt.sync();
  const start = performance.now();
  rt.submit(dispatches, reps);
  await rt.sync();
  return { seconds: (performance.now() - start) / 1000 / reps, clock: 'wall clock' };
};

/** The GPU's timestamps around the repeats where the adapter has them, else the wall clock (the default timer). */
export const adapterTimer: DispatchTimer = async (rt, dispatches, reps) => {
  const { gpu, wall } = await timeRepeats(rt, dispatches, reps);
  return gpu !== null ? { seconds: gpu, clock: 'gpu timestamps' } : { seconds: wall, clock: 'wall clock' };
};

export class KernelTuner {
  /** Every choice made by this runtime, keyed by family and shape. */
  readonly choices = new Map<string, Choice>();
  /** Seconds spent timing variants (0 when nothing was measured). */
  tuningSeconds = 0;
  /** Calls of `choose` so far; with `usedSince`, which choices a piece of work used. */
  calls = 0;
  private readonly lastUse = new Map<string, number>();
  /** Choices being made: a second caller of the same (family, shape) waits for the first. */
  private readonly inflight = new Map<string, Promise<string>>();
  /** Timing runs one candidate at a time, whoever asks: builds overlap, measurements do not. */
  private timing: Promise<unknown> = Promise.resolve();
  private records: Record<string, TuneRecord> | undefined;
  private readonly timer: DispatchTimer;
  private warmedUp = false;
  /** Seconds measurements waited for pipeline builds (quiet builds). */
  private buildWaitSeconds = 0;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly rt: RuntimeCore, readonly options: TunerOptions) {
    this.timer = options.timer ?? adapterTimer;
  }

  /** The adapter part of every key. */
  get adapterKey(): string {
    const a = this.rt.adapter;
    return [a.vendor, a.architecture, a.device, a.description, this.rt.boundsChecks ? 'checks' : 'no-checks'].join('/');
  }

  /**
   * The variant to run for a (family, shape), among `candidates` (those that
   * apply, the fixed choice first; `sources` hashes their shaders). Times them when autotuning is on and no
   * valid cached choice exists; a candidate that fails to build is left out.
   */
  async choose(family: string, shape: string, candidates: readonly TuneCandidate[], sources: string): Promise<string> {
    if (candidates.length === 0) throw new Error(`${family}: no kernel variant applies to shape ${shape}.`);
    const key = `${family} ${shape}`;
    this.lastUse.set(key, ++this.calls);
    const known = this.choices.get(key);
    if (known && candidates.some((c) => c.variant === known.variant)) return known.variant;
    const record = (choice: Choice) => {
      this.choices.set(key, choice);
      return choice.variant;
    };
    if (candidates.length === 1) return record({ family, shape, variant: candidates[0]!.variant, how: 'only' });
    if (!this.options.autotune) return record({ family, shape, variant: candidates[0]!.variant, how: 'fixed' });
    const running = this.inflight.get(key);
    if (running) return running;
    const deciding = this.decide(family, shape, key, candidates, sources, record);
    this.inflight.set(key, deciding);
    try {
      return await deciding;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async decide(family: string, shape: string, key: string, candidates: readonly TuneCandidate[], sources: string,
    record: (choice: Choice) => string): Promise<string> {
    const storeKey = `${this.adapterKey} ${key}`;
    const stored = (await this.load())[storeKey];
    if (stored && stored.sources === sources && candidates.some((c) => c.variant === stored.variant)) {
      return record({ family, shape, variant: stored.variant, how: 'cached', micros: stored.micros, ...(stored.clock ? { clock: stored.clock } : {}) });
    }
    const { micros, clock } = await this.measure(candidates);
    const ranked = Object.entries(micros).sort((x, y) => x[1] - y[1]);
    // Every candidate failed to build or run: the fixed choice, whose error the caller then sees.
    const variant = ranked[0]?.[0] ?? candidates[0]!.variant;
    if (ranked.length > 0) {
      this.records![storeKey] = { variant, sources, micros, measured: new Date().toISOString(), ...(clock ? { clock } : {}) };
      this.persist();
    }
    return record({ family, shape, variant, how: 'measured', micros, ...(clock ? { clock } : {}) });
  }

  /** The choices used by calls after `mark` (a value of `calls`). */
  usedSince(mark: number): Choice[] {
    return [...this.choices.entries()].filter(([key]) => (this.lastUse.get(key) ?? 0) > mark).map(([, c]) => c);
  }

  /** Waits for pending writes of the store. */
  flush(): Promise<void> {
    return this.saving;
  }

  private async load(): Promise<Record<string, TuneRecord>> {
    if (!this.records) {
      try {
        this.records = (await this.options.store?.load()) ?? {};
      } catch {
        this.records = {}; // an unreadable cache is a cache miss
      }
    }
    return this.records;
  }

  private persist(): void {
    const store = this.options.store;
    if (!store) return;
    const records = { ...this.records };
    this.saving = this.saving.then(() => store.save(records)).catch(() => {});
  }

  /** Median microseconds per run of each candidate that builds and runs, and the clock that timed them. */
  private async measure(candidates: readonly TuneCandidate[]): Promise<{ micros: Record<string, number>; clock: Clock | undefined }> {
    const target = this.options.target ?? (isCpuAdapter(this.rt) ? 0.01 : 0.002);
    const rounds = this.options.rounds ?? 3;
    const maxRounds = Math.max(rounds, this.options.maxRounds ?? 5);
    const temporary: GPUBuffer[] = [];
    const alloc: ScratchAlloc = (elements, name) => {
      const buffer = this.rt.storage(Math.max(4, elements * 4), `tuning scratch: ${name}`);
      temporary.push(buffer);
      return buffer;
    };
    const live: Timed[] = [];
    const clocks = new Set<Clock>();
    try {
      const built = await Promise.all(candidates.map(async (c) => {
        try {
          return { variant: c.variant, dispatches: await c.build(alloc) };
        } catch {
          return undefined; // does not compile or bind here: not a candidate
        }
      }));
      // Wait for other families' measurements to finish, then hold the GPU for ours.
      const previous = this.timing;
      let done!: () => void;
      this.timing = new Promise<void>((resolve) => (done = resolve));
      await previous;
      const started = performance.now();
      const waited = this.buildWaitSeconds;
      try {
        await this.timeAll(built, live, target, rounds, maxRounds, clocks);
      } finally {
        // The wait for other pipelines' builds is start-up, not tuning.
        this.tuningSeconds += (performance.now() - started) / 1000 - (this.buildWaitSeconds - waited);
        done();
      }
    } finally {
      for (const buffer of temporary) this.rt.pool.release(buffer);
    }
    const micros: Record<string, number> = {};
    for (const c of live) {
      micros[c.variant] = Math.round(median(c.times) * 1e7) / 10;
    }
    // One clock for all of them, or the wall clock where some runs had no usable stamps.
    const clock = clocks.size === 0 ? undefined : clocks.size === 1 ? [...clocks][0] : 'wall clock';
    return { micros, clock };
  }

  /**
   * Runs one measurement; a timer that gives only seconds is a wall clock.
   * With quiet builds, it starts once no pipeline is being built, and no
   * build starts while it runs (while one family is timed, the next
   * families' candidates are asked for: they wait).
   */
  private async time(dispatches: readonly Dispatch[], reps: number, clocks: Set<Clock>): Promise<number> {
    const run = () => this.timer(this.rt, dispatches, reps);
    let result: Awaited<ReturnType<DispatchTimer>>;
    if (this.options.quietBuilds ?? isCpuAdapter(this.rt)) {
      if (this.rt.buildsInFlight > 0) {
        const waiting = performance.now();
        await this.rt.settleBuilds();
        this.buildWaitSeconds += (performance.now() - waiting) / 1000;
      }
      result = await this.rt.withoutBuilds(run);
    } else {
      result = await run();
    }
    if (typeof result === 'number') return result;
    clocks.add(result.clock);
    return result.seconds;
  }

  /** Keeps a GPU busy for the warm-up seconds once per runtime, so its clocks are up before the first timing. */
  private async warmUp(dispatches: readonly Dispatch[]): Promise<void> {
    if (this.warmedUp) return;
    this.warmedUp = true;
    const seconds = this.options.warmup ?? (isCpuAdapter(this.rt) ? 0 : 0.1);
    if (seconds <= 0) return;
    const start = performance.now();
    let reps = 1;
    while ((performance.now() - start) / 1000 < seconds) {
      this.rt.submit(dispatches, reps);
      await this.rt.sync();
      reps = Math.min(reps * 2, 1000);
    }
  }

  /**
   * How many repeats make one measurement last about `target` seconds: one
   * run, then more until a measurement lasts half the target or longer (at
   * most 1,000). A pipeline's first run can be many times slower than its
   * next, so a short kernel is sized from a later, warm measurement.
   */
  private async sizeRepeats(dispatches: readonly Dispatch[], target: number): Promise<number> {
    let reps = 1;
    let seconds = await this.time(dispatches, reps, new Set());
    while (seconds * reps < target / 2 && reps < 1000) {
      reps = Math.min(1000, Math.max(reps * 2, Math.ceil(target / Math.max(seconds, 1e-7))));
      seconds = await this.time(dispatches, reps, new Set());
    }
    return reps;
  }

  /**
   * Times the candidates that built: each one's repeats sized (which also
   * warms it up), then `rounds` rounds with the candidates interleaved.
   * A candidate whose run fails is left out. One that took more than `prune`
   * times the fastest in the first round cannot plausibly win, and where its
   * one run outlasts the target (a measurement over twice the target) more
   * rounds cost real time: it skips them and keeps that time. Short ones keep
   * all their rounds, so a measurement disturbed once does not decide. (The
   * sizing runs do not decide either: a pipeline's first run can be many
   * times slower than its next.) On a CPU emulation, where one run of a slow
   * conv variant takes seconds, this saves a good part of the tuning time.
   * Then, up to `maxRounds`, more rounds while the leader (the lowest median)
   * is in doubt: every candidate whose fastest round beat the leader's
   * slowest runs again with it, so that two disturbed rounds of five do not
   * move a median. A clear result costs no more than `rounds`.
   */
  private async timeAll(built: ({ variant: string; dispatches: Dispatch[] } | undefined)[],
    live: Timed[], target: number, rounds: number, maxRounds: number, clocks: Set<Clock>): Promise<void> {
    const first = built.find((b) => b !== undefined);
    if (first) await this.warmUp(first.dispatches).catch(() => {});
    for (const b of built) {
      if (!b) continue;
      try {
        live.push({ ...b, reps: await this.sizeRepeats(b.dispatches, target), times: [] });
      } catch {
        // a device error while running it: not a candidate
      }
    }
    const prune = this.options.prune ?? 3;
    let timed = live;
    for (let r = 0; r < rounds; r++) {
      for (const c of timed) c.times.push(await this.time(c.dispatches, c.reps, clocks));
      if (r === 0) {
        const fastest = Math.min(...timed.map((c) => c.times[0]!));
        timed = timed.filter((c) => c.times[0]! <= prune * fastest || c.times[0]! * c.reps <= 2 * target);
      }
    }
    for (let r = rounds; r < maxRounds; r++) {
      const leader = timed.reduce<Timed | undefined>((best, c) => (best && median(best.times) <= median(c.times) ? best : c), undefined);
      if (!leader) return;
      const slowest = Math.max(...leader.times);
      const doubt = timed.filter((c) => c === leader || Math.min(...c.times) < slowest);
      if (doubt.length < 2) return;
      for (const c of doubt) c.times.push(await this.time(c.dispatches, c.reps, clocks));
    }
  }

}

/** The median of some times (the upper one of an even count). */
function median(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Timed {
  variant: string;
  dispatches: Dispatch[];
  reps: number;
  times: number[];
}

/** A store of records in a JSON file (Node), written atomically and merged with what other processes wrote. */
export function jsonFileStore(io: {
  read(path: string): Promise<Uint8Array>;
  write(path: string, text: string): Promise<void>;
}, path: string): TuneStore {
  const parse = async (): Promise<Record<string, TuneRecord>> => {
    try {
      const parsed = JSON.parse(new TextDecoder().decode(await io.read(path))) as { records?: Record<string, TuneRecord> };
      return parsed.records ?? {};
    } catch {
      return {};
    }
  };
  return {
    load: parse,
    async save(records) {
      const merged = { ...(await parse()), ...records };
      await io.write(path, JSON.stringify({ format: 'shaderprop kernel choices', version: 1, records: merged }, null, 1));
    },
  };
}

/** A store in the page's localStorage. */
export function localStorageStore(storage: Storage, key = 'shaderprop kernel choices'): TuneStore {
  return {
    async load() {
      const text = storage.getItem(key);
      return text ? ((JSON.parse(text) as { records?: Record<string, TuneRecord> }).records ?? {}) : {};
    },
    async save(records) {
      storage.setItem(key, JSON.stringify({ version: 1, records }));
    },
  };
}

/** FNV-1a of a set of texts, as 8 hex digits. */
export function hashTexts(texts: readonly string[]): string {
  let h = 0x811c9dc5;
  for (const text of texts) {
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h.toString(16).padStart(8, '0');
}

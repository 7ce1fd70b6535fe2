/**
 * Kernel selection by measurement (src/gpu/tuner.ts, src/ops/family.ts), with
 * a fake timer where the choice itself is under test: the tuner keeps the
 * fastest variant, reuses a cached choice, measures again when the shader
 * sources change, leaves out a variant that fails to build, and the same
 * cache gives bit-identical training on one adapter.
 */
import { describe, expect, it, vi } from 'vitest';
import { createRuntime, Dataset, dense, flatten, sequential, sgd } from '../../src/index.js';
import type { Dispatch, Runtime, RuntimeCore } from '../../src/gpu/runtime.js';
import { adapterTimer, KernelTuner, jsonFileStore, type DispatchTimer, type TuneRecord, type TuneStore } from '../../src/gpu/tuner.js';
import { DENSE_FORWARD, denseForward } from '../../src/ops/dense.js';
import { applicableVariants } from '../../src/ops/family.js';
import { SOURCES_HASH } from '../../src/ops/sources.js';
import { makeRng } from '../../src/reference/test-rng.js';

function memoryStore(): TuneStore & { records: Record<string, TuneRecord>; saves: number } {
  const store = {
    records: {} as Record<string, TuneRecord>,
    saves: 0,
    async load() {
      return { ...store.records };
    },
    async save(records: Record<string, TuneRecord>) {
      store.saves++;
      store.records = { ...records };
    },
  };
  return store;
}

/** A fake clock: each kernel (by pipeline name) takes the seconds given, 1 s if not listed. */
function fakeTimer(seconds: Record<string, number>, calls: string[] = []): DispatchTimer {
  return async (_rt: RuntimeCore, dispatches: readonly Dispatch[]) => {
    const name = dispatches[0]!.kernel.spec.name;
    calls.push(name);
    return seconds[name] ?? 1;
  };
}

const shape = { batch: 8, inputs: 12, units: 16 };

async function forwardKernel(rt: Runtime): Promise<string> {
  const io = forwardBuffers(rt);
  const d = await denseForward(rt, shape, { name: 'relu' }, io);
  for (const buf of Object.values(io)) rt.pool.release(buf);
  return d.kernel.spec.name;
}

/** Separate buffers for a dense forward of `shape` (a pass may not read and write one buffer). */
function forwardBuffers(rt: Runtime): { inp: GPUBuffer; weight: GPUBuffer; bias: GPUBuffer; out: GPUBuffer } {
  return {
    inp: rt.storage(shape.batch * shape.inputs * 4, 'x'), weight: rt.storage(shape.inputs * shape.units * 4, 'w'),
    bias: rt.storage(shape.units * 4, 'b'), out: rt.storage(shape.batch * shape.units * 4, 'y'),
  };
}

/**
 * A runtime with autotuning off and one recorded dispatch (a small dense
 * forward), for candidates timed by a fake clock; releases both after `body`.
 */
async function withDispatch(body: (rt: Runtime, ok: Dispatch) => Promise<void>): Promise<void> {
  const rt = await createRuntime({ autotune: false });
  const io = forwardBuffers(rt);
  try {
    await body(rt, await denseForward(rt, shape, { name: 'linear' }, io, 'x', 'general'));
  } finally {
    for (const buf of Object.values(io)) rt.pool.release(buf);
    rt.destroy();
  }
}

describe('kernel tuner', () => {
  it('keeps the fastest variant, stores it, and reuses it without measuring', async () => {
    const store = memoryStore();
    const rt = await createRuntime({ autotune: true, tuneStore: store, tuneTimer: fakeTimer({ dense_forward: 0.001, gemm_bias_act: 0.002 }) });
    try {
      expect(await forwardKernel(rt)).toBe('dense_forward'); // 'general', the fastest on this clock
      const choice = [...rt.tuner.choices.values()].find((c) => c.family === 'dense.forward')!;
      expect(choice).toMatchObject({ variant: 'general', how: 'measured', shape: '8x12x16' });
      // every applicable variant was timed
      const applicable = applicableVariants(rt, DENSE_FORWARD, { shape }, false).map((v) => v.name);
      expect(Object.keys(choice.micros!).sort()).toEqual([...applicable].sort());
      expect(choice.micros!.general).toBe(1000);
      await rt.tuner.flush();
      const key = Object.keys(store.records).find((k) => k.endsWith('dense.forward 8x12x16'))!;
      expect(store.records[key]).toMatchObject({ variant: 'general', sources: SOURCES_HASH });
    } finally {
      rt.destroy();
    }
    const calls: string[] = [];
    const again = await createRuntime({ autotune: true, tuneStore: store, tuneTimer: fakeTimer({ gemm_bias_act: 0.0001 }, calls) });
    try {
      expect(await forwardKernel(again)).toBe('dense_forward');
      expect(calls).toEqual([]);
      expect([...again.tuner.choices.values()][0]!.how).toBe('cached');
    } finally {
      again.destroy();
    }
  });

  it('measures again when the shader sources changed since the stored choice', async () => {
    const store = memoryStore();
    const rt = await createRuntime({ autotune: true, tuneStore: store, tuneTimer: fakeTimer({ dense_forward: 0.001 }) });
    await forwardKernel(rt);
    await rt.tuner.flush();
    rt.destroy();
    for (const record of Object.values(store.records)) record.sources = 'older00';
    const calls: string[] = [];
    const next = await createRuntime({ autotune: true, tuneStore: store, tuneTimer: fakeTimer({ dense_tiled_forward: 0.0005 }, calls) });
    try {
      expect(await forwardKernel(next)).toBe('dense_tiled_forward');
      expect(calls.length).toBeGreaterThan(0);
      expect([...next.tuner.choices.values()][0]!.how).toBe('measured');
    } finally {
      next.destroy();
    }
  });

  it('leaves out a variant that fails to build, and with autotuning off takes the first without timing', async () => {
    const rt = await createRuntime({ autotune: false });
    try {
      const tuner = new KernelTuner(rt, { autotune: true, timer: fakeTimer({}) });
      const ok = await denseForward(rt, shape, { name: 'linear' }, { inp: rt.storage(1024, 'a'), weight: rt.storage(1024, 'b'), bias: rt.storage(1024, 'c'), out: rt.storage(1024, 'd') }, 'x', 'general');
      const chosen = await tuner.choose('test.family', 's', [
        { variant: 'broken', build: async () => { throw new Error('WGSL does not compile'); } },
        { variant: 'fine', build: async () => [ok] },
      ], 'hash');
      expect(chosen).toBe('fine');
      expect(tuner.choices.get('test.family s')?.micros).toEqual({ fine: 1e6 });
      const fixed = new KernelTuner(rt, { autotune: false, timer: async () => { throw new Error('must not time'); } });
      expect(await fixed.choose('test.family', 's', [{ variant: 'first', build: async () => [ok] }, { variant: 'second', build: async () => [ok] }], 'hash')).toBe('first');
      expect(fixed.choices.get('test.family s')?.how).toBe('fixed');
    } finally {
      rt.destroy();
    }
  });

  it('times a long candidate more than 3x slower than the fastest in the first round no more, not judging by a cold first run', async () => {
    await withDispatch(async (rt, ok) => {
      // each candidate is one dispatch, which the fake clock knows by its object;
      // its first run (the sizing run) takes `cold` seconds, every later one `s`
      const clock = new Map<Dispatch, { variant: string; s: number; cold: number; runs: number }>();
      const candidate = (variant: string, s: number, cold = s) => {
        const d = { ...ok };
        clock.set(d, { variant, s, cold, runs: 0 });
        return { variant, build: async () => [d] };
      };
      const calls: string[] = [];
      const timer: DispatchTimer = async (_rt, dispatches) => {
        const c = clock.get(dispatches[0]!)!;
        calls.push(c.variant);
        return c.runs++ === 0 ? c.cold : c.s;
      };
      const count = (variant: string) => calls.filter((v) => v === variant).length;
      const candidates = [candidate('slow', 0.0031), candidate('fast', 0.001, 0.02), candidate('close', 0.0029)];
      // a target every candidate's one run passes: one sizing run each, on any adapter
      const tuner = new KernelTuner(rt, { autotune: true, timer, warmup: 0, target: 0.001 });
      expect(await tuner.choose('test.family', 'one', candidates, 'hash')).toBe('fast');
      // one sizing run and one round each, then 2 more rounds of the two within 3x of the fastest
      expect([count('slow'), count('fast'), count('close')]).toEqual([2, 4, 4]);
      expect(tuner.choices.get('test.family one')?.micros).toEqual({ slow: 3100, fast: 1000, close: 2900 });
      calls.length = 0;
      for (const c of clock.values()) c.runs = 0;
      const every = new KernelTuner(rt, { autotune: true, timer, warmup: 0, target: 0.001, prune: Infinity });
      expect(await every.choose('test.family', 'one', candidates, 'hash')).toBe('fast');
      expect([count('slow'), count('fast'), count('close')]).toEqual([4, 4, 4]);
      // short measurements (the target 10 ms, several repeats each) keep all their rounds
      calls.length = 0;
      for (const c of clock.values()) c.runs = 0;
      const short = new KernelTuner(rt, { autotune: true, timer, warmup: 0, target: 0.01 });
      expect(await short.choose('test.family', 'one', candidates, 'hash')).toBe('fast');
      expect(count('slow')).toBeGreaterThanOrEqual(4); // sizing, then 3 rounds
    });
  });

  it('sizes the repeats from a warm run: a cold first run does not leave a short kernel timed in a few repeats', async () => {
    await withDispatch(async (rt, ok) => {
      const reps: number[] = [];
      let runs = 0;
      // 4 ms the first time (cold), then 0.1 ms a run
      const timer: DispatchTimer = async (_core, _d, n) => {
        reps.push(n);
        return runs++ === 0 ? 0.004 : 0.0001;
      };
      const tuner = new KernelTuner(rt, { autotune: true, timer, warmup: 0, target: 0.01 });
      await tuner.choose('test.family', 'sized', [{ variant: 'a', build: async () => [ok] }, { variant: 'b', build: async () => [ok] }], 'hash');
      // a: 1 (cold, 4 ms), 3 (0.3 ms), then 100 (10 ms); b: 1, then 100; then the rounds at 100
      expect(reps.slice(0, 5)).toEqual([1, 3, 100, 1, 100]);
      expect(reps.slice(5)).toEqual([100, 100, 100, 100, 100, 100]);
    });
  });

  it('with quiet builds, times no variant while a pipeline is being built', async () => {
    await withDispatch(async (rt, ok) => {
      const seen: number[] = [];
      const timer: DispatchTimer = async (core) => {
        seen.push(core.buildsInFlight);
        return 0.001;
      };
      const candidates = [{ variant: 'a', build: async () => [ok] }, { variant: 'b', build: async () => [ok] }];
      // a pipeline nothing else has asked for (its own shape), built beside the tuning
      const other = forwardBuffers(rt);
      const building = denseForward(rt, { batch: 3, inputs: 5, units: 7 }, { name: 'tanh' }, other, 'x', 'general');
      expect(rt.buildsInFlight).toBeGreaterThan(0);
      const tuner = new KernelTuner(rt, { autotune: true, timer, warmup: 0, quietBuilds: true });
      await tuner.choose('test.family', 'quiet', candidates, 'hash');
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((n) => n === 0)).toBe(true);
      await building;
      await rt.settleBuilds();
      expect(rt.buildsInFlight).toBe(0);
      for (const buf of Object.values(other)) rt.pool.release(buf);
    });
  });

  it('with quiet builds, starts no pipeline build while it times a variant: one asked for meanwhile waits', async () => {
    await withDispatch(async (rt, ok) => {
      const other = forwardBuffers(rt);
      const modules: string[] = [];
      const create = rt.device.createShaderModule.bind(rt.device);
      vi.spyOn(rt.device, 'createShaderModule').mockImplementation((descriptor) => {
        modules.push(descriptor.label ?? '');
        return create(descriptor);
      });
      // the first measurement asks for a pipeline nothing else has asked for, and
      // counts the shader modules created while it runs on (50 ms)
      const probe = (activation: 'sigmoid' | 'relu') => {
        const seen = { building: undefined as Promise<unknown> | undefined, during: -1 };
        const timer: DispatchTimer = async () => {
          if (!seen.building) {
            const before = modules.length;
            seen.building = denseForward(rt, { batch: 5, inputs: 3, units: 2 }, { name: activation }, other, 'x', 'general');
            await new Promise((resolve) => setTimeout(resolve, 50));
            seen.during = modules.length - before;
          }
          return 0.001;
        };
        return { seen, timer };
      };
      const candidates = [{ variant: 'a', build: async () => [ok] }, { variant: 'b', build: async () => [{ ...ok }] }];
      const quiet = probe('sigmoid');
      const start = modules.length;
      await new KernelTuner(rt, { autotune: true, timer: quiet.timer, warmup: 0, quietBuilds: true }).choose('test.family', 'quiet', candidates, 'hash');
      expect(quiet.seen.during).toBe(0);
      await quiet.seen.building;
      expect(modules.length - start).toBe(1); // built once, after the measurement
      // without quiet builds the same request compiles during the measurement
      const loud = probe('relu');
      await new KernelTuner(rt, { autotune: true, timer: loud.timer, warmup: 0, quietBuilds: false }).choose('test.family', 'loud', candidates, 'hash');
      expect(loud.seen.during).toBe(1);
      await loud.seen.building;
      await rt.settleBuilds();
      for (const buf of Object.values(other)) rt.pool.release(buf);
    });
  });

  it('judges a candidate by the median of its rounds, with more rounds (up to five) while the leader is in doubt', async () => {
    await withDispatch(async (rt, ok) => {
      // 'steady' takes 2 ms in every round; 'disturbed' 1 ms, but 4 ms in its
      // first and second rounds (something else had the cores)
      const steady = { ...ok };
      const disturbed = { ...ok };
      const runs = new Map<Dispatch, number>();
      const timer: DispatchTimer = async (_core, dispatches) => {
        const d = dispatches[0]!;
        const n = runs.get(d) ?? 0;
        runs.set(d, n + 1);
        if (d === steady) return 0.002;
        return n === 1 || n === 2 ? 0.004 : 0.001; // sizing, then rounds of 4, 4, 1, 1, 1 ms
      };
      const candidates = [{ variant: 'steady', build: async () => [steady] }, { variant: 'disturbed', build: async () => [disturbed] }];
      const options = { autotune: true, timer, warmup: 0, target: 0.001, quietBuilds: false } as const;
      // three rounds only: the median of 4, 4, 1 ms loses
      const three = new KernelTuner(rt, { ...options, maxRounds: 3 });
      expect(await three.choose('test.family', 'noisy', candidates, 'hash')).toBe('steady');
      expect(three.choices.get('test.family noisy')?.micros).toEqual({ steady: 2000, disturbed: 4000 });
      // up to five: after three 'steady' leads, but 'disturbed' had a round (1 ms) faster than
      // the leader's slowest (2 ms), so both run again, twice, and the median of 4, 4, 1, 1, 1 ms wins
      runs.clear();
      const tuner = new KernelTuner(rt, options);
      expect(await tuner.choose('test.family', 'noisy', candidates, 'hash')).toBe('disturbed');
      expect(tuner.choices.get('test.family noisy')?.micros).toEqual({ steady: 2000, disturbed: 1000 });
      expect([runs.get(steady), runs.get(disturbed)]).toEqual([6, 6]);
      // a clear result takes three rounds: 'steady' against one always 4 ms
      runs.clear();
      const slow = { ...ok };
      const clear = new KernelTuner(rt, { ...options, timer: async (_core, dispatches) => {
        runs.set(dispatches[0]!, (runs.get(dispatches[0]!) ?? 0) + 1);
        return dispatches[0] === steady ? 0.002 : 0.004;
      } });
      expect(await clear.choose('test.family', 'clear', [candidates[0]!, { variant: 'slow', build: async () => [slow] }], 'hash')).toBe('steady');
      expect([runs.get(steady), runs.get(slow)]).toEqual([4, 4]);
    });
  });

  it('a JSON file store keeps what other processes wrote and survives a corrupt file', async () => {
    const files = new Map<string, string>();
    const io = {
      read: async (path: string) => {
        const text = files.get(path);
        if (text === undefined) throw new Error('no such file');
        return new TextEncoder().encode(text);
      },
      write: async (path: string, text: string) => void files.set(path, text),
    };
    const store = jsonFileStore(io, '/cache/kernel-choices.json');
    expect(await store.load()).toEqual({});
    files.set('/cache/kernel-choices.json', '{ not json');
    expect(await store.load()).toEqual({});
    const rec = (variant: string): TuneRecord => ({ variant, sources: 'h', micros: { [variant]: 1 }, measured: 'now' });
    await store.save({ a: rec('x') });
    await jsonFileStore(io, '/cache/kernel-choices.json').save({ b: rec('y') });
    expect(Object.keys(await store.load()).sort()).toEqual(['a', 'b']);
  });

  it('with autotuning on (the adapter\'s own clock) and one cache, the same seed trains to bit-identical weights', async () => {
    const store = memoryStore();
    const rng = makeRng(5);
    const n = 96, features = 20;
    const x = Float32Array.from({ length: n * features }, () => rng.next());
    const y = Uint32Array.from({ length: n }, (_, i) => i % 4);
    const weights: Float32Array[][] = [];
    for (let run = 0; run < 2; run++) {
      const rt = await createRuntime({ autotune: true, tuneStore: store });
      try {
        const data = Dataset.create(rt, { x, y, shape: [features], classes: 4, name: 'tiny' });
        const model = sequential([flatten(), dense(40, 'relu'), dense(4, 'softmax')], { inputShape: [features], runtime: rt, seed: 3 });
        model.compile({ optimizer: sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
        await model.fit(data, { epochs: 2, batchSize: 32, seed: 9 });
        weights.push((await model.getWeights()).map((t) => t.values));
        expect(rt.tuner.choices.size).toBeGreaterThan(0);
        expect([...rt.tuner.choices.values()].every((c) => c.how === (run === 0 ? 'measured' : 'cached') || c.how === 'only')).toBe(true);
        await rt.tuner.flush();
        model.dispose();
        data.dispose();
      } finally {
        rt.destroy();
      }
    }
    weights[0]!.forEach((w, i) => expect(Array.from(weights[1]![i]!)).toEqual(Array.from(w)));
  });

  it('times by the GPU\'s timestamps where the adapter has them, else the wall clock, and keeps which in the record', async () => {
    const store = memoryStore();
    const rt = await createRuntime({ autotune: true, tuneStore: store });
    try {
      await forwardKernel(rt);
      const choice = [...rt.tuner.choices.values()].find((c) => c.family === 'dense.forward')!;
      expect(choice.how).toBe('measured');
      // Stamps that are missing or rounded to nothing fall back to the wall clock, on any adapter.
      expect(['gpu timestamps', 'wall clock']).toContain(choice.clock);
      if (!rt.features.has('timestamp-query')) expect(choice.clock).toBe('wall clock');
      for (const seconds of Object.values(choice.micros!)) expect(seconds).toBeGreaterThan(0);
      await rt.tuner.flush();
      expect(Object.values(store.records).find((r) => r.variant === choice.variant)?.clock).toBe(choice.clock);
      const io = forwardBuffers(rt);
      const d = await denseForward(rt, shape, { name: 'relu' }, io, 'x', 'general');
      const run = await adapterTimer(rt, [d], 3);
      expect(typeof run === 'number' ? run : run.seconds).toBeGreaterThan(0);
      for (const buf of Object.values(io)) rt.pool.release(buf);
    } finally {
      rt.destroy();
    }
  });

  it('keeps the adapter busy before its first measurement only (the warm-up), and not at all when told 0', async () => {
    await withDispatch(async (rt, ok) => {
      const submit = vi.spyOn(rt, 'submit');
      const submitsAtTiming: number[] = [];
      const timer: DispatchTimer = async () => {
        submitsAtTiming.push(submit.mock.calls.length);
        return 0.001;
      };
      const candidates = [{ variant: 'a', build: async () => [ok] }, { variant: 'b', build: async () => [ok] }];
      const warm = new KernelTuner(rt, { autotune: true, timer, warmup: 0.02 });
      await warm.choose('test.family', 'one', candidates, 'hash');
      expect(submitsAtTiming[0]).toBeGreaterThan(0);
      const before = submit.mock.calls.length;
      await warm.choose('test.family', 'two', candidates, 'hash');
      expect(submit.mock.calls.length).toBe(before); // once per tuner
      submit.mockClear();
      submitsAtTiming.length = 0;
      const cold = new KernelTuner(rt, { autotune: true, timer, warmup: 0 });
      await cold.choose('test.family', 'one', candidates, 'hash');
      expect(submitsAtTiming.every((n) => n === 0)).toBe(true);
      submit.mockRestore();
    });
  });
});

/**
 * `shaderprop run --jobs N`: the run in parts, N at a time, each part a child
 * process of this command (`shaderprop run <id> --out parts/<part> --seed S
 * [--cell NAME]`) that owns its own folder, lock and run.json. A part is one
 * id with one seed, or one cell of a sweep with one seed. This process holds
 * the lock of the whole run, relays the parts' output line by line, and merges
 * their report.json files into the run's report as each part ends.
 *
 *   <out>/run.json, report.json, index.html     the merged run
 *   <out>/parts/<id>.seed-<S>[.<cell>]/          one part: a run folder of its own
 *
 * SIGINT or SIGTERM is passed on to every running part (they run in their own
 * process groups, so a terminal's Ctrl-C reaches this process alone): each part
 * checkpoints and exits, and `--resume` continues every unfinished part in its
 * folder and keeps the finished ones. A part that fails is recorded under
 * "Could not run", as an id that fails in a run in one process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment, SweepExperiment } from '../../src/experiments/registry.js';
import type { ExperimentResult, SweepResult } from '../../src/experiments/result.js';
import type { RunSettings } from '../../src/experiments/overrides.js';
import { readManifest, readReport } from './run-folder.js';

/** The settings of `run` that the parts take over. */
export interface JobsRunOptions {
  quick?: boolean;
  epochs?: number;
  seed: number;
  seeds: number;
  jobs: number;
  cell?: string[];
  resume?: boolean;
  json?: boolean;
  boundsChecks: boolean;
  autotune?: boolean;
  /** false with --no-seed-independent: no part runs what is the same for every seed. */
  seedIndependent?: boolean;
  export?: string;
}

export interface JobsOptions {
  outDir: string;
  experiments: Experiment[];
  opts: JobsRunOptions;
  settings: RunSettings;
  /** --data, made absolute (children run in this process's working directory, MNIST_DIR passes to them). */
  dataDir?: string;
  say: (line: string) => void;
  /** Aborted on the first SIGINT/SIGTERM: no new part starts and the running ones are signalled. */
  signal: AbortSignal;
  /** Writes the merged report: every result so far (sweep parts merged), what could not run, and the adapter. */
  write: (results: ExperimentResult[], skipped: { id: string; reason: string }[], adapter: string | null) => Promise<unknown>;
}

interface Part {
  experiment: Experiment;
  seed: number;
  cell?: string;
  /** How messages and "Could not run" name it: "s001-softmax seed 2", "s003-l2 [alpha=0.0001]". */
  label: string;
  folder: string;
}

interface PartOutcome {
  part: Part;
  results: ExperimentResult[];
  skipped: { id: string; reason: string }[];
  adapter: string | null;
  interrupted: boolean;
}

/** Runs the parts, `opts.jobs` at a time, and merges their reports; says whether a signal stopped it. */
export async function runJobs(o: JobsOptions): Promise<{ interrupted: boolean }> {
  const { mergeSweepParts, slug } = await import('../../src/experiments/runner.js');
  const { opts } = o;
  const parts: Part[] = [];
  for (const experiment of o.experiments) {
    const cells = experiment.kind === 'sweep' ? (opts.cell ?? experiment.cells.map((c) => c.name)) : [undefined];
    if (experiment.kind === 'sweep') {
      for (const name of cells) {
        if (!experiment.cells.some((c) => c.name === name)) throw new Error(`${experiment.id} has no cell '${name}'; its cells are: ${experiment.cells.map((c) => c.name).join('; ')}.`);
      }
    }
    for (let k = 0; k < opts.seeds; k++) {
      const seed = opts.seed + k;
      for (const cell of cells) {
        const label = `${experiment.id}${cell ? ` [${cell}]` : ''}${opts.seeds > 1 ? ` seed ${seed}` : ''}`;
        const name = `${experiment.id}.seed-${seed}${cell ? `.${slug(cell)}` : ''}`;
        parts.push({ experiment, seed, ...(cell ? { cell } : {}), label, folder: join(o.outDir, 'parts', name) });
      }
    }
  }
  o.say(`${parts.length} part${parts.length === 1 ? '' : 's'} (ids × seeds${parts.some((p) => p.cell) ? ' × sweep cells' : ''}), ${Math.min(opts.jobs, parts.length)} at a time, each in its own folder under ${join(o.outDir, 'parts')}`);

  const outcomes: PartOutcome[] = [];
  const running = new Set<ChildProcess>();
  // Parts still running when this process exits (a second signal, a crash) are told to stop and checkpoint.
  const stopAll = () => {
    for (const child of running) child.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  const onAbort = () => {
    o.say(`stopping ${running.size} running part${running.size === 1 ? '' : 's'}; each writes its last.ckpt`);
    for (const child of running) child.kill('SIGINT');
  };
  o.signal.addEventListener('abort', onAbort);

  // One merge at a time: parts that end together must not write the report's files at once.
  let merging: Promise<unknown> = Promise.resolve();
  const merge = () => {
    merging = merging.then(() => {
      const { results, skipped, adapter } = mergeOutcomes(outcomes, mergeSweepParts);
      return o.write(results, skipped, adapter);
    });
    return merging;
  };

  let next = 0;
  const worker = async () => {
    while (next < parts.length && !o.signal.aborted) {
      const part = parts[next++]!;
      outcomes.push(await runPart(part, o, running));
      await merge();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(opts.jobs, parts.length) }, worker));
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    process.off('exit', stopAll);
  }
  await merge();
  return { interrupted: o.signal.aborted || outcomes.some((x) => x.interrupted) || outcomes.length < parts.length };
}

/** One part: kept when its folder holds it finished (a resume), else run (or resumed) in a child process. */
async function runPart(part: Part, o: JobsOptions, running: Set<ChildProcess>): Promise<PartOutcome> {
  const { opts } = o;
  const manifest = existsSync(part.folder) ? readManifest(part.folder) : null;
  const earlier = readReport(part.folder);
  if (opts.resume && manifest?.finished && earlier && manifest.epochs === (opts.epochs ?? null)) {
    o.say(`${part.label}: finished in the run resumed; its result is kept`);
    return { part, results: earlier.results, skipped: relabel(earlier.skipped, part), adapter: earlier.adapter, interrupted: false };
  }
  const args = [
    'run', part.experiment.id, '--out', part.folder, '--seed', String(part.seed),
    ...(opts.quick ? ['--quick'] : []), ...(opts.epochs ? ['--epochs', String(opts.epochs)] : []),
    ...(o.dataDir ? ['--data', o.dataDir] : []),
    ...(o.settings.learningRate !== undefined ? ['--lr', String(o.settings.learningRate)] : []),
    ...(o.settings.batchSize !== undefined ? ['--batch-size', String(o.settings.batchSize)] : []),
    ...(o.settings.trainImages !== undefined ? ['--train-images', String(o.settings.trainImages)] : []),
    ...(o.settings.testImages !== undefined ? ['--test-images', String(o.settings.testImages)] : []),
    ...(opts.boundsChecks === false ? ['--no-bounds-checks'] : []), ...(opts.autotune === false ? ['--no-autotune'] : []),
    ...(opts.export ? ['--export', opts.export] : []), ...(part.cell ? ['--cell', part.cell] : []),
    // What is the same for every seed runs in the part of the run's first seed only (in none with --no-seed-independent).
    ...(part.seed !== opts.seed || opts.seedIndependent === false ? ['--no-seed-independent'] : []),
    ...(manifest ? ['--resume'] : []),
  ];
  o.say(`${part.label}: ${manifest ? 'resuming' : 'starting'} in ${part.folder}`);
  // Its own process group: a terminal's Ctrl-C reaches this process, which passes it on once.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const tail: string[] = [];
  const relay = (stream: NodeJS.ReadableStream, isErr: boolean) => {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) emit(line, isErr);
    });
    stream.on('end', () => {
      if (pending) emit(pending, isErr);
    });
  };
  const emit = (line: string, isErr: boolean) => {
    if (!line.trim()) return;
    if (isErr) {
      tail.push(line);
      if (tail.length > 5) tail.shift();
    }
    (opts.json || isErr ? process.stderr : process.stdout).write(`[${part.label}] ${line}\n`);
  };
  relay(child.stdout!, false);
  relay(child.stderr!, true);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('error', (error) => {
      tail.push(error.message);
      done({ code: null, signal: null });
    });
    child.on('close', (c, s) => done({ code: c, signal: s }));
  });
  running.delete(child);

  const report = readReport(part.folder);
  const results = report?.results ?? [];
  const skipped = relabel(report?.skipped ?? [], part);
  const interrupted = code === 130 || (signal !== null && o.signal.aborted);
  if (!interrupted && code !== 0 && results.length === 0 && skipped.length === 0) {
    const why = tail.map((l) => l.replace(/^shaderprop: /, '')).filter((l) => !/^\s+at /.test(l)).slice(-2).join(' ');
    skipped.push({ id: part.label, reason: `its process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${why ? `: ${why}` : ''}` });
  }
  if (!interrupted && code !== 0) o.say(`${part.label}: FAILED (exit ${code ?? signal})`);
  return { part, results, skipped, adapter: report?.adapter && report.adapter !== '—' ? report.adapter : null, interrupted };
}

/** A part's "could not run" entries, named by the part ("s003-1nn seed 2"). */
function relabel(skipped: { id: string; reason: string }[], part: Part): { id: string; reason: string }[] {
  return skipped.map((s) => ({ id: s.id === part.experiment.id ? part.label : `${part.label}: ${s.id}`, reason: s.reason }));
}


/** Every part's results, a sweep's cells merged per seed into one result, in the order of the parts. */
export function mergeOutcomes(
  outcomes: readonly PartOutcome[], mergeSweepParts: (e: SweepExperiment, parts: readonly SweepResult[]) => SweepResult,
): { results: ExperimentResult[]; skipped: { id: string; reason: string }[]; adapter: string | null } {
  const results: ExperimentResult[] = [];
  const sweeps = new Map<string, { experiment: SweepExperiment; parts: SweepResult[] }>();
  for (const { part, results: rs } of outcomes) {
    for (const r of rs) {
      if (r.kind === 'sweep' && part.experiment.kind === 'sweep') {
        const key = `${r.id}\u0000${r.seed}`;
        const entry = sweeps.get(key) ?? { experiment: part.experiment, parts: [] };
        entry.parts.push(r);
        sweeps.set(key, entry);
      } else {
        results.push(r);
      }
    }
  }
  for (const { experiment, parts } of sweeps.values()) results.push(mergeSweepParts(experiment, parts));
  return {
    results,
    skipped: outcomes.flatMap((x) => x.skipped),
    adapter: outcomes.map((x) => x.adapter).find((a) => a !== null) ?? null,
  };
}

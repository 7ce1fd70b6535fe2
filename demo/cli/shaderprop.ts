/**
 * The `shaderprop` command line: every assignment experiment by its id.
 *
 *   shaderprop list [--json]
 *   shaderprop run <id|prefix*>... [--quick] [--epochs N] [--data PATH] [--test PATH] [--out DIR] [--seed N] [--seeds N] [--jobs N] [--no-seed-independent]
 *                  [--json] [--resume] [--lr RATE] [--batch-size N] [--train-images N] [--test-images N]
 *                  [--export safetensors,tfjs] [--cell NAME...]
 *   shaderprop train --model model.json --data PATH [--test PATH] [--epochs N] [--batch-size N] [--lr R] [--optimizer sgd|adam] [--out DIR]
 *   shaderprop bench <id|prefix*>... [--batch N...] [--seconds S] [--tfjs [BACKENDS]] [--json]
 *
 * `run` trains each id on this machine's WebGPU adapter, evaluates it on the
 * MNIST test set and writes a report folder (index.html, pictures, report.json,
 * checkpoints). --seeds N trains each id with seeds seed, seed+1, ... and
 * reports their spread; --jobs N runs ids, seeds and sweep cells in N child
 * processes of this command at once (./jobs.ts). MNIST comes from --data, else MNIST_DIR, else ../shared/mnist,
 * else it is downloaded (SHA-256 checked) into ~/.cache/shaderprop/mnist.
 * `bench` measures training and inference samples/s of each model on random
 * MNIST-shaped data (src/experiments/bench.ts), optionally beside the same
 * model in TensorFlow.js (bench/tfjs.ts, a development dependency).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { Callback } from '../../src/model/history.js';
import type { Experiment } from '../../src/experiments/registry.js';
import { acquireLock, clearFolder, inspectFolder, makeFolder, MANIFEST_FILE, newestRun, readReport, removeIfEmpty, RunFolderError, type RunManifest } from './run-folder.js';
import type { ExperimentResult, RunReport } from '../../src/experiments/result.js';
import { applyConventions } from './conventions.js';
import { loadLibrary, type Library } from './library.js';
import { isIdxFolder, loadOwnImages, pngHint } from './own-data.js';
import { train, type TrainOptions } from './train.js';
import { runJobs } from './jobs.js';
import { describeReported, describeSpread, seedSpread, type SeedSpread } from '../../src/experiments/seeds.js';

// The library loads in a preAction hook, once a command runs (./library.ts).
let {
  createRuntime, DeviceLostError, loadMnist, EXPERIMENTS, selectExperiments, describeQuick, runExperiment, ResumeMismatchError, RunInterruptedError,
  markdownSummary, pointsDifference, writeReport, withSettings, limitImages, ignoredByClassic, parseExportFormats, exportTrained,
} = {} as Library;

// `shaderprop list | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** The progress bar on screen, for restoreTerminal. */
let activeBar: cliProgress.SingleBar | undefined;

const program = new Command('shaderprop')
  .description('Neural-network training on WebGPU: the MNIST assignment experiments by id.')
  .showHelpAfterError();

program
  .command('list')
  .description('list every experiment id with its description and the notebook\'s number')
  .option('--json', 'one JSON array on stdout')
  .action((opts: { json?: boolean }) => list(!!opts.json));

program
  .command('run')
  .description('train, evaluate and report experiments; ids or prefixes ending in * (e.g. s002-*)')
  .argument('<ids...>', 'experiment ids, or prefixes ending in *')
  .option('--quick', 'fewer samples and epochs (every id in about a minute on a CPU); said on every line')
  .addOption(new Option('--epochs <n>', 'epochs (overrides the entry and --quick)').argParser(positiveInt))
  .option('--data <path>', 'folder with the MNIST IDX files (default: MNIST_DIR, ../shared/mnist, or download); or your own 28×28 images, 10 classes: ' +
    'an .npz, images.npy,labels.npy, a .csv, or a folder of PNGs with a sub-folder per class')
  .option('--test <path>', 'with your own --data: the test set (default: the .npz\'s x_test/y_test, else a random sixth held out)')
  .option('--label-column <name|index>', 'with a .csv: the label column, by header name or 0-based index (default: \'label\', else the first)')
  .option('--out <dir>', 'report folder (default: runs/<date-time>)')
  .addOption(new Option('--seed <n>', 'seed for initialisation and shuffling').argParser(nonNegativeInt).default(1))
  .addOption(new Option('--seeds <n>', 'train each id with N seeds (--seed, --seed+1, ...) and report mean, standard deviation and range').argParser(positiveInt).default(1))
  .addOption(new Option('--jobs <n>', 'run ids, seeds and sweep cells in N processes at once, each in its own folder under --out/parts; the report is merged').argParser(positiveInt).default(1))
  .option('--cell <names...>', 'run only these cells of a sweep (by name, as the report shows them)')
  // Also given to the parts of a run in parts (--jobs) whose seed is not the run's first.
  .addOption(new Option('--no-seed-independent', 'leave out what gives the same result for every seed (s003-1nn on all of MNIST)'))
  .option('--json', 'one JSON object per finished id on stdout; progress goes to stderr')
  .option('--resume', 'continue the run in --out (default: the newest folder under runs/) with its settings')
  .option('--force', 'replace the run already in --out (its files are deleted first)')
  .option('--no-bounds-checks', 'compile shaders without Dawn\'s bounds checks (Node; faster, see docs/benchmarks.md)')
  .option('--no-autotune', 'take a fixed kernel choice per adapter kind instead of timing the variants (see docs/benchmarks.md)')
  .addOption(new Option('--lr <rate>', 'learning rate of every run (the initial one of a decaying schedule)').argParser(positiveNumber))
  .addOption(new Option('--batch-size <n>', 'batch size of every run').argParser(positiveInt))
  .addOption(new Option('--train-images <n>', 'train on the first N MNIST training images (before the validation split)').argParser(positiveInt))
  .addOption(new Option('--test-images <n>', 'evaluate on the first N MNIST test images').argParser(positiveInt))
  .option('--export <formats>', 'also write each trained model as safetensors and/or tfjs (TensorFlow.js Layers), comma-separated, beside its checkpoints')
  .action(run);

program
  .command('train')
  .description('train a model described by a Keras / TensorFlow.js Layers model.json on your own data; write it to --out')
  .requiredOption('--model <model.json>', 'the architecture: the model.json that model.export(\'tfjs\', …) writes (fresh weights)')
  .requiredOption('--data <path>', 'training data: an .npz, images.npy,labels.npy, a .csv or a folder of PNGs with a sub-folder per class')
  .option('--test <path>', 'test data, evaluated after training (default: the .npz\'s x_test/y_test, if any)')
  .addOption(new Option('--epochs <n>', 'epochs').argParser(positiveInt).default(5))
  .addOption(new Option('--batch-size <n>', 'batch size').argParser(positiveInt).default(32))
  .addOption(new Option('--lr <rate>', 'learning rate (default: 0.01 for sgd, 0.001 for adam)').argParser(positiveNumber))
  .addOption(new Option('--optimizer <name>', 'optimizer').choices(['sgd', 'adam']).default('sgd'))
  .option('--label-column <name|index>', 'with a .csv: the label column, by header name or 0-based index (default: \'label\', else the first)')
  .addOption(new Option('--seed <n>', 'seed for initialisation and shuffling').argParser(nonNegativeInt).default(1))
  .option('--out <dir>', 'where model.ckpt, model.safetensors, tfjs/ and train.json go (default: runs/train-<date-time>)')
  .option('--json', 'train.json\'s content as one JSON line on stdout; progress goes to stderr')
  .action(async (opts: Omit<TrainOptions, 'out'> & { out?: string }) => {
    const out = resolve(opts.out ?? join('runs', `train-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`));
    const say = (line: string) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
    const summary = await train({ ...opts, out }, say);
    if (opts.json) console.log(JSON.stringify(summary));
  });

program
  .command('bench')
  .description('training and inference samples/s of models on this adapter (random MNIST-shaped data)')
  .argument('<ids...>', 'ids of neural models, or prefixes ending in * (e.g. s001-*)')
  .addOption(new Option('--batch <n...>', 'batch sizes (default: each model\'s own)').argParser(collectPositiveInts))
  .addOption(new Option('--seconds <s>', 'minimum length of each timed pass').argParser(positiveNumber).default(3))
  .addOption(new Option('--rounds <n>', 'rounds of measurements, the models (and TensorFlow.js) interleaved; the median is reported').argParser(positiveInt).default(3))
  .option('--tfjs [backends]', 'the same models in TensorFlow.js too: comma-separated backends of webgpu, wasm, cpu (default all three)')
  .option('--json', 'one JSON line per id and batch on stdout')
  .option('--no-bounds-checks', 'compile shaders without Dawn\'s bounds checks (Node; faster, see docs/benchmarks.md)')
  .option('--no-autotune', 'take a fixed kernel choice per adapter kind instead of timing the variants (see docs/benchmarks.md)')
  .action(bench);

program.hook('preAction', async () => {
  ({
    createRuntime, DeviceLostError, loadMnist, EXPERIMENTS, selectExperiments, describeQuick, runExperiment, ResumeMismatchError, RunInterruptedError,
    markdownSummary, pointsDifference, writeReport, withSettings, limitImages, ignoredByClassic, parseExportFormats, exportTrained,
  } = await loadLibrary());
});
applyConventions(program);

try {
  await program.parseAsync();
} catch (error) {
  // A missing data folder, no adapter, a lost device: the message says what is
  // wrong and what to do, so it is printed alone. The stack is for bugs: a
  // TypeError and the like always get it, anything with SHADERPROP_DEBUG=1.
  const bug = error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError;
  if (bug || !(error instanceof Error)) console.error('shaderprop: unexpected error:', error);
  else if (process.env.SHADERPROP_DEBUG) console.error('shaderprop:', error);
  else console.error(`shaderprop: ${error.message}`);
  process.exitCode = bug ? 70 : 1;
}

// ---------------------------------------------------------------------------

/** --no-bounds-checks turns them off; without it SHADERPROP_BOUNDS_CHECKS decides (on unless 0). */
function runtimeOptions(opts: { boundsChecks: boolean; autotune?: boolean }): { boundsChecks?: false; autotune?: false } {
  return { ...(opts.boundsChecks === false ? { boundsChecks: false } : {}), ...(opts.autotune === false ? { autotune: false } : {}) };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

function collectPositiveInts(value: string, previous: number[] | undefined): number[] {
  const values = value.split(',').map((part) => positiveInt(part.trim()));
  return [...(previous ?? []), ...values];
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer ≥ 0.');
  return n;
}

function list(json: boolean): void {
  if (json) {
    console.log(JSON.stringify(EXPERIMENTS.map((e) => ({
      id: e.id, kind: e.kind, notebook: e.notebook, title: e.title, reported: e.reported, reported_text: e.reportedText,
      ...(e.kind === 'sweep' ? { cells: e.cells.length } : {}),
    })), null, 2));
    return;
  }
  const width = Math.max(...EXPERIMENTS.map((e) => e.id.length));
  console.log(`  ${'id'.padEnd(width)}  notebook  experiment (notebook: the test accuracy it reported)`);
  let notebook = '';
  for (const e of EXPERIMENTS) {
    if (e.notebook !== notebook) {
      notebook = e.notebook;
      console.log(`\n${notebook}`);
    }
    const tag = e.kind === 'sweep' ? ` [sweep, ${e.cells.length} runs]` : e.kind === 'classic' ? ' [classic]' : '';
    console.log(`  ${e.id.padEnd(width)}  ${String(e.reported ?? '—').padEnd(8)}  ${e.title}${tag}`);
  }
}

interface RunOptions {
  quick?: boolean;
  epochs?: number;
  data?: string;
  test?: string;
  labelColumn?: string;
  out?: string;
  seed: number;
  seeds: number;
  jobs: number;
  cell?: string[];
  /** false with --no-seed-independent. */
  seedIndependent: boolean;
  json?: boolean;
  resume?: boolean;
  force?: boolean;
  /** false with --no-bounds-checks. */
  boundsChecks: boolean;
  /** false with --no-autotune. */
  autotune?: boolean;
  lr?: number;
  batchSize?: number;
  trainImages?: number;
  testImages?: number;
  export?: string;
}

async function run(patterns: string[], opts: RunOptions, command: Command): Promise<void> {
  const settings = { learningRate: opts.lr, batchSize: opts.batchSize, trainImages: opts.trainImages, testImages: opts.testImages };
  let experiments: Experiment[];
  let exportFormats: ReturnType<typeof parseExportFormats>;
  try {
    exportFormats = parseExportFormats(opts.export);
    experiments = selectExperiments(patterns).map((e) => withSettings(e, settings));
  } catch (error) {
    fail((error as Error).message);
  }
  if (opts.resume && opts.force) fail('--resume continues the run in --out and --force replaces it: give one of them.');
  // With --json, stdout carries only the JSON lines.
  const say = (line: string) => {
    const [, gap, text] = /^(\n*)([\s\S]*)$/.exec(line)!;
    (opts.json ? process.stderr : process.stdout).write(`${gap}${opts.quick ? '[quick] ' : ''}${text}\n`);
  };

  // The run folder: owned by this process (its lock) and holding one run.
  let outDir: string;
  if (opts.out) outDir = resolve(opts.out);
  else if (opts.resume) {
    const newest = newestRun('runs');
    if (!newest) fail('--resume: no earlier run under runs/ to continue; give --out DIR of the run to resume.');
    outDir = resolve(newest);
    say(`resuming the newest run: ${relativeOrAbsolute(outDir)}`);
  } else outDir = resolve(join('runs', new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)));
  const created = makeFolder(outDir);
  const release = acquireLock(outDir, say);
  const cleanUp = () => {
    release();
    if (created) removeIfEmpty(outDir);
  };
  try {
    await runIn(outDir, experiments, opts, command, say, settings, exportFormats);
  } finally {
    cleanUp();
  }
}

async function runIn(outDir: string, experiments: Experiment[], opts: RunOptions, command: Command, say: (line: string) => void,
  settings: Parameters<typeof withSettings>[1], exportFormats: ReturnType<typeof parseExportFormats>): Promise<void> {
  const { kind, manifest: previous } = inspectFolder(outDir);
  const shown = relativeOrAbsolute(outDir);
  // Ctrl-C (SIGINT) or SIGTERM: training stops after the steps under way, last.ckpt keeps them, and the
  // command says how to resume. A second one ends the process at once (the checkpoints of finished epochs stay).
  const controller = new AbortController();
  let signalled: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    restoreTerminal();
    if (signalled) {
      process.stderr.write(`\nshaderprop: ${signal} again: stopping now; resume from the last finished epoch with --resume --out ${shown}\n`);
      process.exit(130);
    }
    signalled = signal;
    process.stderr.write(`\nshaderprop: ${signal}: stopping after the current steps and writing last.ckpt (again to stop at once)…\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (kind === 'run' && !opts.resume && !opts.force) {
    const state = previous ? (previous.finished ? 'a finished run' : 'an interrupted run') : 'a run';
    const ids = previous ? ` of ${previous.ids.join(', ')}` : '';
    throw new RunFolderError(`${shown} holds ${state}${ids}. Use --resume to continue it, --force to replace it, or another --out.`);
  }
  if (kind === 'other' && !opts.force) {
    throw new RunFolderError(`${shown} is not empty and holds no shaderprop run; give a new or empty --out (or --force to write into it).`);
  }
  if (opts.resume && kind !== 'run') throw new RunFolderError(`--resume: ${shown} holds no run to continue; run without --resume to start one there.`);
  if (opts.force && kind === 'run') {
    clearFolder(outDir);
    say(`--force: removed the earlier run in ${shown}`);
  }

  // A resume takes the run's settings; one given that differs is refused (more epochs extend it).
  if (opts.resume && previous) {
    if (opts.quick === undefined && previous.quick) {
      opts.quick = true;
    } else if (!!opts.quick !== previous.quick) {
      throw new RunFolderError(`--resume: ${shown} holds a ${previous.quick ? 'quick (--quick)' : 'full-size'} run; resume it ${previous.quick ? 'with' : 'without'} --quick, or start a new run with another --out.`);
    }
    if (command.getOptionValueSource('seed') === 'default') opts.seed = previous.seed;
    else if (opts.seed !== previous.seed) {
      throw new RunFolderError(`--resume: ${shown} holds a run with seed ${previous.seed}; resume it with --seed ${previous.seed} (or without --seed), or start a new run with another --out.`);
    }
    const previousSeeds = previous.seeds ?? 1;
    if (command.getOptionValueSource('seeds') === 'default') opts.seeds = previousSeeds;
    else if (opts.seeds < previousSeeds) {
      throw new RunFolderError(`--resume: ${shown} holds a run of ${previousSeeds} seeds; --seeds ${opts.seeds} would drop some. Give --seeds ${previousSeeds} or more.`);
    }
    // A run in parts (--jobs) keeps each part in its own folder: it resumes in parts, a run in one process in one.
    const previousParts = (previous.jobs ?? 1) > 1;
    if (command.getOptionValueSource('jobs') === 'default') opts.jobs = previous.jobs ?? 1;
    else if ((opts.jobs > 1) !== previousParts) {
      throw new RunFolderError(previousParts
        ? `--resume: ${shown} holds a run in parts (--jobs ${previous.jobs}); resume it with --jobs 2 or more (or without --jobs).`
        : `--resume: ${shown} holds a run made in one process; resume it without --jobs, or start a new run with another --out.`);
    }
    if (opts.epochs === undefined && previous.epochs !== null) opts.epochs = previous.epochs;
    else if (opts.epochs !== undefined && previous.epochs !== null && opts.epochs < previous.epochs) {
      throw new RunFolderError(`--resume: ${shown} holds a run of ${previous.epochs} epochs; --epochs ${opts.epochs} would cut it short. Give --epochs ${previous.epochs} or more.`);
    }
    // What the run was made without stays off (the command may turn it off, not back on: that is a new run).
    if (previous.autotune === false) opts.autotune = false;
    if (previous.boundsChecks === false) opts.boundsChecks = false;
    if (previous.seedIndependent === false) opts.seedIndependent = false;
    const given = [opts.quick ? '--quick' : '', `--seed ${opts.seed}`, opts.seeds > 1 ? `--seeds ${opts.seeds}` : '', opts.jobs > 1 ? `--jobs ${opts.jobs}` : '',
      opts.epochs ? `--epochs ${opts.epochs}` : '', opts.autotune === false ? '--no-autotune' : '', opts.boundsChecks === false ? '--no-bounds-checks' : '',
      opts.seedIndependent === false ? '--no-seed-independent' : ''].filter(Boolean).join(' ');
    say(`resuming with the run's settings: ${given}`);
  }

  const ids = experiments.map((e) => e.id);
  const manifest: RunManifest = {
    format: 1, ids: [...(opts.resume && previous ? previous.ids.filter((id) => !ids.includes(id)) : []), ...ids],
    quick: !!opts.quick, seed: opts.seed, epochs: opts.epochs ?? null,
    ...(opts.seeds > 1 ? { seeds: opts.seeds } : {}), ...(opts.jobs > 1 ? { jobs: opts.jobs } : {}),
    ...(opts.autotune === false || process.env.SHADERPROP_AUTOTUNE === '0' ? { autotune: false as const } : {}),
    ...(opts.boundsChecks === false || process.env.SHADERPROP_BOUNDS_CHECKS === '0' ? { boundsChecks: false as const } : {}),
    ...(opts.seedIndependent === false ? { seedIndependent: false as const } : {}),
    started: opts.resume && previous ? previous.started : new Date().toISOString(), finished: false,
    command: ['shaderprop', 'run', ...process.argv.slice(3)].join(' '),
  };
  const writeManifest = () => writeFile(join(outDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));

  const report: RunReport = {
    started: new Date().toISOString(),
    command: ['shaderprop', 'run', ...process.argv.slice(3)].join(' '),
    adapter: '—', quick: !!opts.quick, results: [], skipped: [], settings,
  };
  // A resume keeps the results of the run's other ids.
  const earlier = opts.resume ? readReport(outDir) : null;
  const others = earlier
    ? {
      results: earlier.results.filter((r) => !ids.includes(r.id)), skipped: earlier.skipped.filter((r) => !ids.includes(idOfLabel(r.id))),
      // Recomputed, so a report written by an earlier version reads the notebook's number as this one does.
      spreads: (earlier.spreads ?? []).filter((s) => !ids.includes(s.id)).map((s) => seedSpread(s.results)),
    }
    : { results: [], skipped: [], spreads: [] };
  const spreads: SeedSpread[] = [];
  // report.json and summary.md (the summary table, for pasting) beside index.html, rewritten after every id (every seed).
  let wroteAny = false;
  const written = async () => {
    wroteAny = true;
    const allSpreads = [...others.spreads, ...spreads];
    const all: RunReport = {
      ...report, results: [...others.results, ...report.results], skipped: [...others.skipped, ...report.skipped],
      ...(allSpreads.length > 0 ? { spreads: allSpreads } : {}),
    };
    await writeFile(join(outDir, 'report.json'), JSON.stringify(all));
    await writeFile(join(outDir, 'summary.md'), markdownSummary(all));
    return writeReport(outDir, all);
  };
  /** Records one more finished seed of `id`: its first seed stands in `results`, all of them in its spread. */
  const record = (id: string, seedResults: ExperimentResult[]) => {
    const at = report.results.findIndex((r) => r.id === id);
    if (at >= 0) report.results[at] = seedResults[0]!;
    else report.results.push(seedResults[0]!);
    if (opts.seeds > 1) {
      const spread = seedSpread(seedResults);
      const s = spreads.findIndex((x) => x.id === id);
      if (s >= 0) spreads[s] = spread;
      else spreads.push(spread);
    }
  };

  if (opts.jobs > 1) {
    // Parts in child processes, each owning its folder under parts/; this process merges their reports.
    await writeManifest();
    const merged = await runJobs({
      outDir, experiments, opts, settings, say, signal: controller.signal,
      ...(opts.data ? { dataDir: resolve(opts.data) } : {}),
      write: async (results, skipped, adapter) => {
        report.results.length = 0;
        spreads.length = 0;
        report.skipped = skipped;
        if (adapter) report.adapter = adapter;
        for (const id of ids) {
          const mine = results.filter((r) => r.id === id).sort((a, b) => a.seed - b.seed);
          if (mine.length > 0) record(id, mine);
        }
        return written();
      },
    });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const r of report.results) {
      const spread = spreads.find((s) => s.id === r.id);
      say(`${r.id}: test accuracy ${spread ? describeSpread(spread) : r.test.accuracy.toFixed(4)}; ${r.reported === null ? 'notebook: —' : `notebook ${r.reported}`}`);
      if (opts.json) {
        for (const x of spread ? spread.results : [r]) console.log(JSON.stringify(jsonLine(x, join(outDir, 'index.html'))));
        if (spread) console.log(JSON.stringify(spreadLine(spread)));
      }
    }
    if (merged.interrupted) {
      process.stderr.write(`shaderprop: stopped by ${signalled ?? 'a signal'}. Resume with:\n  shaderprop run ${manifest.ids.join(' ')} --resume --out ${shown}\n`);
      process.exitCode = 130;
      return;
    }
    if (report.skipped.length > 0) process.exitCode = 1;
    manifest.finished = true;
    await writeManifest();
    say(`\nreport: ${relativeOrAbsolute(join(outDir, 'index.html'))}`);
    return;
  }

  const dataDir = opts.data ?? process.env.MNIST_DIR ?? (existsSync('../shared/mnist') ? resolve('../shared/mnist') : undefined);
  // Your own data (an .npz, .npy pair, .csv or PNG folder) rather than MNIST's IDX files.
  const ownData = opts.data !== undefined && !isIdxFolder(opts.data);
  if (opts.test && !ownData) throw new Error('--test goes with your own --data (an .npz, images.npy,labels.npy, a .csv or a PNG folder); MNIST has its own test set.');
  let own: Awaited<ReturnType<typeof loadOwnImages>> | undefined;
  if (ownData) own = await loadOwnImages(opts.data!, opts.test, { seed: opts.seed, ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn } : {}) });
  const rt = await createRuntime(runtimeOptions(opts));
  report.adapter = rt.boundsChecks ? rt.adapter.name : `${rt.adapter.name}, no bounds checks`;
  say(`adapter: ${rt.adapter.name}${rt.adapter.description ? ` (${rt.adapter.description})` : ''}${rt.boundsChecks ? '' : ', no bounds checks'}` +
    `${rt.tuner.options.autotune ? '' : ', a fixed kernel choice (no autotuning)'}`);
  let mnist: Awaited<ReturnType<typeof loadMnist>>;
  try {
    mnist = limitImages(own ? own.data : await loadMnist(dataDir ? { dir: dataDir } : { download: { log: say } }), settings);
  } catch (error) {
    rt.destroy();
    // The folder's own message advises MNIST_DIR; --data is what this command was given.
    const message = (error as Error).message;
    throw new Error(opts.data ? `--data ${opts.data}: ${message.replace(/ and point MNIST_DIR( \(or loadMnist's dir option\))? at it\.?$/, ' and give that folder as --data.')}${pngHint(opts.data)}` : message);
  }
  await writeManifest();
  if (own) say(`data: ${own.description}${mnist.train.count < own.data.train.count || mnist.test.count < own.data.test.count ? `; using ${mnist.train.count} train, ${mnist.test.count} test` : ''}`);
  else say(`MNIST: ${mnist.train.count} train, ${mnist.test.count} test images${dataDir ? ` from ${dataDir}` : ''}`);

  // A resume of several seeds keeps the seeds that finished (unless --epochs extends them); the others continue.
  const extending = !!opts.resume && previous !== null && opts.epochs !== undefined && previous.epochs !== opts.epochs;
  const finishedSeeds = (id: string): Map<number, ExperimentResult> => {
    if (!earlier || opts.seeds < 2 || extending) return new Map();
    const spread = earlier.spreads?.find((s) => s.id === id);
    return new Map((spread ? spread.results : earlier.results.filter((r) => r.id === id)).map((r) => [r.seed, r]));
  };

  try {
    for (const experiment of experiments) {
      const cells = experiment.kind === 'sweep' ? `, a sweep of ${experiment.cells.length} runs` : '';
      const quickText = opts.quick ? ` (${describeQuick(experiment, opts.epochs)})` : '';
      const seedsText = opts.seeds > 1 ? `, seeds ${opts.seed}–${opts.seed + opts.seeds - 1}` : '';
      say(`\n${experiment.id}: ${experiment.title}${cells}${seedsText}${quickText}`);
      if (experiment.kind === 'classic' && (opts.epochs || opts.resume)) {
        const flags = [opts.epochs ? '--epochs' : '', opts.resume ? '--resume' : ''].filter(Boolean);
        say(`${experiment.id}: ${flags.join(' and ')} ${flags.length === 1 ? 'applies' : 'apply'} to the neural models only; ` +
          'a classic baseline runs whole, with its own settings.');
      }
      const ignored = experiment.kind === 'classic' ? [...ignoredByClassic(settings), ...(exportFormats.length > 0 ? ['--export'] : [])] : [];
      if (ignored.length > 0) say(`${experiment.id}: ${ignored.join(' and ')} ${ignored.length === 1 ? 'applies' : 'apply'} to the neural models only.`);
      const done = finishedSeeds(experiment.id);
      const seedResults: ExperimentResult[] = [];
      for (let k = 0; k < opts.seeds; k++) {
        const seed = opts.seed + k;
        const label = opts.seeds > 1 ? seedLabel(experiment.id, seed) : experiment.id;
        const kept = done.get(seed);
        if (kept) {
          say(`${label}: finished in the run resumed; its result is kept (test accuracy ${kept.test.accuracy.toFixed(4)})`);
          seedResults.push(kept);
          record(experiment.id, seedResults);
          continue;
        }
        // Each seed has its own folder when there are several.
        const dir = opts.seeds > 1 ? join(outDir, experiment.id, `seed-${seed}`) : join(outDir, experiment.id);
        let result: ExperimentResult;
        try {
          if (controller.signal.aborted) throw new RunInterruptedError(label, null, 'before it started');
          result = await runExperiment(experiment, {
            // What is the same for every seed runs with the run's first seed only.
            runtime: rt, mnist, seed, dir, seedIndependent: opts.seedIndependent && seed === opts.seed,
            ...(opts.quick ? { quick: true } : {}), ...(opts.epochs ? { epochs: opts.epochs } : {}),
            ...(opts.resume ? { resume: true } : {}), ...(opts.cell ? { cells: opts.cell } : {}),
            callbacks: (run) => [progress(opts.seeds > 1 ? { ...run, id: label } : run, say, !opts.json && !!process.stdout.isTTY, !!opts.quick)],
            log: say, signal: controller.signal,
          });
        } catch (error) {
          // One id failing (a buffer limit of this adapter, say) does not lose the others' results;
          // a lost device or an interruption ends the run.
          if (error instanceof DeviceLostError || error instanceof RunInterruptedError || error instanceof ResumeMismatchError) throw error;
          const reason = (error as Error).message;
          say(`${label}: FAILED — ${reason}`);
          report.skipped.push({ id: label, reason });
          process.exitCode = 1;
          await written();
          continue;
        }
        seedResults.push(result);
        record(experiment.id, seedResults);
        const reported = result.reported === null ? 'notebook: —' : `notebook ${result.reported}, difference ${pointsDifference(result.test.accuracy, result.reported)} points`;
        const best = result.kind === 'sweep'
          ? ` (best cell: ${result.best}${result.cellsNotRun ? `, of ${result.cells.length} of the ${result.cells.length + result.cellsNotRun.length} cells` : ''})`
          : '';
        const loss = result.test.loss === null ? '' : `, loss ${result.test.loss.toFixed(4)}`;
        say(`${label}: test accuracy ${result.test.accuracy.toFixed(4)}${loss}${best}; ${reported}; ${result.seconds.toFixed(1)} s`);
        const exportAs = opts.seeds > 1 ? { ...experiment, id: join(experiment.id, `seed-${seed}`) } : experiment;
        for (const path of await exportTrained(exportAs, result, outDir, exportFormats, rt)) say(`${label}: exported ${relativeOrAbsolute(path)}`);
        if (opts.json) console.log(JSON.stringify(jsonLine(result, join(outDir, 'index.html'))));
        await written();
      }
      const spread = spreads.find((s) => s.id === experiment.id);
      if (spread) {
        const inside = spread.reported === null ? '' : `; the ${describeReported(spread.reported)} is ${spread.notebookInRange ? 'inside' : 'outside'} the seeds' range`;
        say(`${experiment.id}: ${describeSpread(spread)}${inside}`);
        if (opts.json) console.log(JSON.stringify(spreadLine(spread)));
      }
    }
  } catch (error) {
    rt.destroy();
    if (!(error instanceof RunInterruptedError)) throw error;
    restoreTerminal();
    if (wroteAny) await written();
    say(`\n${error.message}`);
    process.stderr.write(`shaderprop: stopped by ${signalled ?? 'a signal'}. Resume with:\n  shaderprop run ${manifest.ids.join(' ')} --resume --out ${shown}\n`);
    process.exitCode = 130;
    return;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  rt.destroy();
  const { index } = await written();
  manifest.finished = true;
  await writeManifest();
  say(`\nreport: ${relativeOrAbsolute(index)}`);
}

/** "s001-softmax seed 2": how a seed's run is named in messages and under "Could not run". */
function seedLabel(id: string, seed: number): string {
  return `${id} seed ${seed}`;
}

/** The id of a label ("s001-softmax seed 2" → "s001-softmax"; "s003-opt [adam lr=0.001] seed 1" → "s003-opt"). */
function idOfLabel(label: string): string {
  return label.split(' ')[0]!;
}

/** The --json line of one id's seed spread (after its seeds' own lines). */
function spreadLine(s: SeedSpread): Record<string, unknown> {
  return {
    id: s.id, kind: 'seeds', seeds: s.seeds, test_accuracies: s.accuracies, mean: s.mean, sd: s.sd, min: s.min, max: s.max,
    reported: s.reported, reported_interval: s.reportedInterval, notebook_in_range: s.notebookInRange, notebook_within_two_sd: s.notebookWithinTwoSd,
  };
}


/** Shows the cursor and turns line wrap back on (a progress bar hides the one and turns off the other). */
function restoreTerminal(): void {
  activeBar?.stop();
  activeBar = undefined;
  if (process.stdout.isTTY) process.stdout.write('\x1b[?25h\x1b[?7h');
}

/** The --json line of one finished id. */
function jsonLine(r: ExperimentResult, report: string): Record<string, unknown> {
  if (r.kind === 'classic') {
    return {
      id: r.id, kind: r.kind, test_accuracy: r.test.accuracy, test_loss: r.test.loss, test_errors: r.test.errors, reported: r.reported,
      difference: r.reported === null ? null : r.test.accuracy - r.reported,
      train_samples: r.trainSamples, test_samples: r.testSamples, seconds: r.seconds, timings: r.timings,
      ...(r.steps ? { steps: r.steps.step.length } : {}),
      ...(r.evaluations ? { evaluations: r.evaluations.map((e) => ({ name: e.name, train_samples: e.trainSamples, test_samples: e.testSamples, accuracy: e.accuracy, errors: e.errors, seconds: e.seconds })) } : {}),
      adapter: r.adapter, quick: r.quick, seed: r.seed, report,
    };
  }
  const run = r.kind === 'run' ? r : r.cells.find((c) => c.name === r.best)!.result;
  return {
    id: r.id, kind: r.kind, test_accuracy: r.test.accuracy, test_loss: r.test.loss, reported: r.reported,
    difference: r.reported === null ? null : r.test.accuracy - r.reported,
    epochs: run.epochs, train_samples: run.trainSamples, seconds: r.seconds, adapter: r.adapter, quick: r.quick, seed: r.seed,
    ...(r.kind === 'sweep' ? { best_cell: r.best, cells: r.cells.length, ...(r.cellsNotRun ? { cells_not_run: r.cellsNotRun } : {}) } : {}),
    ...(run.best ? { best_epoch: run.best.epoch + 1, best_test_accuracy: run.best.test.accuracy } : {}),
    report,
  };
}

/** A Keras-style progress bar per epoch on a TTY; a few plain lines per epoch otherwise. */
function progress(run: { id: string; cell?: string; epochs: number }, say: (line: string) => void, tty: boolean, quick: boolean): Callback {
  const label = run.cell ? `${run.id} [${run.cell}]` : run.id;
  let bar: cliProgress.SingleBar | undefined;
  let started = 0;
  let lastPlain = 0;
  return {
    onEpochBegin(epoch) {
      started = performance.now();
      lastPlain = 0;
      if (tty) {
        bar = new cliProgress.SingleBar({
          format: `${quick ? '[quick] ' : ''}${label} epoch ${epoch + 1}/${run.epochs} [{bar}] {value}/{total} ETA {eta_formatted} {rate} steps/s loss {loss} accuracy {accuracy}`,
          barsize: 24, hideCursor: true, clearOnComplete: true, etaBuffer: 20,
        }, cliProgress.Presets.legacy);
      }
    },
    onBatchEnd(epoch, logs) {
      const rate = ((logs.step / (performance.now() - started)) * 1000).toFixed(1);
      const payload = { loss: logs.loss.toFixed(4), accuracy: logs.accuracy.toFixed(4), rate };
      if (bar) {
        if (!bar.isActive) {
          bar.start(logs.steps, 0, payload);
          activeBar = bar;
        }
        bar.update(logs.step, payload);
      } else if (logs.step < logs.steps && logs.step - lastPlain >= logs.steps / 4) {
        lastPlain = logs.step;
        say(`${label} epoch ${epoch + 1}/${run.epochs} step ${logs.step}/${logs.steps}  ${rate} steps/s  loss ${payload.loss}  accuracy ${payload.accuracy}`);
      }
    },
    onEpochEnd(epoch, logs) {
      bar?.stop();
      bar = undefined;
      activeBar = undefined;
      const val = logs.val_loss !== undefined ? `  val_loss ${logs.val_loss.toFixed(4)}  val_accuracy ${logs.val_accuracy!.toFixed(4)}` : '';
      say(`${label} epoch ${epoch + 1}/${run.epochs}  ${logs.seconds.toFixed(1)} s  loss ${logs.loss.toFixed(4)}  accuracy ${logs.accuracy.toFixed(4)}${val}`);
    },
  };
}

function relativeOrAbsolute(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function fail(message: string): never {
  console.error(`shaderprop: ${message}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// bench

interface BenchOptions {
  batch?: number[];
  seconds: number;
  tfjs?: boolean | string;
  json?: boolean;
  /** false with --no-bounds-checks. */
  boundsChecks: boolean;
  /** false with --no-autotune. */
  autotune: boolean;
  rounds: number;
}

type TfjsModule = typeof import('../../bench/tfjs.js');

async function loadTfjs(): Promise<TfjsModule> {
  try {
    return await import('../../bench/tfjs.js');
  } catch (error) {
    throw new Error(`--tfjs needs TensorFlow.js, a development dependency of shaderprop: run \`npm ci\` in a clone (${String(error)}).`);
  }
}

async function bench(patterns: string[], opts: BenchOptions): Promise<void> {
  const { benchExperiment, formatRate: fmt, measureThroughput } = await import('../../src/experiments/bench.js');
  const backends = opts.tfjs === undefined || opts.tfjs === false ? [] : opts.tfjs === true ? ['webgpu', 'wasm', 'cpu'] : opts.tfjs.split(',').map((b) => b.trim());
  let ids: string[] = [];
  let tfjs: TfjsModule | null = null;
  try {
    ids = selectExperiments(patterns).map((e) => e.id);
    for (const id of ids) benchExperiment(id);
    for (const b of backends) {
      if (!['webgpu', 'wasm', 'cpu'].includes(b)) throw new Error(`Unknown TensorFlow.js backend '${b}' in --tfjs: use webgpu, wasm or cpu.`);
    }
    tfjs = backends.length > 0 ? await loadTfjs() : null;
  } catch (error) {
    fail((error as Error).message);
  }
  const rt = await createRuntime(runtimeOptions(opts));
  const log = (line: string) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`adapter: ${rt.adapter.name} (${rt.adapter.description})${rt.boundsChecks ? '' : ', no bounds checks'}; random MNIST-shaped data, ` +
    `passes of at least ${opts.seconds} s, ${opts.rounds} round${opts.rounds === 1 ? '' : 's'} (medians)`);
  type Other = { train_samples_per_s: number | null; infer_samples_per_s: number | null; reason?: string };
  const cells = ids.flatMap((id) => (opts.batch ?? [benchExperiment(id).train.batchSize]).map((batch) => ({
    id, batch, ours: [] as Awaited<ReturnType<typeof measureThroughput>>[], others: {} as Record<string, Other[]>,
  })));
  try {
    // Rounds interleave the cells (and each cell's peers), so that drift of the machine's clocks reaches every column alike.
    for (let round = 0; round < opts.rounds; round++) {
      for (const cell of cells) {
        const { id, batch } = cell;
        cell.ours.push(await measureThroughput(rt, id, { batch, seconds: opts.seconds }));
        for (const backend of backends) {
          const list = (cell.others[backend] ??= []);
          if (!tfjs!.TFJS_MODEL_IDS.includes(id as never)) {
            list.push({ train_samples_per_s: null, infer_samples_per_s: null, reason: `no TensorFlow.js twin of ${id} (bench/tfjs.ts has ${tfjs!.TFJS_MODEL_IDS.join(', ')})` });
            continue;
          }
          const b = backend as 'webgpu' | 'wasm' | 'cpu';
          const train = await tfjs!.tfjsMeasure('train', id, b, batch, opts.seconds);
          const infer = await tfjs!.tfjsMeasure('infer', id, b, batch, opts.seconds);
          const reason = [train, infer].map((m) => (m.samplesPerSecond === null ? m.reason : '')).filter(Boolean).join('; ');
          list.push({ train_samples_per_s: train.samplesPerSecond, infer_samples_per_s: infer.samplesPerSecond, ...(reason ? { reason } : {}) });
        }
      }
    }
    for (const { id, batch, ours: rounds, others: otherRounds } of cells) {
      const ours = { train: median(rounds.map((r) => r.train)), infer: median(rounds.map((r) => r.infer)) };
      const first = rounds[0]!;
      const others: Record<string, Other> = {};
      for (const [backend, list] of Object.entries(otherRounds)) {
        const trains = list.map((m) => m.train_samples_per_s).filter((v): v is number => v !== null);
        const infers = list.map((m) => m.infer_samples_per_s).filter((v): v is number => v !== null);
        const reason = list.find((m) => m.reason)?.reason;
        others[backend] = { train_samples_per_s: trains.length ? median(trains) : null, infer_samples_per_s: infers.length ? median(infers) : null, ...(reason ? { reason } : {}) };
      }
      if (opts.json) {
        console.log(JSON.stringify({
          id, batch, adapter: rt.adapter.name, bounds_checks: rt.boundsChecks, autotune: rt.tuner.options.autotune,
          train_samples_per_s: ours.train, infer_samples_per_s: ours.infer, rounds: rounds.length,
          train_rounds: rounds.map((r) => Math.round(r.train)), infer_rounds: rounds.map((r) => Math.round(r.infer)),
          // The first round's model started cold (its pipelines and kernel choices new to this process).
          startup_seconds: first.startupSeconds, tuning_seconds: first.tuningSeconds, dispatches_per_step: first.dispatchesPerStep,
          variants: first.variants,
          ...(backends.length > 0 ? { tfjs: others } : {}),
        }));
      }
      const parts = [`${id} batch ${batch}: train ${fmt(ours.train)} samples/s, infer ${fmt(ours.infer)} samples/s ` +
        `(start-up ${first.startupSeconds.toFixed(2)} s, ${first.dispatchesPerStep} dispatches per step)`];
      for (const [backend, m] of Object.entries(others)) {
        const ratio = m.train_samples_per_s ? ` (shaderprop ${fmt(ours.train / m.train_samples_per_s)}×)` : '';
        parts.push(`  tfjs-${backend}: train ${fmt(m.train_samples_per_s)}${ratio}, infer ${fmt(m.infer_samples_per_s)}${m.reason ? ` [${m.reason}]` : ''}`);
      }
      log(parts.join('\n'));
    }
  } finally {
    rt.destroy();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The run folder as a user meets it: one process owns it, a finished run is
 * continued only with --resume and replaced only with --force, a resume keeps
 * the run's settings, bare --resume finds an interrupted run, Ctrl-C leaves a
 * checkpoint and the command to resume. On small made-up MNIST files, so each
 * command takes seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClassicResult, RunReport, RunResult } from '../../src/experiments/result.js';
import { decodeCheckpoint } from '../../src/model/checkpoint.js';
import { writeFakeMnist } from '../data/fixtures.js';
import { runCli } from './run-cli.js';

let out: string;
let data: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'shaderprop-folder-'));
  data = join(out, 'mnist');
  mkdirSync(data);
  writeFakeMnist(data, { trainCount: 600, testCount: 60, rows: 28, cols: 28 });
});

const softmax = (dir: string, ...more: string[]) => ['run', 's001-softmax', '--quick', '--data', data, '--out', dir, ...more];
const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReport;
const meta = (file: string) => decodeCheckpoint(new Uint8Array(readFileSync(file)), file).header.meta;

/** Starts a run and sends `signal` once `marker` shows in its output. */
function interrupted(args: string[], marker: RegExp, signal: NodeJS.Signals, cwd?: string) {
  let sent = false;
  return runCli(args, {}, {
    ...(cwd ? { cwd } : {}),
    onOutput: (text, child) => {
      if (!sent && marker.test(text)) {
        sent = true;
        child.kill(signal);
      }
    },
  });
}

describe('a run folder holds one run', () => {
  it('--out onto a run needs --resume or --force; --force replaces it; a folder of other files is refused', async () => {
    const dir = join(out, 'taken');
    const first = await runCli(softmax(dir, '--epochs', '1', '--seed', '1'));
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ ids: ['s001-softmax'], quick: true, seed: 1, epochs: 1, finished: true });
    const again = await runCli(['run', 's002-ii', '--quick', '--epochs', '1', '--data', data, '--out', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/shaderprop: .*taken holds a finished run of s001-softmax\. Use --resume to continue it, --force to replace it, or another --out\./);
    // Nothing of the first run was touched.
    expect(report(dir).results.map((r) => r.id)).toEqual(['s001-softmax']);
    expect(meta(join(dir, 's001-softmax', 'last.ckpt'))).toMatchObject({ seed: 1 });

    const forced = await runCli(['run', 's002-ii', '--quick', '--epochs', '1', '--data', data, '--out', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/--force: removed the earlier run in/);
    expect(report(dir).results.map((r) => r.id)).toEqual(['s002-ii']);
    expect(existsSync(join(dir, 's001-softmax'))).toBe(false);

    const other = join(out, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const refused = await runCli(softmax(other, '--epochs', '1'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/other is not empty and holds no shaderprop run; give a new or empty --out/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  it('a resume takes the run\'s settings, refuses others, extends epochs with a message, and keeps the other ids\' results', async () => {
    const dir = join(out, 'settings');
    const first = await runCli(['run', 's001-softmax', 's002-ii', '--quick', '--epochs', '1', '--seed', '2', '--data', data, '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    const seed = await runCli(['run', 's001-softmax', '--resume', '--seed', '3', '--data', data, '--out', dir]);
    expect(seed.code).toBe(1);
    expect(seed.stderr).toMatch(/holds a run with seed 2; resume it with --seed 2 \(or without --seed\)/);
    const fewer = await runCli(['run', 's001-softmax', '--resume', '--epochs', '1', '--data', data, '--out', dir]);
    expect(fewer.code, fewer.stderr).toBe(0);
    // Without --quick: the run was quick, and stays so; 2 epochs extend it.
    const more = await runCli(['run', 's001-softmax', '--resume', '--epochs', '2', '--json', '--data', data, '--out', dir]);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/resuming with the run's settings: --quick --seed 2 --epochs 2/);
    expect(more.stderr).toMatch(/s001-softmax: extending the run from 1 to 2 epochs\./);
    expect(more.json[0]).toMatchObject({ id: 's001-softmax', quick: true, seed: 2, epochs: 2 });
    const all = report(dir);
    expect(all.results.map((r) => r.id).sort()).toEqual(['s001-softmax', 's002-ii']);
    expect((all.results.find((r) => r.id === 's001-softmax') as RunResult).history.epoch).toEqual([0, 1]);
    const shorter = await runCli(['run', 's001-softmax', '--resume', '--epochs', '1', '--data', data, '--out', dir]);
    expect(shorter.code).toBe(1);
    expect(shorter.stderr).toMatch(/holds a run of 2 epochs; --epochs 1 would cut it short\. Give --epochs 2 or more\./);
  });

  it('a resume keeps --no-autotune, --no-bounds-checks and --no-seed-independent without being given them again', async () => {
    // Enough images for s003-1nn's quick balanced subset (100 train and 20 test images per class).
    const more1nn = join(out, 'mnist-1nn');
    mkdirSync(more1nn);
    writeFakeMnist(more1nn, { trainCount: 1400, testCount: 400, rows: 28, cols: 28 });
    const dir = join(out, 'flags');
    const first = await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--no-autotune', '--no-bounds-checks', '--no-seed-independent',
      '--data', more1nn, '--out', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ autotune: false, boundsChecks: false, seedIndependent: false });
    // A second id added by a resume given none of the flags: s003-1nn leaves out its run on all the images.
    // (The suite's SHADERPROP_AUTOTUNE=0 lifted, and bounds checks on whatever the caller's environment says:
    // the run's own record is what turns them off.)
    const tuning = { SHADERPROP_AUTOTUNE: '1', SHADERPROP_BOUNDS_CHECKS: '1', SHADERPROP_CACHE: join(out, 'tuning-cache') };
    const more = await runCli(['run', 's003-1nn', '--resume', '--json', '--data', more1nn, '--out', dir], tuning);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(/resuming with the run's settings: --quick --seed 1 --epochs 1 --no-autotune --no-bounds-checks --no-seed-independent\n/);
    expect(more.stderr).toMatch(/adapter: .*, no bounds checks, a fixed kernel choice \(no autotuning\)\n/);
    expect(more.stderr).toMatch(/s003-1nn: the run on all \d+ train × \d+ test images is the same for every seed; left out here/);
    const all = report(dir);
    expect(all.adapter).toMatch(/, no bounds checks$/);
    const nn = all.results.find((r) => r.id === 's003-1nn') as ClassicResult;
    expect(nn.evaluations!.map((e) => e.name)).toEqual([expect.stringMatching(/^balanced subset/)]);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ autotune: false, boundsChecks: false, seedIndependent: false });

    // A run made with them on resumes with them on: none is named, and s003-1nn runs on all the images too.
    const plain = join(out, 'flags-on');
    expect((await runCli(['run', 's001-softmax', '--quick', '--epochs', '1', '--data', more1nn, '--out', plain], tuning)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(plain, 'run.json'), 'utf8')) as Record<string, unknown>;
    expect(['autotune', 'boundsChecks', 'seedIndependent'].filter((k) => k in manifest)).toEqual([]);
    const on = await runCli(['run', 's003-1nn', '--resume', '--json', '--data', more1nn, '--out', plain], tuning);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stderr).toMatch(/resuming with the run's settings: --quick --seed 1 --epochs 1\n/);
    expect(on.stderr).not.toMatch(/no bounds checks|fixed kernel choice/);
    expect((report(plain).results.find((r) => r.id === 's003-1nn') as ClassicResult).evaluations!.map((e) => e.name))
      .toEqual([expect.stringMatching(/^balanced subset/), expect.stringMatching(/^the first \d+ train/)]);
  }, 300_000);

  it('one process owns the folder: a live lock refuses a second run, a stale one is taken over', async () => {
    const dir = join(out, 'locked');
    mkdirSync(dir);
    // This test's own process: alive.
    writeFileSync(join(dir, 'shaderprop.lock'), JSON.stringify({ pid: process.pid, host: hostname(), started: '2026-01-01T00:00:00Z', command: 'run s002-ii' }));
    const busy = await runCli(softmax(dir, '--epochs', '1'));
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`locked is in use by process ${process.pid} \\(\`shaderprop run s002-ii\`, since 2026-01-01T00:00:00Z\\)\\. Wait for it to finish or stop it, or give another --out\\.`));
    // A process that has exited: its lock is stale.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'shaderprop.lock'), JSON.stringify({ pid: Number(gone), host: hostname(), started: '2026-01-01T00:00:00Z', command: 'run s002-ii' }));
    const taken = await runCli(softmax(dir, '--epochs', '1'));
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toMatch(new RegExp(`removed a stale lock of process ${gone} .*no longer running`));
    expect(existsSync(join(dir, 'shaderprop.lock'))).toBe(false);
  });

  it('two runs started at once into one folder: one runs, the other is refused, and the folder holds the one whole', async () => {
    const dir = join(out, 'race');
    const [a, b] = await Promise.all([
      runCli(['run', 's001-softmax', '--quick', '--epochs', '3', '--seed', '1', '--data', data, '--out', dir]),
      runCli(['run', 's001-softmax', 's002-ii', '--quick', '--epochs', '1', '--seed', '2', '--data', data, '--out', dir]),
    ]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(/is in use by process \d+|holds a finished run/);
    const winnerSeed = a.code === 0 ? 1 : 2;
    expect(report(dir).results.map((r) => r.id)).toEqual(winnerSeed === 1 ? ['s001-softmax'] : ['s001-softmax', 's002-ii']);
    expect(report(dir).results.every((r) => r.seed === winnerSeed)).toBe(true);
    expect(meta(join(dir, 's001-softmax', 'last.ckpt'))).toMatchObject({ seed: winnerSeed });
  });
});

describe('--out and --data errors', () => {
  it('names an --out that is a file, or lies under one', async () => {
    const file = join(out, 'a-file');
    writeFileSync(file, 'x');
    const isFile = await runCli(softmax(file, '--epochs', '1'));
    expect(isFile.code).toBe(1);
    expect(isFile.stderr).toMatch(/shaderprop: --out .*a-file exists and is not a folder: give a folder path\./);
    const under = await runCli(softmax(join(file, 'run'), '--epochs', '1'));
    expect(under.code).toBe(1);
    expect(under.stderr).toMatch(/shaderprop: --out .*a-file\/run: a part of this path .* is a file, not a folder; give another --out\./);
    expect(under.stderr).not.toMatch(/EEXIST|ENOTDIR|^\s+at /m);
  });

  it.skipIf(process.getuid?.() === 0)('names an --out it may not create (EACCES/EPERM)', async () => {
    const closed = join(out, 'closed');
    mkdirSync(closed, { mode: 0o555 });
    const r = await runCli(softmax(join(closed, 'run'), '--epochs', '1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no permission to create this folder \((EACCES|EPERM)/);
  });

  it('a failed --data names --data, not MNIST_DIR, and leaves no empty --out behind', async () => {
    const dir = join(out, 'never');
    const r = await runCli(softmax(dir, '--epochs', '1').map((a) => (a === data ? join(out, 'no-mnist') : a)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/shaderprop: --data .*no-mnist: MNIST folder .* does not exist .* and give that folder as --data\./);
    expect(r.stderr).not.toMatch(/MNIST_DIR/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('Ctrl-C and bare --resume', () => {
  it('SIGINT checkpoints mid-run, prints how to resume and exits 130; bare --resume picks that run, not an older finished one', async () => {
    const cwd = join(out, 'cwd');
    mkdirSync(cwd);
    const older = join(cwd, 'runs', '2000-01-01T00-00-00');
    const done = await runCli(softmax(older, '--epochs', '1'), {}, { cwd });
    expect(done.code, done.stderr).toBe(0);
    const olderReport = readFileSync(join(older, 'report.json'), 'utf8');

    const newer = join(cwd, 'runs', '2099-01-01T00-00-00');
    const stopped = await interrupted(softmax(newer, '--epochs', '30'), /epoch 2\/30/, 'SIGINT', cwd);
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/shaderprop: SIGINT: stopping after the current steps and writing last\.ckpt/);
    expect(stopped.stderr).toMatch(/shaderprop: stopped by SIGINT\. Resume with:\n {2}shaderprop run s001-softmax --resume --out .*2099-01-01T00-00-00\n/);
    expect(stopped.stdout).toMatch(/s001-softmax: interrupted at step \d+ of epoch \d+; .*last\.ckpt holds the run so far\./);
    expect(JSON.parse(readFileSync(join(newer, 'run.json'), 'utf8'))).toMatchObject({ finished: false, epochs: 30 });
    expect(meta(join(newer, 's001-softmax', 'last.ckpt'))).toMatchObject({ finished: false });
    expect(existsSync(join(newer, 'shaderprop.lock'))).toBe(false);

    const resumed = await runCli(['run', 's001-softmax', '--resume', '--json', '--data', data], {}, { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming the newest run: runs\/2099-01-01T00-00-00/);
    expect(resumed.json[0]).toMatchObject({ epochs: 30, quick: true });
    expect((report(newer).results[0] as RunResult).history.epoch).toHaveLength(30);
    expect(readFileSync(join(older, 'report.json'), 'utf8')).toBe(olderReport);
  });
});

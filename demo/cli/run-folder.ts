/**
 * A `shaderprop run` folder: who owns it, and what run it holds.
 *
 *   run.json          the run's settings (ids, quick, seed, epochs) and whether it finished;
 *                     written before the first id trains, so an interrupted run is known too
 *   shaderprop.lock   {"pid", "host", ...} of the process writing the folder; removed when it
 *                     exits. A lock whose process is gone (same host, no such pid) is stale
 *                     and taken over.
 *
 * One process owns a folder at a time; a folder holding a run is continued
 * only with --resume and replaced only with --force.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunReport } from '../../src/experiments/result.js';

const LOCK_FILE = 'shaderprop.lock';
export const MANIFEST_FILE = 'run.json';

export interface RunManifest {
  format: 1;
  /** Every id the run holds (a resume may add some). */
  ids: string[];
  quick: boolean;
  seed: number;
  /** --epochs, or null for each id's own number. */
  epochs: number | null;
  /** --seeds: each id ran with seeds seed, seed+1, ... (absent: one). */
  seeds?: number;
  /** --jobs: the run was made in parts, each in its own folder under parts/ (absent: one process). */
  jobs?: number;
  /** Settings a resume keeps (absent: on): --no-autotune (or SHADERPROP_AUTOTUNE=0), --no-bounds-checks
   * (or SHADERPROP_BOUNDS_CHECKS=0), --no-seed-independent. */
  autotune?: false;
  boundsChecks?: false;
  seedIndependent?: false;
  started: string;
  /** The last command over the folder ran to its end. */
  finished: boolean;
  command: string;
}

interface LockOwner {
  pid: number;
  host: string;
  started: string;
  command: string;
}

/** An error the CLI prints alone (a usage problem, not a bug). */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

/** What an existing folder holds: a run (with or without run.json), other files, or nothing. */
export function inspectFolder(dir: string): { kind: 'missing' | 'empty' | 'run' | 'other'; manifest: RunManifest | null } {
  if (!existsSync(dir)) return { kind: 'missing', manifest: null };
  if (!statSync(dir).isDirectory()) throw new RunFolderError(`--out ${dir} exists and is not a folder: give a folder path.`);
  const entries = readdirSync(dir).filter((e) => e !== LOCK_FILE);
  if (entries.length === 0) return { kind: 'empty', manifest: null };
  const manifest = readManifest(dir);
  // Folders written before run.json existed: a report, or an id's checkpoint.
  const legacy = entries.includes('report.json') || entries.some((e) => existsSync(join(dir, e, 'last.ckpt')));
  return { kind: manifest || legacy ? 'run' : 'other', manifest };
}

export function readManifest(dir: string): RunManifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunManifest;
  } catch {
    throw new RunFolderError(`${path} is damaged (not JSON). Remove it, or use --force to start the run in ${dir} over.`);
  }
}

/** The newest run folder under `root` (names are start times), interrupted ones included. */
export function newestRun(root: string): string | null {
  if (!existsSync(root)) return null;
  const runs = readdirSync(root)
    .filter((d) => { try { return statSync(join(root, d)).isDirectory() && inspectFolder(join(root, d)).kind === 'run'; } catch { return false; } })
    .sort();
  return runs.length ? join(root, runs[runs.length - 1]!) : null;
}

/** Creates `dir` (and its parents), with messages that say what to do. Returns whether it was made here. */
export function makeFolder(dir: string): boolean {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new RunFolderError(`--out ${dir} exists and is not a folder: give a folder path.`);
    return false;
  }
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'EEXIST' || e.code === 'ENOTDIR') {
      throw new RunFolderError(`--out ${dir}: a part of this path (${e.path ?? dir}) is a file, not a folder; give another --out.`);
    }
    if (e.code === 'EPERM' || e.code === 'EACCES' || e.code === 'EROFS') {
      throw new RunFolderError(`--out ${dir}: no permission to create this folder (${e.code}${e.path ? ` at ${e.path}` : ''}); give an --out you can write to.`);
    }
    throw error;
  }
}

/**
 * Takes the folder's lock for this process; throws when a live process holds
 * it. Returns the function that releases it (it also runs at process exit).
 */
export function acquireLock(dir: string, log: (line: string) => void = () => {}): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        try {
          if ((JSON.parse(readFileSync(path, 'utf8')) as LockOwner).pid === process.pid) unlinkSync(path);
        } catch { /* already gone */ }
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EPERM' || e.code === 'EACCES' || e.code === 'EROFS') {
        throw new RunFolderError(`--out ${dir}: no permission to write in this folder (${e.code}); give an --out you can write to.`);
      }
      if (e.code !== 'EEXIST') throw error;
    }
    const owner = readOwner(path);
    if (owner && owner.host === me.host && !alive(owner.pid)) {
      // Stale: its process is gone (killed, crashed). Move it aside, and take it only if it is still that one.
      const aside = `${path}.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readOwner(aside);
      if (moved && moved.pid === owner.pid && moved.started === owner.started) {
        rmSync(aside, { force: true });
        log(`${dir}: removed a stale lock of process ${owner.pid} (started ${owner.started}), which is no longer running.`);
      } else if (!existsSync(path)) {
        renameSync(aside, path);
      }
      continue;
    }
    if (owner === null) {
      // Being written by its owner this instant, or damaged: look again shortly.
      if (attempt < 4) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      throw new RunFolderError(`${path} is damaged; if no shaderprop process writes ${dir}, delete it and run again.`);
    }
    const where = owner.host === me.host ? `process ${owner.pid}` : `process ${owner.pid} on ${owner.host}`;
    throw new RunFolderError(
      `${dir} is in use by ${where} (\`shaderprop ${owner.command}\`, since ${owner.started}). ` +
        `Wait for it to finish or stop it, or give another --out.` +
        (owner.host === me.host ? '' : ` If that process is gone, delete ${path}.`),
    );
  }
  throw new RunFolderError(`Could not take the lock ${path}: other processes keep changing it. Give another --out.`);
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes what a previous run left in `dir` (for --force), keeping the lock. */
export function clearFolder(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry === LOCK_FILE) continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/** Removes `dir` when it is empty (after its lock is released): a run that wrote nothing leaves no folder. */
export function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch { /* not ours to clean */ }
}

/** The report.json a run folder holds, or null when it has none or it cannot be read. */
export function readReport(dir: string): RunReport | null {
  const path = join(dir, 'report.json');
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunReport;
  } catch {
    return null;
  }
}

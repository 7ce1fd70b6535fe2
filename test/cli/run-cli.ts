/** Runs the `shaderprop` command line as a user would, in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { mnistDir } from '../helpers.js';

export const root = resolve(__dirname, '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The --json lines of stdout, parsed. */
  json: Record<string, unknown>[];
}

/** `onOutput` sees stdout and stderr as they come, with the child (to signal it); `cwd` defaults to the repository root. */
export function runCli(
  args: string[], env: Record<string, string> = {},
  options: { cwd?: string; onOutput?: (text: string, child: ChildProcess) => void } = {},
): Promise<CliResult> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [resolve(root, 'demo/cli/shaderprop.mjs'), ...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...(mnistDir() ? { MNIST_DIR: mnistDir()! } : {}), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      options.onOutput?.(stdout + stderr, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onOutput?.(stdout + stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const json = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      done({ code, stdout, stderr, json });
    });
  });
}

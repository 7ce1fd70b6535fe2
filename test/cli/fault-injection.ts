/**
 * Fault injection: a run killed with SIGKILL at seeded random points, then
 * continued with --resume (or started again, when it died before its run.json),
 * must end with the weights of an unbroken run, bit for bit.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { makeRng } from '../../src/reference/index.js';
import { decodeCheckpoint } from '../../src/model/checkpoint.js';
import { writeFakeMnist } from '../data/fixtures.js';
import { runCli } from './run-cli.js';

export interface FaultReport {
  /** Per try: milliseconds after the data was loaded when SIGKILL was sent, and whether the run was still going. */
  tries: { delay: number; killed: boolean; resumed: boolean }[];
}

export async function killAndResume(out: string, tries: number, seed: number): Promise<FaultReport> {
  const data = join(out, 'mnist');
  mkdirSync(data, { recursive: true });
  writeFakeMnist(data, { trainCount: 600, testCount: 60, rows: 28, cols: 28 });
  const args = (dir: string) => ['run', 's001-softmax', '--quick', '--epochs', '8', '--seed', '3', '--json', '--data', data, '--out', dir];
  const params = (dir: string) => decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 's001-softmax', 'last.ckpt'))), dir).params;

  // The unbroken run, and how long it trains (to spread the kill points over it).
  let loaded = 0;
  const unbrokenDir = join(out, 'unbroken');
  const unbroken = await runCli(args(unbrokenDir), {}, { onOutput: (text) => { if (!loaded && /MNIST: /.test(text)) loaded = performance.now(); } });
  expect(unbroken.code, unbroken.stderr).toBe(0);
  const span = Math.max(200, performance.now() - loaded);
  const expected = Array.from(params(unbrokenDir));

  const rng = makeRng(seed);
  const report: FaultReport = { tries: [] };
  for (let t = 0; t < tries; t++) {
    const dir = join(out, `try-${t}`);
    const delay = Math.round(rng.next() * span);
    let timer: NodeJS.Timeout | undefined;
    const first = await runCli(args(dir), {}, {
      onOutput: (text, child) => {
        if (!timer && /MNIST: /.test(text)) timer = setTimeout(() => child.kill('SIGKILL'), delay);
      },
    });
    clearTimeout(timer);
    const killed = first.code === null;
    if (!killed) expect(first.code, first.stderr).toBe(0);
    let resumed = false;
    if (killed) {
      // Died before run.json: the folder holds no run yet (at most a stale lock), so the run starts again.
      resumed = existsSync(join(dir, 'run.json'));
      const again = await runCli([...args(dir), ...(resumed ? ['--resume'] : [])]);
      expect(again.code, `try ${t} (SIGKILL after ${delay} ms): ${again.stderr}`).toBe(0);
      expect(again.json[0]!.test_loss).toBe(unbroken.json[0]!.test_loss);
    }
    expect(Array.from(params(dir)), `try ${t} (SIGKILL after ${delay} ms)`).toEqual(expected);
    report.tries.push({ delay, killed, resumed });
  }
  return report;
}

/**
 * The slow tier's fault injection: 10 runs killed with SIGKILL at seeded
 * random points, each resumed to the final weights of an unbroken run
 * (test/cli/fault-injection.test.ts runs 3). `npm run test:slow`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killAndResume } from '../cli/fault-injection.js';

const slow = !!process.env.SHADERPROP_SLOW;

describe.skipIf(!slow)('SIGKILL at random points, 10 tries', () => {
  it('each folder resumes to the final weights of an unbroken run', async () => {
    const report = await killAndResume(mkdtempSync(join(tmpdir(), 'shaderprop-kill-')), 10, 2026);
    console.info(`fault injection: ${JSON.stringify(report.tries)}`);
    expect(report.tries).toHaveLength(10);
    expect(report.tries.filter((t) => t.killed).length).toBeGreaterThan(5);
  }, 600_000);
});

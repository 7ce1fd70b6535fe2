/** A few runs killed with SIGKILL at seeded random points resume to an unbroken run's weights (10 in test/slow). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killAndResume } from './fault-injection.js';

describe('SIGKILL at random points', () => {
  it('3 tries (seeded): each folder resumes to the final weights of an unbroken run', async () => {
    const report = await killAndResume(mkdtempSync(join(tmpdir(), 'shaderprop-kill-')), 3, 17);
    expect(report.tries).toHaveLength(3);
    expect(report.tries.some((t) => t.killed)).toBe(true);
  });
});

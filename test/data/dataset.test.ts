/**
 * Dataset on the device: which preprocessing gather_inputs may apply with
 * constants (one shift and scale for every feature) rather than per feature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, Dataset, type Preprocessing, type Runtime } from '../../src/index.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime();
});
afterAll(() => rt?.destroy());

describe('Dataset.uniformAffine', () => {
  const x = Uint8Array.from({ length: 6 * 4 }, (_, i) => (i * 37) % 256);
  const y = Uint8Array.from({ length: 6 }, (_, i) => i % 2);
  const make = (preprocessing: Preprocessing) =>
    Dataset.create(rt, { x, y, shape: [2, 2], classes: 2, name: 'tiny' }, { preprocessing });

  it('is the shift and scale where every feature has the same, else null', () => {
    const cases = [
      [make({ kind: 'raw' }), { shift: 0, scale: 1 }],
      [make({ kind: 'scale', scale: 1 / 255 }), { shift: 0, scale: Math.fround(1 / 255) }],
      [make({ kind: 'standardize' }), null],
      [make({ kind: 'l2Normalize', axis: 1 }), null],
    ] as const;
    for (const [data, want] of cases) {
      expect(data.uniformAffine).toEqual(want);
      data.dispose();
    }
  });
});

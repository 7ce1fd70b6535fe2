import { describe, expect, it } from 'vitest';
import { conv2d, dense, flatten, LayerShapeError, maxPool2d, sequential } from '../../src/index.js';

// Parameter counts the notebooks printed (seeds/002, seeds/004) or that follow from Keras's formulas.
describe('summary()', () => {
  it('gives 109,386 parameters for hidden [128, 64] (seeds/000, s001-dense)', () => {
    const model = sequential([flatten(), dense(128, 'relu'), dense(64, 'relu'), dense(10, 'softmax')], { inputShape: [28, 28] });
    expect(model.countParams()).toBe(109_386);
    const text = model.summary();
    expect(text).toContain('Total params: 109,386');
    expect(text).toContain('dense_1 (Dense)');
    expect(text).toMatch(/flatten \(Flatten\)\s+│ \(None, 784\)/);
  });

  it('gives 269,322 parameters for hidden [256, 256]', () => {
    const model = sequential([flatten(), dense(256, 'sigmoid'), dense(256, 'sigmoid'), dense(10, 'softmax')], { inputShape: [28, 28] });
    expect(model.countParams()).toBe(269_322);
  });

  it('gives 1,666,282 parameters for seeds/004 task 2 (two 5×5 conv layers, dense 128)', () => {
    const model = sequential(
      [conv2d(32, 5, { activation: 'sigmoid' }), conv2d(32, 5, { activation: 'sigmoid' }), flatten(), dense(128, 'sigmoid'), dense(10, 'softmax')],
      { inputShape: [28, 28, 1] },
    );
    expect(model.countParams()).toBe(1_666_282);
    expect(model.summary()).toContain('(None, 20, 20, 32)');
  });

  it('gives the s001-cnn shapes: 3×3×64 = 576 after the second pool, 93,962 parameters', () => {
    const model = sequential(
      [conv2d(32, 3, { activation: 'relu' }), maxPool2d({ poolSize: 2, strides: 2 }), conv2d(64, 3, { activation: 'relu' }),
        maxPool2d({ poolSize: 3 }), flatten(), dense(128, 'relu'), dense(10, 'softmax')],
      { inputShape: [28, 28, 1] },
    );
    expect(model.summary()).toContain('(None, 576)');
    expect(model.countParams()).toBe(320 + 18_496 + 73_856 + 1_290);
  });

  it('rejects a shape mismatch at build time, naming the layer', () => {
    expect(() => sequential([dense(10)], { inputShape: [28, 28] })).toThrow(/Layer 'dense'.*flatten/);
    expect(() => sequential([flatten(), conv2d(4, 3)], { inputShape: [28, 28] })).toThrow(LayerShapeError);
    expect(() => sequential([conv2d(4, 5), conv2d(4, 5, { name: 'too_small' })], { inputShape: [6, 6, 1] })).toThrow(/Layer 'too_small'.*larger than its input/);
    expect(() => sequential([maxPool2d({ poolSize: 3, name: 'pool' })], { inputShape: [2, 2, 1] })).toThrow(/Layer 'pool'/);
  });
});

/**
 * The WGSL sources, as text. Vite (browser, vitest) and the Node loader in
 * demo/register.mjs both turn `?raw` imports into the file's contents.
 */
import { hashTexts } from '../gpu/tuner.js';
import activationFn from '../../shaders/lib/activation_fn.wgsl?raw';
import convShape from '../../shaders/lib/conv_shape.wgsl?raw';
import grid from '../../shaders/lib/grid.wgsl?raw';
import gemmConv from '../../shaders/lib/gemm_conv.wgsl?raw';
import gemmStrided from '../../shaders/lib/gemm_strided.wgsl?raw';
import stepState from '../../shaders/lib/step_state.wgsl?raw';
import activation from '../../shaders/activation.wgsl?raw';
import batch from '../../shaders/batch.wgsl?raw';
import bias from '../../shaders/bias.wgsl?raw';
import classicGaussian from '../../shaders/classic/gaussian.wgsl?raw';
import classicKnn from '../../shaders/classic/knn.wgsl?raw';
import classicLogistic from '../../shaders/classic/logistic.wgsl?raw';
import conv2d from '../../shaders/conv2d.wgsl?raw';
import conv2dGemm from '../../shaders/conv2d_gemm.wgsl?raw';
import conv2dQuad from '../../shaders/conv2d_quad.wgsl?raw';
import dense from '../../shaders/dense.wgsl?raw';
import denseQuad from '../../shaders/dense_quad.wgsl?raw';
import denseTiled from '../../shaders/dense_tiled.wgsl?raw';
import gemm from '../../shaders/gemm.wgsl?raw';
import gemmReduce from '../../shaders/gemm_reduce.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';
import peak from '../../shaders/peak.wgsl?raw';
import pool from '../../shaders/pool.wgsl?raw';

export const WGSL = {
  activationFn,
  convShape,
  grid,
  gemmConv,
  gemmStrided,
  stepState,
  activation,
  batch,
  bias,
  classicGaussian,
  classicKnn,
  classicLogistic,
  conv2d,
  conv2dGemm,
  conv2dQuad,
  dense,
  denseQuad,
  denseTiled,
  gemm,
  gemmReduce,
  loss,
  optimizer,
  peak,
  pool,
} as const;

/** File names of the sources, for the shader view and error messages. */
export const WGSL_FILES: Record<keyof typeof WGSL, string> = {
  activationFn: 'shaders/lib/activation_fn.wgsl',
  convShape: 'shaders/lib/conv_shape.wgsl',
  grid: 'shaders/lib/grid.wgsl',
  gemmConv: 'shaders/lib/gemm_conv.wgsl',
  gemmStrided: 'shaders/lib/gemm_strided.wgsl',
  stepState: 'shaders/lib/step_state.wgsl',
  activation: 'shaders/activation.wgsl',
  batch: 'shaders/batch.wgsl',
  bias: 'shaders/bias.wgsl',
  classicGaussian: 'shaders/classic/gaussian.wgsl',
  classicKnn: 'shaders/classic/knn.wgsl',
  classicLogistic: 'shaders/classic/logistic.wgsl',
  conv2d: 'shaders/conv2d.wgsl',
  conv2dGemm: 'shaders/conv2d_gemm.wgsl',
  conv2dQuad: 'shaders/conv2d_quad.wgsl',
  dense: 'shaders/dense.wgsl',
  denseQuad: 'shaders/dense_quad.wgsl',
  denseTiled: 'shaders/dense_tiled.wgsl',
  gemm: 'shaders/gemm.wgsl',
  gemmReduce: 'shaders/gemm_reduce.wgsl',
  loss: 'shaders/loss.wgsl',
  optimizer: 'shaders/optimizer.wgsl',
  peak: 'shaders/peak.wgsl',
  pool: 'shaders/pool.wgsl',
};

/** A hash of every kernel source: kernel choices measured with other sources are measured again. */
export const SOURCES_HASH = hashTexts(Object.values(WGSL));

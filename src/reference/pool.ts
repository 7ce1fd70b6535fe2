/**
 * 2-D max pooling, CPU twin of the pooling WGSL kernels.
 * Layout NHWC: x is (B, H, W, C), out and argmax are (B, OH, OW, C).
 */
import { expectLength } from './compare.js';
import { windowGeometry, type Padding } from './conv2d.js';

export interface Pool2dShape {
  batch: number;
  inH: number;
  inW: number;
  channels: number;
  poolH: number;
  poolW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

export interface MaxPool2dResult {
  /** (B, OH, OW, C) */
  out: Float64Array;
  /**
   * (B, OH, OW, C): for each output, the index of its maximum within ONE sample's
   * input, (ih · W + iw) · C + c. Ties go to the first cell in scan order (kh outer, kw inner).
   */
  argmax: Uint32Array;
  outH: number;
  outW: number;
}

/** (OH, OW, padTop, padLeft) with the same TensorFlow rule as convolution. */
export function pool2dGeometry(shape: Pool2dShape): { outH: number; outW: number; padTop: number; padLeft: number } {
  const h = windowGeometry(shape.inH, shape.poolH, shape.strideH, shape.padding);
  const w = windowGeometry(shape.inW, shape.poolW, shape.strideW, shape.padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore };
}

/**
 * out[n, oh, ow, c] = max_{kh, kw} x[n, oh·SH − padTop + kh, ow·SW − padLeft + kw, c]
 * over real cells only (padded cells never win; every window holds at least one real cell).
 * x is (B, H, W, C); out and argmax are (B, OH, OW, C)
 */
export function maxPool2dForward(x: ArrayLike<number>, shape: Pool2dShape): MaxPool2dResult {
  const { batch: B, inH: H, inW: W, channels: C, poolH: PH, poolW: PW, strideH: SH, strideW: SW } = shape;
  const { outH: OH, outW: OW, padTop, padLeft } = pool2dGeometry(shape);
  expectLength('maxPool2dForward x', x, B * H * W * C);

  const out = new Float64Array(B * OH * OW * C);
  const argmax = new Uint32Array(B * OH * OW * C);
  for (let n = 0; n < B; n++) {
    const sampleBase = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let bestIdx = -1; // index within the sample
          for (let kh = 0; kh < PH; kh++) {
            const ih = oh * SH - padTop + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < PW; kw++) {
              const iw = ow * SW - padLeft + kw;
              if (iw < 0 || iw >= W) continue;
              const idx = (ih * W + iw) * C + c;
              const v = x[sampleBase + idx]!;
              // strict '>' keeps the first of equal maxima
              if (bestIdx < 0 || v > best) {
                best = v;
                bestIdx = idx;
              }
            }
          }
          if (bestIdx < 0) throw new Error('maxPool2dForward: window with no input cell');
          const o = ((n * OH + oh) * OW + ow) * C + c;
          out[o] = best;
          argmax[o] = bestIdx;
        }
      }
    }
  }
  return { out, argmax, outH: OH, outW: OW };
}

/**
 * dx[n, p] = Σ_{outputs o of sample n with argmax[o] = p} dy[o]
 * (overlapping windows may send several gradients to the same cell)
 * dy and argmax are (B, OH, OW, C); dx is (B, H, W, C)
 */
export function maxPool2dBackward(dy: ArrayLike<number>, argmax: ArrayLike<number>, shape: Pool2dShape): Float64Array {
  const { batch: B, inH: H, inW: W, channels: C } = shape;
  const { outH: OH, outW: OW } = pool2dGeometry(shape);
  const perSampleOut = OH * OW * C;
  const perSampleIn = H * W * C;
  expectLength('maxPool2dBackward dy', dy, B * perSampleOut);
  expectLength('maxPool2dBackward argmax', argmax, B * perSampleOut);

  const dx = new Float64Array(B * perSampleIn);
  for (let n = 0; n < B; n++) {
    for (let j = 0; j < perSampleOut; j++) {
      const o = n * perSampleOut + j;
      const p = argmax[o]!;
      if (p >= perSampleIn) throw new Error(`maxPool2dBackward: argmax ${p} out of range ${perSampleIn}`);
      const xi = n * perSampleIn + p;
      dx[xi] = dx[xi]! + dy[o]!;
    }
  }
  return dx;
}

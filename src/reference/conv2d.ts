/**
 * 2-D convolution (cross-correlation, as in Keras), CPU twin of the conv WGSL kernels.
 * Layout NHWC: x is (B, H, W, CIN), w is (KH, KW, CIN, COUT) (Keras layout),
 * b is (COUT), out is (B, OH, OW, COUT).
 */
import { expectLength } from './compare.js';

export type Padding = 'valid' | 'same';

export interface Conv2dShape {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padding: Padding;
}

export interface WindowGeometry {
  /** Number of output positions along this axis. */
  out: number;
  /** Implicit padding before the first input element (top or left). */
  padBefore: number;
}

/**
 * TensorFlow's window rule along one axis.
 *   'valid': out = floor((in − k) / stride) + 1, no padding.
 *   'same':  out = ceil(in / stride), total pad = max((out − 1)·stride + k − in, 0),
 *            padBefore = floor(pad / 2) (the odd extra cell goes after: bottom/right).
 * Output position o reads input positions o·stride − padBefore + [0, k).
 * With either rule every window holds at least one real input cell.
 */
export function windowGeometry(inSize: number, k: number, stride: number, padding: Padding): WindowGeometry {
  if (!(inSize >= 1 && k >= 1 && stride >= 1)) {
    throw new Error(`windowGeometry: need inSize, k, stride ≥ 1, got ${inSize}, ${k}, ${stride}`);
  }
  if (padding === 'valid') {
    if (k > inSize) throw new Error(`windowGeometry: 'valid' window ${k} larger than input ${inSize}`);
    return { out: Math.floor((inSize - k) / stride) + 1, padBefore: 0 };
  }
  const out = Math.ceil(inSize / stride);
  const padTotal = Math.max((out - 1) * stride + k - inSize, 0);
  return { out, padBefore: Math.floor(padTotal / 2) };
}

export interface Conv2dGeometry {
  outH: number;
  outW: number;
  padTop: number;
  padLeft: number;
}

/** (OH, OW, padTop, padLeft) from windowGeometry along height and width. */
export function conv2dGeometry(shape: Conv2dShape): Conv2dGeometry {
  const h = windowGeometry(shape.inH, shape.kH, shape.strideH, shape.padding);
  const w = windowGeometry(shape.inW, shape.kW, shape.strideW, shape.padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore };
}

/**
 * out[n, oh, ow, co] = b[co] + Σ_{kh, kw, ci} x[n, oh·SH − padTop + kh, ow·SW − padLeft + kw, ci] · w[kh, kw, ci, co]
 * (input cells outside the image are zero padding and are skipped)
 * x is (B, H, W, CIN), w is (KH, KW, CIN, COUT), b is (COUT), out is (B, OH, OW, COUT)
 */
export function conv2dForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: Conv2dShape,
): Float64Array {
  const { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW, strideH: SH, strideW: SW } = shape;
  const { outH: OH, outW: OW, padTop, padLeft } = conv2dGeometry(shape);
  expectLength('conv2dForward x', x, B * H * W * CIN);
  expectLength('conv2dForward w', w, KH * KW * CIN * COUT);
  expectLength('conv2dForward b', b, COUT);

  const out = new Float64Array(B * OH * OW * COUT);
  for (let n = 0; n < B; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let co = 0; co < COUT; co++) {
          let acc = b[co]!;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - padTop + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - padLeft + kw;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < CIN; ci++) {
                acc += x[((n * H + ih) * W + iw) * CIN + ci]! * w[((kh * KW + kw) * CIN + ci) * COUT + co]!;
              }
            }
          }
          out[((n * OH + oh) * OW + ow) * COUT + co] = acc;
        }
      }
    }
  }
  return out;
}

export interface Conv2dGrads {
  /** (B, H, W, CIN) */
  dx: Float64Array;
  /** (KH, KW, CIN, COUT) */
  dw: Float64Array;
  /** (COUT) */
  db: Float64Array;
}

/**
 * With ih = oh·SH − padTop + kh, iw = ow·SW − padLeft + kw (only real cells):
 *   dx[n, ih, iw, ci]   = Σ_{oh, ow, kh, kw, co} dy[n, oh, ow, co] · w[kh, kw, ci, co]
 *   dw[kh, kw, ci, co]  = Σ_{n, oh, ow}           dy[n, oh, ow, co] · x[n, ih, iw, ci]
 *   db[co]              = Σ_{n, oh, ow}           dy[n, oh, ow, co]
 * x is (B, H, W, CIN), w is (KH, KW, CIN, COUT), dy is (B, OH, OW, COUT)
 * Written as a scatter over the forward loop nest (each forward product sends
 * its share of dy back to both of its factors).
 */
export function conv2dBackward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  shape: Conv2dShape,
): Conv2dGrads {
  const { batch: B, inH: H, inW: W, inC: CIN, outC: COUT, kH: KH, kW: KW, strideH: SH, strideW: SW } = shape;
  const { outH: OH, outW: OW, padTop, padLeft } = conv2dGeometry(shape);
  expectLength('conv2dBackward x', x, B * H * W * CIN);
  expectLength('conv2dBackward w', w, KH * KW * CIN * COUT);
  expectLength('conv2dBackward dy', dy, B * OH * OW * COUT);

  const dx = new Float64Array(B * H * W * CIN);
  const dw = new Float64Array(KH * KW * CIN * COUT);
  const db = new Float64Array(COUT);
  for (let n = 0; n < B; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let co = 0; co < COUT; co++) {
          const g = dy[((n * OH + oh) * OW + ow) * COUT + co]!;
          db[co] = db[co]! + g;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - padTop + kh;
            if (ih < 0 || ih >= H) continue;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - padLeft + kw;
              if (iw < 0 || iw >= W) continue;
              for (let ci = 0; ci < CIN; ci++) {
                const xi = ((n * H + ih) * W + iw) * CIN + ci;
                const wi = ((kh * KW + kw) * CIN + ci) * COUT + co;
                dx[xi] = dx[xi]! + g * w[wi]!;
                dw[wi] = dw[wi]! + g * x[xi]!;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/**
 * Dense (fully connected) layer, CPU twin of the dense WGSL kernels.
 * Layout: x is (B, IN), w is (IN, OUT) (Keras kernel layout), b is (OUT), out is (B, OUT).
 */
import { expectLength } from './compare.js';

/**
 * out[n, o] = b[o] + Σ_i x[n, i] · w[i, o]
 * x is (B, IN), w is (IN, OUT), b is (OUT), out is (B, OUT)
 */
export function denseForward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  B: number,
  IN: number,
  OUT: number,
): Float64Array {
  expectLength('denseForward x', x, B * IN);
  expectLength('denseForward w', w, IN * OUT);
  expectLength('denseForward b', b, OUT);
  const out = new Float64Array(B * OUT);
  for (let n = 0; n < B; n++) {
    for (let o = 0; o < OUT; o++) {
      let acc = b[o]!;
      for (let i = 0; i < IN; i++) {
        acc += x[n * IN + i]! * w[i * OUT + o]!;
      }
      out[n * OUT + o] = acc;
    }
  }
  return out;
}

export interface DenseGrads {
  /** (B, IN) */
  dx: Float64Array;
  /** (IN, OUT) */
  dw: Float64Array;
  /** (OUT) */
  db: Float64Array;
}

/**
 * dx = dy · wᵀ, dw = xᵀ · dy, db = Σ_n dy[n, :]
 * x is (B, IN), w is (IN, OUT), dy is (B, OUT); dx is (B, IN), dw is (IN, OUT), db is (OUT)
 */
export function denseBackward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  B: number,
  IN: number,
  OUT: number,
): DenseGrads {
  expectLength('denseBackward x', x, B * IN);
  expectLength('denseBackward w', w, IN * OUT);
  expectLength('denseBackward dy', dy, B * OUT);

  // dx[n, i] = Σ_o dy[n, o] · w[i, o]
  const dx = new Float64Array(B * IN);
  for (let n = 0; n < B; n++) {
    for (let i = 0; i < IN; i++) {
      let acc = 0;
      for (let o = 0; o < OUT; o++) acc += dy[n * OUT + o]! * w[i * OUT + o]!;
      dx[n * IN + i] = acc;
    }
  }

  // dw[i, o] = Σ_n x[n, i] · dy[n, o]
  const dw = new Float64Array(IN * OUT);
  for (let i = 0; i < IN; i++) {
    for (let o = 0; o < OUT; o++) {
      let acc = 0;
      for (let n = 0; n < B; n++) acc += x[n * IN + i]! * dy[n * OUT + o]!;
      dw[i * OUT + o] = acc;
    }
  }

  // db[o] = Σ_n dy[n, o]
  const db = new Float64Array(OUT);
  for (let o = 0; o < OUT; o++) {
    let acc = 0;
    for (let n = 0; n < B; n++) acc += dy[n * OUT + o]!;
    db[o] = acc;
  }

  return { dx, dw, db };
}

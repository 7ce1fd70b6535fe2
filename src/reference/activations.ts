/**
 * Elementwise activations and row-wise softmax, CPU twins of the activation WGSL kernels.
 * The backward takes the forward OUTPUT y (that is what the GPU keeps), not x.
 * Every array is flat; `columns` (C, the last-axis size) matters only to softmax,
 * which treats the array as (rows, C) with rows = length / C.
 */
import { expectLength } from './compare.js';

export type ActivationName = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'softmax';

/** σ(x) = 1 / (1 + e^{−x}), written so that e^{…} never overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * y = f(x) elementwise, or softmax over each row of C = columns:
 *   linear x;  relu max(x, 0);  leakyRelu x > 0 ? x : α·x;  sigmoid 1/(1+e^{−x});  tanh;
 *   softmax y[r, c] = e^{x[r, c] − m_r} / Σ_k e^{x[r, k] − m_r}, m_r = max_k x[r, k]
 * x is (rows, C); y is (rows, C)
 */
export function activationForward(
  name: ActivationName,
  x: ArrayLike<number>,
  columns: number,
  alpha = 0.3,
): Float64Array {
  const n = x.length;
  const y = new Float64Array(n);
  switch (name) {
    case 'linear':
      for (let i = 0; i < n; i++) y[i] = x[i]!;
      return y;
    case 'relu':
      for (let i = 0; i < n; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
      return y;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) y[i] = x[i]! > 0 ? x[i]! : alpha * x[i]!;
      return y;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = sigmoid(x[i]!);
      return y;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]!);
      return y;
    case 'softmax': {
      const C = columns;
      const rows = checkRows(n, C);
      for (let r = 0; r < rows; r++) {
        const base = r * C;
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, x[base + c]!);
        let sum = 0;
        for (let c = 0; c < C; c++) {
          const e = Math.exp(x[base + c]! - m);
          y[base + c] = e;
          sum += e;
        }
        for (let c = 0; c < C; c++) y[base + c] = y[base + c]! / sum;
      }
      return y;
    }
    default:
      return unknownActivation(name);
  }
}

/**
 * dx from y = f(x) and dy = ∂L/∂y:
 *   linear dy;  relu dy·[y > 0];  leakyRelu y > 0 ? dy : α·dy (α > 0, so sign y = sign x);
 *   sigmoid dy·y(1 − y);  tanh dy·(1 − y²);
 *   softmax dx[r, c] = y[r, c] · (dy[r, c] − Σ_k dy[r, k] · y[r, k])
 * y and dy are (rows, C); dx is (rows, C)
 */
export function activationBackward(
  name: ActivationName,
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  columns: number,
  alpha = 0.3,
): Float64Array {
  const n = y.length;
  expectLength(`activationBackward(${name}) dy`, dy, n);
  const dx = new Float64Array(n);
  switch (name) {
    case 'linear':
      for (let i = 0; i < n; i++) dx[i] = dy[i]!;
      return dx;
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
      return dx;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : alpha * dy[i]!;
      return dx;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dx[i] = dy[i]! * y[i]! * (1 - y[i]!);
      return dx;
    case 'tanh':
      for (let i = 0; i < n; i++) dx[i] = dy[i]! * (1 - y[i]! * y[i]!);
      return dx;
    case 'softmax': {
      const C = columns;
      const rows = checkRows(n, C);
      for (let r = 0; r < rows; r++) {
        const base = r * C;
        let s = 0; // Σ_k dy·y over the row
        for (let c = 0; c < C; c++) s += dy[base + c]! * y[base + c]!;
        for (let c = 0; c < C; c++) dx[base + c] = y[base + c]! * (dy[base + c]! - s);
      }
      return dx;
    }
    default:
      return unknownActivation(name);
  }
}

function checkRows(n: number, C: number): number {
  if (!(C >= 1) || n % C !== 0) throw new Error(`softmax: length ${n} is not a multiple of columns ${C}`);
  return n / C;
}

function unknownActivation(name: never): never {
  throw new Error(`unknown activation '${String(name)}'`);
}

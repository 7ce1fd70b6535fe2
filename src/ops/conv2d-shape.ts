/** The shape of a 2-D convolution (NHWC, (KH, KW, CIN, COUT) weights) and its window geometry, TensorFlow's rules. */

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

/** Output size and leading padding of one spatial axis, TensorFlow's rule. */
export function windowGeometry(inSize: number, k: number, stride: number, padding: Padding): { out: number; padBefore: number } {
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + k - inSize, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: Math.floor((inSize - k) / stride) + 1, padBefore: 0 };
}

export function conv2dGeometry(s: Conv2dShape) {
  const h = windowGeometry(s.inH, s.kH, s.strideH, s.padding);
  const w = windowGeometry(s.inW, s.kW, s.strideW, s.padding);
  return { outH: h.out, outW: w.out, padTop: h.padBefore, padLeft: w.padBefore };
}

/** The override constants every conv shader reads (shaders/lib/conv_shape.wgsl). */
export function convOverrides(s: Conv2dShape) {
  const g = conv2dGeometry(s);
  return {
    B: s.batch, H: s.inH, W: s.inW, CIN: s.inC, OH: g.outH, OW: g.outW, COUT: s.outC,
    KH: s.kH, KW: s.kW, SH: s.strideH, SW: s.strideW, PAD_TOP: g.padTop, PAD_LEFT: g.padLeft,
  };
}


/** The tensor shapes of input, output and weight, and the geometry. */
export function convShapes(s: Conv2dShape) {
  const g = conv2dGeometry(s);
  return {
    inp: [s.batch, s.inH, s.inW, s.inC],
    out: [s.batch, g.outH, g.outW, s.outC],
    weight: [s.kH, s.kW, s.inC, s.outC],
    g,
  };
}

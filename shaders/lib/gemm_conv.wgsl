// The operands of shaders/gemm.wgsl for the three conv products, as implicit
// GEMMs: the windows of the image are gathered as they are loaded, never
// written out (no im2col buffer). Shapes from lib/conv_shape.wgsl; NHWC images,
// (KH, KW, CIN, COUT) weights. PRODUCT picks the three:
//
//   0 forward          out (B·OH·OW, COUT) = patches (B·OH·OW, KH·KW·CIN) · weight (KH·KW·CIN, COUT)
//   1 input gradient   dinp (B·H·W, CIN)   = dout windows (B·H·W, KH·KW·COUT) · weightᵀ (KH·KW·COUT, CIN)
//   2 weight gradient  dweight (KH·KW·CIN, COUT) = patchesᵀ (KH·KW·CIN, B·OH·OW) · dout (B·OH·OW, COUT)
//
// A window element outside the image (padding) reads 0. For the input
// gradient, input pixel (y, x) meets output pixel (oy, ox) through tap (ky, kx)
// where oy·SH + ky = y + PAD_TOP (and the same along x); other taps add nothing.

override PRODUCT: u32;

// The image value under tap `tap` (ky, kx, ci) of the window of output pixel `pixel` (b, oy, ox); 0 in the padding.
fn image_tap(pixel: u32, tap: u32) -> f32 {
  let b = pixel / (OH * OW);
  let oy = (pixel / OW) % OH;
  let ox = pixel % OW;
  let ky = tap / (KW * CIN);
  let kx = (tap / CIN) % KW;
  let ci = tap % CIN;
  let iy = i32(oy * SH + ky) - i32(PAD_TOP);
  let ix = i32(ox * SW + kx) - i32(PAD_LEFT);
  if (iy < 0 || ix < 0 || iy >= i32(H) || ix >= i32(W)) { return 0.0; }
  return a_mat[((b * H + u32(iy)) * W + u32(ix)) * CIN + ci];
}

// dout at the output pixel that input pixel `pixel` (b, y, x) meets through tap `tap` (ky, kx, co); 0 where none does.
fn dout_window(pixel: u32, tap: u32) -> f32 {
  let b = pixel / (H * W);
  let y = (pixel / W) % H;
  let x = pixel % W;
  let ky = tap / (KW * COUT);
  let kx = (tap / COUT) % KW;
  let co = tap % COUT;
  let ty = i32(y + PAD_TOP) - i32(ky);
  let tx = i32(x + PAD_LEFT) - i32(kx);
  if (ty < 0 || tx < 0 || u32(ty) % SH != 0u || u32(tx) % SW != 0u) { return 0.0; }
  let oy = u32(ty) / SH;
  let ox = u32(tx) / SW;
  if (oy >= OH || ox >= OW) { return 0.0; }
  return a_mat[((b * OH + oy) * OW + ox) * COUT + co];
}

fn load_a(m: u32, k: u32) -> f32 {
  switch PRODUCT {
    case 0u: { return image_tap(m, k); }
    case 1u: { return dout_window(m, k); }
    default: { return image_tap(k, m); }
  }
}

fn load_b(k: u32, n: u32) -> f32 {
  switch PRODUCT {
    // the weight read as (KH·KW·COUT, CIN): element (tap (ky, kx, co), ci) is weight[ky, kx, ci, co]
    case 1u: { return b_mat[((k / COUT) * CIN + n) * COUT + k % COUT]; }
    // the weight (forward) or dout (weight gradient): (K, N) row-major
    default: { return b_mat[k * N + n]; }
  }
}

// 2-D convolution as an implicit GEMM: the same three products as conv2d.wgsl
// (NHWC activations, (KH, KW, CIN, COUT) weights, same strides and padding),
// computed as matrix products whose operands are gathered from the images
// while they are loaded. No im2col matrix is ever written.
//
//   conv2d_gemm_forward          out (P, COUT)     = act(patches (P, KH·KW·CIN) · weight (KH·KW·CIN, COUT) + bias)
//                                P = B·OH·OW output pixels; row p of `patches` is the window under pixel p
//   conv2d_gemm_backward_input   dinp (Q, CIN)     = Σ over taps of dout (Q, COUT) rows under the tap · weight[tap]ᵀ (COUT, CIN)
//                                Q = B·H·W input pixels; a row is 0 where the tap falls outside dout
//   conv2d_gemm_backward_input_act_grad  the same, times act'(y), y (Q, CIN) the previous layer's output
//   conv2d_gemm_backward_weight  dweight (KH·KW·CIN, COUT) = patchesᵀ · dout (P, COUT), the P axis cut into
//                                SPLIT slices whose partial sums bias_backward adds up (SPLIT = 1: written directly)
//
// As in dense_tiled.wgsl, each thread owns a 4×4 block of its output (4 pixels
// × 4 channels, or 4 weight rows × 4 channels) and multiplies 4×4 blocks of its
// operands; channels are read as vec4. The weight and dout channels (COUT) must
// be a multiple of 4; the input channels (CIN) may be anything: when CIN is a
// multiple of 4 (VEC_CIN) the patches are read as vec4 too, otherwise one
// channel at a time (a first layer's single channel). VEC_CIN is a
// preprocessor define (#if), since it changes the type of the input binding. conv2d.wgsl, the direct
// convolution, is these kernels' oracle in the tests and covers what they do
// not (COUT, or CIN for backward input, not a multiple of 4).
//
// Pixels outside the image (padding) or outside dout read as zero: their index
// is clamped to a valid one and the value multiplied by 0 or 1, so that every
// lane runs the same instructions.

// The shape overrides (B, H, W, CIN, ...) are in lib/conv_shape.wgsl.
override VALID: bool = false;             // no padding at all: every window lies inside the image
override SPLIT: u32 = 1u;
override FULL: bool = false;              // every pixel block of store_forward lies inside out (no checks)
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// One pixel of an (·, rows, cols) grid, by its flattened index.
struct Pixel {
  b: u32,
  y: u32,
  x: u32,
}

fn pixel_of(p: u32, rows: u32, cols: u32) -> Pixel {
  return Pixel(p / (rows * cols), (p / cols) % rows, p % cols);
}

// A pixel another pixel reads: its flattened index, and 1.0 when it exists
// (0.0 when it falls in the padding, with index 0 so the load stays in bounds).
struct Neighbour {
  index: u32,
  scale: f32,
}

// First input pixel of output pixel o's window (its index in the (B, H, W) grid), for 'valid' windows.
fn window_origin(o: Pixel) -> u32 {
  return (o.b * H + o.y * SH) * W + o.x * SW;
}

// Input pixel read by output pixel `o` at tap (kh, kw).
fn input_under(o: Pixel, kh: u32, kw: u32) -> Neighbour {
  if (VALID) { return Neighbour(window_origin(o) + kh * W + kw, 1.0); }
  let ih = i32(o.y * SH + kh) - i32(PAD_TOP);
  let iw = i32(o.x * SW + kw) - i32(PAD_LEFT);
  let inside = ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W);
  return Neighbour(select(0u, (o.b * H + u32(ih)) * W + u32(iw), inside), select(0.0, 1.0, inside));
}

// Where the flat loop over a 'valid' window stands: `at` is the current
// element's offset from the window's origin (in channel steps of `steps` per
// pixel), `step` the channel step within the current tap, `kw` the tap's column.
struct WindowWalk {
  at: u32,
  step: u32,
  kw: u32,
}

// The window's next element: the next channel step, wrapping to the next tap,
// and past the last tap of a row to the first of the next row.
fn next_in_window(w: WindowWalk, steps: u32) -> WindowWalk {
  var n = WindowWalk(w.at + 1u, w.step + 1u, w.kw);
  if (n.step == steps) {
    n.step = 0u;
    n.kw += 1u;
    if (n.kw == KW) {
      n.kw = 0u;
      n.at += (W - KW) * steps;
    }
  }
  return n;
}

// conv2d_gemm_forward
#if VEC_CIN
@group(0) @binding(0) var<storage, read> inp: array<vec4f>;          // (B, H, W, CIN / 4)
#else
@group(0) @binding(0) var<storage, read> inp: array<f32>;            // (B, H, W, CIN)
#endif
@group(0) @binding(1) var<storage, read> weight: array<vec4f>;       // (KH, KW, CIN, COUT / 4)
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;         // (COUT / 4)
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;    // (B, OH, OW, COUT / 4)

@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let co4 = id.x;                         // output channels 4·co4 .. 4·co4 + 3
  let p0 = id.y * 4u;                     // output pixels p0 .. p0 + 3
  let pixels = B * OH * OW;
  let cout4 = COUT / 4u;
  if (co4 >= cout4 || p0 >= pixels) { return; }
  let o0 = pixel_of(p0, OH, OW);
  let o1 = pixel_of(min(p0 + 1u, pixels - 1u), OH, OW);
  let o2 = pixel_of(min(p0 + 2u, pixels - 1u), OH, OW);
  let o3 = pixel_of(min(p0 + 3u, pixels - 1u), OH, OW);
  // acc_r holds out[p0 + r, 4·co4 .. 4·co4 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
#if VEC_CIN
  if (VALID) {
    // No padding: the window of pixel p starts at its origin and every tap is
    // inside, so the reduction is one flat loop over (kh, kw, ci / 4), as long
    // as a dense layer's, with the tap's offset kept as it goes.
    let cin4 = CIN / 4u;
    let origin0 = window_origin(o0) * cin4;
    let origin1 = window_origin(o1) * cin4;
    let origin2 = window_origin(o2) * cin4;
    let origin3 = window_origin(o3) * cin4;
    var walk = WindowWalk(0u, 0u, 0u);
    for (var k = 0u; k < KH * KW * cin4; k++) {
      let w_base = k * 4u * cout4 + co4;  // weight rows (kh, kw, 4·c4 .. 4·c4 + 3) are rows 4k .. 4k + 3
      let w = mat4x4f(weight[w_base], weight[w_base + cout4], weight[w_base + 2u * cout4], weight[w_base + 3u * cout4]);
      acc0 += w * inp[origin0 + walk.at];
      acc1 += w * inp[origin1 + walk.at];
      acc2 += w * inp[origin2 + walk.at];
      acc3 += w * inp[origin3 + walk.at];
      walk = next_in_window(walk, cin4);
    }
    store_forward(p0, co4, acc0, acc1, acc2, acc3);
    return;
  }
#else
  if (VALID) {
    // The same flat loop one channel at a time: (kh, kw, ci) is row k of the weights.
    let origin0 = window_origin(o0) * CIN;
    let origin1 = window_origin(o1) * CIN;
    let origin2 = window_origin(o2) * CIN;
    let origin3 = window_origin(o3) * CIN;
    var walk = WindowWalk(0u, 0u, 0u);
    for (var k = 0u; k < KH * KW * CIN; k++) {
      let w = weight[k * cout4 + co4];
      acc0 += inp[origin0 + walk.at] * w;
      acc1 += inp[origin1 + walk.at] * w;
      acc2 += inp[origin2 + walk.at] * w;
      acc3 += inp[origin3 + walk.at] * w;
      walk = next_in_window(walk, CIN);
    }
    store_forward(p0, co4, acc0, acc1, acc2, acc3);
    return;
  }
#endif
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let i0 = input_under(o0, kh, kw);
      let i1 = input_under(o1, kh, kw);
      let i2 = input_under(o2, kh, kw);
      let i3 = input_under(o3, kh, kw);
      let w_tap = (kh * KW + kw) * CIN * cout4 + co4;   // weight[kh, kw, 0, 4·co4]
#if VEC_CIN
      let cin4 = CIN / 4u;
      for (var c4 = 0u; c4 < cin4; c4++) {
        let w_base = w_tap + c4 * 4u * cout4;
        let w = mat4x4f(weight[w_base], weight[w_base + cout4], weight[w_base + 2u * cout4], weight[w_base + 3u * cout4]);
        acc0 += w * (inp[i0.index * cin4 + c4] * i0.scale);
        acc1 += w * (inp[i1.index * cin4 + c4] * i1.scale);
        acc2 += w * (inp[i2.index * cin4 + c4] * i2.scale);
        acc3 += w * (inp[i3.index * cin4 + c4] * i3.scale);
      }
#else
      for (var ci = 0u; ci < CIN; ci++) {
        let w = weight[w_tap + ci * cout4];
        acc0 += (inp[i0.index * CIN + ci] * i0.scale) * w;
        acc1 += (inp[i1.index * CIN + ci] * i1.scale) * w;
        acc2 += (inp[i2.index * CIN + ci] * i2.scale) * w;
        acc3 += (inp[i3.index * CIN + ci] * i3.scale) * w;
      }
#endif
    }
  }
  store_forward(p0, co4, acc0, acc1, acc2, acc3);
}

// out[p0 + r, 4·co4 .. 4·co4 + 3] = act(acc_r + bias), for the pixels that exist.
fn store_forward(p0: u32, co4: u32, acc0: vec4f, acc1: vec4f, acc2: vec4f, acc3: vec4f) {
  let pixels = B * OH * OW;
  let cout4 = COUT / 4u;
  let bias4 = bias[co4];
  if (FULL) {
    let at = p0 * cout4 + co4;
    out[at] = activate4(acc0 + bias4);
    out[at + cout4] = activate4(acc1 + bias4);
    out[at + 2u * cout4] = activate4(acc2 + bias4);
    out[at + 3u * cout4] = activate4(acc3 + bias4);
    return;
  }
  out[p0 * cout4 + co4] = activate4(acc0 + bias4);
  if (p0 + 1u < pixels) { out[(p0 + 1u) * cout4 + co4] = activate4(acc1 + bias4); }
  if (p0 + 2u < pixels) { out[(p0 + 2u) * cout4 + co4] = activate4(acc2 + bias4); }
  if (p0 + 3u < pixels) { out[(p0 + 3u) * cout4 + co4] = activate4(acc3 + bias4); }
}

// conv2d_gemm_backward_input (needs CIN a multiple of 4)
@group(0) @binding(0) var<storage, read> dout: array<vec4f>;         // (B, OH, OW, COUT / 4)
@group(0) @binding(1) var<storage, read> weight_t: array<vec4f>;     // (KH, KW, CIN, COUT / 4), read as weight[tap]ᵀ
@group(0) @binding(2) var<storage, read_write> dinp: array<vec4f>;   // (B, H, W, CIN / 4)

// Output pixel that reads input pixel `i` at tap (kh, kw), if there is one.
fn output_over(i: Pixel, kh: u32, kw: u32) -> Neighbour {
  // oh · SH + kh − PAD_TOP == ih, and the same for the columns.
  let oh_scaled = i32(i.y + PAD_TOP) - i32(kh);
  let ow_scaled = i32(i.x + PAD_LEFT) - i32(kw);
  let oh = oh_scaled / i32(SH);
  let ow = ow_scaled / i32(SW);
  let exists = oh_scaled >= 0 && ow_scaled >= 0 && oh_scaled % i32(SH) == 0 && ow_scaled % i32(SW) == 0
    && oh < i32(OH) && ow < i32(OW);
  return Neighbour(select(0u, (i.b * OH + u32(oh)) * OW + u32(ow), exists), select(0.0, 1.0, exists));
}

// dinp[q0 + r, 4·ci4 .. 4·ci4 + 3] for r = 0 .. 3 (pixels past the last repeat it).
fn dinp_blocks(q0: u32, ci4: u32) -> array<vec4f, 4> {
  let pixels = B * H * W;
  let cout4 = COUT / 4u;
  let q1 = pixel_of(min(q0 + 1u, pixels - 1u), H, W);
  let q2 = pixel_of(min(q0 + 2u, pixels - 1u), H, W);
  let q3 = pixel_of(min(q0 + 3u, pixels - 1u), H, W);
  let q0p = pixel_of(q0, H, W);
  // acc_r holds dinp[q0 + r, 4·ci4 .. 4·ci4 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kh = 0u; kh < KH; kh++) {
    for (var kw = 0u; kw < KW; kw++) {
      let d0 = output_over(q0p, kh, kw);
      let d1 = output_over(q1, kh, kw);
      let d2 = output_over(q2, kh, kw);
      let d3 = output_over(q3, kh, kw);
      let w_rows = ((kh * KW + kw) * CIN + ci4 * 4u) * cout4;   // weight[kh, kw, 4·ci4, 0]
      // The tap's terms, weighted by 0 or 1 (whether the output pixel exists) once, after its loop.
      var tap0 = vec4f(0.0);
      var tap1 = vec4f(0.0);
      var tap2 = vec4f(0.0);
      var tap3 = vec4f(0.0);
      for (var k4 = 0u; k4 < cout4; k4++) {
        // Row r of w (a column of the mat) is weight[kh, kw, 4·ci4 + r, 4·k4 .. 4·k4 + 3]; d · w gives dot(d, row r).
        let w = mat4x4f(weight_t[w_rows + k4], weight_t[w_rows + cout4 + k4],
                        weight_t[w_rows + 2u * cout4 + k4], weight_t[w_rows + 3u * cout4 + k4]);
        tap0 += dout[d0.index * cout4 + k4] * w;
        tap1 += dout[d1.index * cout4 + k4] * w;
        tap2 += dout[d2.index * cout4 + k4] * w;
        tap3 += dout[d3.index * cout4 + k4] * w;
      }
      acc0 += tap0 * d0.scale;
      acc1 += tap1 * d1.scale;
      acc2 += tap2 * d2.scale;
      acc3 += tap3 * d3.scale;
    }
  }
  return array<vec4f, 4>(acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let ci4 = id.x;                         // input channels 4·ci4 .. 4·ci4 + 3
  let q0 = id.y * 4u;                     // input pixels q0 .. q0 + 3
  let pixels = B * H * W;
  let cin4 = CIN / 4u;
  if (ci4 >= cin4 || q0 >= pixels) { return; }
  let acc = dinp_blocks(q0, ci4);
  dinp[q0 * cin4 + ci4] = acc[0];
  if (q0 + 1u < pixels) { dinp[(q0 + 1u) * cin4 + ci4] = acc[1]; }
  if (q0 + 2u < pixels) { dinp[(q0 + 2u) * cin4 + ci4] = acc[2]; }
  if (q0 + 3u < pixels) { dinp[(q0 + 3u) * cin4 + ci4] = acc[3]; }
}

// conv2d_gemm_backward_input_act_grad: dinp = (the input gradient above) ⊙ act'(y), y the previous layer's output
@group(0) @binding(3) var<storage, read> act_y: array<vec4f>;        // (B, H, W, CIN / 4)

@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_backward_input_act_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let ci4 = id.x;
  let q0 = id.y * 4u;
  let pixels = B * H * W;
  let cin4 = CIN / 4u;
  if (ci4 >= cin4 || q0 >= pixels) { return; }
  let acc = dinp_blocks(q0, ci4);
  store_act_grad(q0, ci4, acc[0]);
  if (q0 + 1u < pixels) { store_act_grad(q0 + 1u, ci4, acc[1]); }
  if (q0 + 2u < pixels) { store_act_grad(q0 + 2u, ci4, acc[2]); }
  if (q0 + 3u < pixels) { store_act_grad(q0 + 3u, ci4, acc[3]); }
}

fn store_act_grad(q: u32, ci4: u32, sums: vec4f) {
  let e = q * (CIN / 4u) + ci4;
  dinp[e] = sums * activation_grad_from_output4(act_y[e]);
}

// conv2d_gemm_backward_weight
#if VEC_CIN
@group(0) @binding(0) var<storage, read> inp_w: array<vec4f>;        // (B, H, W, CIN / 4)
#else
@group(0) @binding(0) var<storage, read> inp_w: array<f32>;          // (B, H, W, CIN)
#endif
@group(0) @binding(1) var<storage, read> dout_w: array<vec4f>;       // (B, OH, OW, COUT / 4)
@group(0) @binding(2) var<storage, read_write> dweight: array<vec4f>; // (SPLIT, KH, KW, CIN, COUT / 4)

// The weight row (kh, kw, ci) of flattened index t.
fn tap_of(t: u32) -> vec3u {
  return vec3u(t / (KW * CIN), (t / CIN) % KW, t % CIN);
}

// The next output pixel in (b, oh, ow) order.
fn next_pixel(o: Pixel) -> Pixel {
  var n = o;
  n.x += 1u;
  if (n.x == OW) {
    n.x = 0u;
    n.y += 1u;
    if (n.y == OH) { n.y = 0u; n.b += 1u; }
  }
  return n;
}

// The output pixel four after o: one column wrap at most where OW >= 4.
fn next_pixel4(o: Pixel) -> Pixel {
  if (OW < 4u) { return next_pixel(next_pixel(next_pixel(next_pixel(o)))); }
  var n = o;
  n.x += 4u;
  if (n.x >= OW) {
    n.x -= OW;
    n.y += 1u;
    if (n.y == OH) { n.y = 0u; n.b += 1u; }
  }
  return n;
}

// The values of weight rows r0 .. r3 under output pixel o: patches[o, r0 .. r3].
fn patch4(o: Pixel, r0: vec3u, r1: vec3u, r2: vec3u, r3: vec3u) -> vec4f {
#if VEC_CIN
  // The four rows are channels ci .. ci + 3 of one tap: one pixel of the window.
  let at = input_under(o, r0.x, r0.y);
  return inp_w[at.index * (CIN / 4u) + r0.z / 4u] * at.scale;
#else
  let a0 = input_under(o, r0.x, r0.y);
  let a1 = input_under(o, r1.x, r1.y);
  let a2 = input_under(o, r2.x, r2.y);
  let a3 = input_under(o, r3.x, r3.y);
  return vec4f(inp_w[a0.index * CIN + r0.z] * a0.scale, inp_w[a1.index * CIN + r1.z] * a1.scale,
               inp_w[a2.index * CIN + r2.z] * a2.scale, inp_w[a3.index * CIN + r3.z] * a3.scale);
#endif
}

@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_backward_weight(@builtin(global_invocation_id) id: vec3u) {
  let co4 = id.x;                         // channels 4·co4 .. 4·co4 + 3
  let rows = KH * KW * CIN;
  let row_blocks = (rows + 3u) / 4u;
  let t0 = (id.y % row_blocks) * 4u;      // weight rows t0 .. t0 + 3
  let slice = id.y / row_blocks;          // which SPLIT slice of the pixels this thread sums
  let cout4 = COUT / 4u;
  if (co4 >= cout4 || slice >= SPLIT) { return; }
  let r0 = tap_of(t0);
  let r1 = tap_of(min(t0 + 1u, rows - 1u));
  let r2 = tap_of(min(t0 + 2u, rows - 1u));
  let r3 = tap_of(min(t0 + 3u, rows - 1u));
  let pixels = B * OH * OW;
  let per_slice = (pixels + SPLIT - 1u) / SPLIT;
  let first = slice * per_slice;
  let last = min(first + per_slice, pixels);
  // Column c of acc is the slice's sum for dweight row t0 + c, channels 4·co4 .. 4·co4 + 3.
  var acc = mat4x4f();
  var o = pixel_of(first, OH, OW);        // walks the pixels in order, without a division per pixel
#if VEC_CIN
  // Four pixels at a time: D's columns are their dout channels, X's their patch values, and
  // acc += D · Xᵀ adds Σ_k X[k][c] · D[k] to column c. Pixels past `last` count 0.
  for (var p = first; p < last; p += 4u) {
    let o1 = next_pixel(o);
    let o2 = next_pixel(o1);
    let o3 = next_pixel(o2);
    let live = vec3f(select(0.0, 1.0, p + 1u < last), select(0.0, 1.0, p + 2u < last), select(0.0, 1.0, p + 3u < last));
    let d = mat4x4f(dout_w[p * cout4 + co4], dout_w[min(p + 1u, last - 1u) * cout4 + co4],
                    dout_w[min(p + 2u, last - 1u) * cout4 + co4], dout_w[min(p + 3u, last - 1u) * cout4 + co4]);
    let x = mat4x4f(patch4(o, r0, r1, r2, r3), patch4(o1, r0, r1, r2, r3) * live.x,
                    patch4(o2, r0, r1, r2, r3) * live.y, patch4(o3, r0, r1, r2, r3) * live.z);
    acc += d * transpose(x);
    o = next_pixel(o3);
  }
#else
  // One pixel at a time (its four patch values come from up to four window pixels).
  for (var p = first; p < last; p++) {
    let d = dout_w[p * cout4 + co4];
    let x = patch4(o, r0, r1, r2, r3);
    acc += mat4x4f(x.x * d, x.y * d, x.z * d, x.w * d);
    o = next_pixel(o);
  }
#endif
  let base = slice * rows * cout4;
  dweight[base + t0 * cout4 + co4] = acc[0];
  if (t0 + 1u < rows) { dweight[base + (t0 + 1u) * cout4 + co4] = acc[1]; }
  if (t0 + 2u < rows) { dweight[base + (t0 + 2u) * cout4 + co4] = acc[2]; }
  if (t0 + 3u < rows) { dweight[base + (t0 + 3u) * cout4 + co4] = acc[3]; }
}

// The input gradient of a stride-1 convolution as a forward one (used where it
// applies, since the forward kernel's flat loop is the fastest of the three):
//
//   dinp = conv_valid(P, Wf)    P  = dout padded by KH − 1 − PAD_TOP rows above (KW − 1 − PAD_LEFT columns
//                                    left) and to (B, H + KH − 1, W + KW − 1, COUT), zeros around
//                               Wf[kh, kw, co, ci] = weight[KH − 1 − kh, KW − 1 − kw, ci, co]
//
// conv2d_gemm_pad_gradient writes P, conv2d_gemm_flip_weights writes Wf, and
// conv2d_gemm_forward (linear, zero bias) does the rest.

// conv2d_gemm_pad_gradient
@group(0) @binding(0) var<storage, read> dout_p: array<vec4f>;       // (B, OH, OW, COUT / 4)
@group(0) @binding(1) var<storage, read_write> padded: array<vec4f>; // (B, H + KH − 1, W + KW − 1, COUT / 4)

// Four vec4s of P per thread (an invocation costs about as much as a vec4
// copy on SwiftShader, so fewer, longer threads go faster).
@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_pad_gradient(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = 4u * (id.x + id.y * groups.x * WG_X);   // a 1-D grid folded into 2-D
  pad_one(t);
  pad_one(t + 1u);
  pad_one(t + 2u);
  pad_one(t + 3u);
}

// Element t of P (vec4 t % (COUT / 4) of its pixel), if P has it.
fn pad_one(t: u32) {
  let cout4 = COUT / 4u;
  let ph = H + KH - 1u;
  let pw = W + KW - 1u;
  if (t >= B * ph * pw * cout4) { return; }
  let c4 = t % cout4;
  let p = pixel_of(t / cout4, ph, pw);
  let oh = i32(p.y) - i32(KH - 1u - PAD_TOP);
  let ow = i32(p.x) - i32(KW - 1u - PAD_LEFT);
  let inside = oh >= 0 && oh < i32(OH) && ow >= 0 && ow < i32(OW);
  let source = select(0u, ((p.b * OH + u32(oh)) * OW + u32(ow)) * cout4 + c4, inside);
  padded[t] = select(vec4f(0.0), dout_p[source], inside);
}

// conv2d_gemm_flip_weights
@group(0) @binding(0) var<storage, read> weight_f: array<f32>;       // (KH, KW, CIN, COUT)
@group(0) @binding(1) var<storage, read_write> flipped: array<f32>;  // (KH, KW, COUT, CIN)

@compute @workgroup_size(WG_X, WG_Y)
fn conv2d_gemm_flip_weights(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = id.x + id.y * groups.x * WG_X;
  if (t >= KH * KW * CIN * COUT) { return; }
  let ci = t % CIN;
  let co = (t / CIN) % COUT;
  let kw = (t / (CIN * COUT)) % KW;
  let kh = t / (CIN * COUT * KW);
  flipped[t] = weight_f[(((KH - 1u - kh) * KW + (KW - 1u - kw)) * CIN + ci) * COUT + co];
}

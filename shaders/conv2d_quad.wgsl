// 2-D convolution, forward, for 'valid' windows and output channels in
// multiples of 4, on adapters with the `subgroups` feature: conv2d_gemm.wgsl's
// flat-loop forward product with the loads of the image shared inside quads,
// as dense_quad.wgsl shares the rows of its left operand.
//
// It is appended to conv2d_gemm.wgsl and uses its bindings
// (inp, weight, bias, out) and helpers (pixel_of, window_origin, next_in_window,
// store_forward, and for the weight gradient tap_of, next_pixel, patch4).
//
// A workgroup owns 8 output pixels, p0 .. p0 + 7, and WG_X blocks of 4 output
// channels; a thread owns the 8 pixels at one block of channels. Every thread
// of the workgroup reads the same 8 windows of the image. Thread q of a quad
// loads only pixels p0 + q and p0 + 4 + q at each step (one vec4 of input
// channels each), and quadBroadcast(·, r) hands every thread pixel r's: per
// step a thread loads 2 vec4s of the image where it would load 8, and its 4 of
// the weights, for 8 × 16 multiply-adds. Where CIN is not a multiple of 4 (no
// VEC_CIN: a first layer's one channel) a step is one channel: 2 floats of the
// image and 1 vec4 of weights for 8 × 4 multiply-adds. No thread returns before the loop
// (quadBroadcast needs the whole quad): threads past the last pixel or channel
// block read clamped indices and skip the store.
//
// The input gradient of a stride-1 convolution runs through this kernel too:
// it is a 'valid' forward convolution of the padded gradient (see
// conv2d_gemm.wgsl's pad_gradient and flip_weights).

enable subgroups;

@compute @workgroup_size(WG_X)
fn conv2d_quad_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                       @builtin(local_invocation_index) lane: u32,
                       @builtin(subgroup_invocation_id) sg_lane: u32) {
  let group = unfold_workgroup(wid, groups);
  let q = sg_lane % 4u;
  let cout4 = COUT / 4u;
#if VEC_CIN
  let steps = CIN / 4u;                   // steps of the reduction per window pixel: vec4s of channels
#else
  let steps = CIN;                        // or single channels
#endif
  let pixels = B * OH * OW;
  let co4 = group.x * WG_X + lane;        // output channels 4·co4 .. 4·co4 + 3
  let co4_read = min(co4, cout4 - 1u);
  let p0 = group.y * 8u;
  // The two pixels whose image values this thread loads for its quad.
  let origin_lo = window_origin(pixel_of(min(p0 + q, pixels - 1u), OH, OW)) * steps;
  let origin_hi = window_origin(pixel_of(min(p0 + 4u + q, pixels - 1u), OH, OW)) * steps;
  // acc_r holds out[p0 + r, 4·co4 .. 4·co4 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var walk = WindowWalk(0u, 0u, 0u);    // (kh, kw, ci / 4) or (kh, kw, ci) of the window, flattened
  for (var k = 0u; k < KH * KW * steps; k++) {
#if VEC_CIN
    let w_base = k * 4u * cout4 + co4_read;
    let w = mat4x4f(weight[w_base], weight[w_base + cout4], weight[w_base + 2u * cout4], weight[w_base + 3u * cout4]);
#else
    let w = weight[k * cout4 + co4_read];
#endif
    // w · x: a mat4x4f times a vec4f of channels, or a vec4f times one channel.
    let x_lo = inp[origin_lo + walk.at];
    let x_hi = inp[origin_hi + walk.at];
    acc0 += w * quadBroadcast(x_lo, 0u);
    acc1 += w * quadBroadcast(x_lo, 1u);
    acc2 += w * quadBroadcast(x_lo, 2u);
    acc3 += w * quadBroadcast(x_lo, 3u);
    acc4 += w * quadBroadcast(x_hi, 0u);
    acc5 += w * quadBroadcast(x_hi, 1u);
    acc6 += w * quadBroadcast(x_hi, 2u);
    acc7 += w * quadBroadcast(x_hi, 3u);
    walk = next_in_window(walk, steps);
  }
  if (FULL) {
    // Whole blocks of pixels and channels (FULL): no checks.
    store_forward(p0, co4, acc0, acc1, acc2, acc3);
    store_forward(p0 + 4u, co4, acc4, acc5, acc6, acc7);
    return;
  }
  if (co4 >= cout4 || p0 >= pixels) { return; }
  store_forward(p0, co4, acc0, acc1, acc2, acc3);
  if (p0 + 4u < pixels) { store_forward(p0 + 4u, co4, acc4, acc5, acc6, acc7); }
}

// conv2d_quad_backward_weight: conv2d_gemm_backward_weight with the same
// sharing. dweight (KH·KW·CIN, COUT) = patchesᵀ · dout, the pixels cut into
// SPLIT slices. A workgroup owns 8 weight rows, t0 .. t0 + 7 (with VEC_CIN two
// blocks of 4 channels of one tap; without, 8 rows that may span taps), of one
// slice; a thread owns them at one block of 4
// output channels. Its dout values are its own, but the patch values are the
// same for every thread: at each group of 4 pixels, thread q of a quad loads
// the patch values of pixel p + q only, and quadBroadcast hands them round.
@compute @workgroup_size(WG_X)
fn conv2d_quad_backward_weight(@builtin(workgroup_id) group: vec3u,
                               @builtin(local_invocation_index) lane: u32,
                               @builtin(subgroup_invocation_id) sg_lane: u32) {
  let q = sg_lane % 4u;
  let cout4 = COUT / 4u;
  let co4 = group.x * WG_X + lane;        // channels 4·co4 .. 4·co4 + 3
  let co4_read = min(co4, cout4 - 1u);
  let rows = KH * KW * CIN;
  let row_groups = (rows + 7u) / 8u;
  let t0 = (group.y % row_groups) * 8u;   // weight rows t0 .. t0 + 7
  let slice = group.y / row_groups;
#if VEC_CIN
  let tap_lo = tap_of(t0);                // rows t0 .. t0 + 3: channels of one tap (CIN % 4 == 0)
  let tap_hi = tap_of(min(t0 + 4u, rows - 4u));
#else
  // Rows t0 .. t0 + 7 one by one (they may span taps), clamped to the last.
  let r0 = tap_of(t0);
  let r1 = tap_of(min(t0 + 1u, rows - 1u));
  let r2 = tap_of(min(t0 + 2u, rows - 1u));
  let r3 = tap_of(min(t0 + 3u, rows - 1u));
  let r4 = tap_of(min(t0 + 4u, rows - 1u));
  let r5 = tap_of(min(t0 + 5u, rows - 1u));
  let r6 = tap_of(min(t0 + 6u, rows - 1u));
  let r7 = tap_of(min(t0 + 7u, rows - 1u));
#endif
  let pixels = B * OH * OW;
  let per_slice = (pixels + SPLIT - 1u) / SPLIT;
  let first = slice * per_slice;
  let last = min(first + per_slice, pixels);
  // Column c of acc_lo is the slice's sum for dweight row t0 + c; of acc_hi, row t0 + 4 + c.
  var acc_lo = mat4x4f();
  var acc_hi = mat4x4f();
  var o = pixel_of(min(first + q, pixels - 1u), OH, OW);   // pixel p + q, walked 4 at a time
  for (var p = first; p < last; p += 4u) {
    let live = select(0.0, 1.0, p + q < last);
#if VEC_CIN
    let x_lo = patch4(o, tap_lo, tap_lo, tap_lo, tap_lo) * live;
    let x_hi = patch4(o, tap_hi, tap_hi, tap_hi, tap_hi) * live;
#else
    let x_lo = patch4(o, r0, r1, r2, r3) * live;
    let x_hi = patch4(o, r4, r5, r6, r7) * live;
#endif
    let d = mat4x4f(dout_w[p * cout4 + co4_read], dout_w[min(p + 1u, last - 1u) * cout4 + co4_read],
                    dout_w[min(p + 2u, last - 1u) * cout4 + co4_read], dout_w[min(p + 3u, last - 1u) * cout4 + co4_read]);
    // Column k of each matrix: pixel p + k's patch values, from thread k of the quad.
    let xs_lo = mat4x4f(quadBroadcast(x_lo, 0u), quadBroadcast(x_lo, 1u), quadBroadcast(x_lo, 2u), quadBroadcast(x_lo, 3u));
    let xs_hi = mat4x4f(quadBroadcast(x_hi, 0u), quadBroadcast(x_hi, 1u), quadBroadcast(x_hi, 2u), quadBroadcast(x_hi, 3u));
    acc_lo += d * transpose(xs_lo);
    acc_hi += d * transpose(xs_hi);
    o = next_pixel4(o);
  }
  if (co4 >= cout4) { return; }
  // Columns named by constants (a variable index into a private matrix is a
  // gather from the stack on SwiftShader).
  let at = slice * rows * cout4 + co4;
  store_weight_row(at, t0, acc_lo[0]);
  store_weight_row(at, t0 + 1u, acc_lo[1]);
  store_weight_row(at, t0 + 2u, acc_lo[2]);
  store_weight_row(at, t0 + 3u, acc_lo[3]);
  store_weight_row(at, t0 + 4u, acc_hi[0]);
  store_weight_row(at, t0 + 5u, acc_hi[1]);
  store_weight_row(at, t0 + 6u, acc_hi[2]);
  store_weight_row(at, t0 + 7u, acc_hi[3]);
}

// dweight row t (if it exists) at one block of 4 channels, `at` the block's index in row 0.
fn store_weight_row(at: u32, t: u32, v: vec4f) {
  if (t < KH * KW * CIN) { dweight[at + t * (COUT / 4u)] = v; }
}

// 2-D convolution, Keras layout: NHWC activations, weight is (KH, KW, CIN, COUT).
// Strides SH, SW; padding is folded into PAD_TOP and PAD_LEFT ('valid' is 0,
// 'same' is TensorFlow's split with the extra row/column at the bottom/right).
//
//   conv2d_forward          out[b, oh, ow, co] = act(bias[co] + Σ_{kh,kw,ci} inp[b, ih, iw, ci] · weight[kh, kw, ci, co])
//                           with ih = oh·SH + kh − PAD_TOP, iw = ow·SW + kw − PAD_LEFT (terms outside the image are 0)
//   conv2d_backward_input   dinp[b, ih, iw, ci] = Σ_{kh,kw,co} dout[b, oh, ow, co] · weight[kh, kw, ci, co]
//                           over the (oh, ow) whose window covers (ih, iw) at offset (kh, kw)
//   conv2d_backward_input_act_grad  the same, times act'(y[b, ih, iw, ci]), y (B, H, W, CIN) the previous
//                           layer's output (its activation's backward pass folded into this one)
//   conv2d_backward_weight  dweight[kh, kw, ci, co] = Σ_{b,oh,ow} inp[b, ih, iw, ci] · dout[b, oh, ow, co]
//   (the bias gradient is bias_backward in bias.wgsl, over rows B·OH·OW)
//   conv2d_backward_weight_split   kernel 2 of the weight gradient: partial[b, kh, kw, ci, co] is the
//                           sum above for sample b alone; bias_backward then sums the B partials.
//                           B times the threads of kernel 1, for layers whose weights are few
//                           (a first conv layer has 9·32 of them and B·OH·OW = 21,632 terms each).
//
// As in dense.wgsl, `dout` is the gradient of the pre-activation sum, and
// gradients are written with `=`. This is the direct ("naive") convolution,
// kept as the oracle for faster ones: each thread computes 4 consecutive output
// channels of one output pixel (4 of dinp's input channels, 4 of dweight's
// output channels), so every input value it loads feeds 4 multiply-adds.

// The shape overrides (B, H, W, CIN, ...) are in lib/conv_shape.wgsl.
override WG_X: u32 = 64u;

// Threads are numbered across a 2-D grid of workgroups (one dimension alone
// allows only 65,535 of them).
fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG_X;
}

fn clamped4(first: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(first, min(first + 1u, last), min(first + 2u, last), min(first + 3u, last));
}

// conv2d_forward
@group(0) @binding(0) var<storage, read> inp: array<f32>;            // (B, H, W, CIN)
@group(0) @binding(1) var<storage, read> weight: array<f32>;         // (KH, KW, CIN, COUT)
@group(0) @binding(2) var<storage, read> bias: array<f32>;           // (COUT)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // (B, OH, OW, COUT)

@compute @workgroup_size(WG_X)
fn conv2d_forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (COUT + 3u) / 4u;
  let t = thread_index(id, groups);
  if (t >= B * OH * OW * blocks) { return; }
  let co0 = (t % blocks) * 4u;
  let pixel = t / blocks;                 // b · OH · OW + oh · OW + ow
  let ow = pixel % OW;
  let oh = (pixel / OW) % OH;
  let b = pixel / (OW * OH);
  let cos = clamped4(co0, COUT);
  var acc = vec4f(0.0);                   // out[b, oh, ow, co0 .. co0 + 3]
  for (var kh = 0u; kh < KH; kh++) {
    let ih = i32(oh * SH + kh) - i32(PAD_TOP);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let iw = i32(ow * SW + kw) - i32(PAD_LEFT);
      if (iw < 0 || iw >= i32(W)) { continue; }
      let x_base = ((b * H + u32(ih)) * W + u32(iw)) * CIN;
      let w_base = (kh * KW + kw) * CIN * COUT;
      for (var ci = 0u; ci < CIN; ci++) {
        let w_row = w_base + ci * COUT;
        let w = vec4f(weight[w_row + cos.x], weight[w_row + cos.y], weight[w_row + cos.z], weight[w_row + cos.w]);
        acc += inp[x_base + ci] * w;
      }
    }
  }
  let sums = acc + vec4f(bias[cos.x], bias[cos.y], bias[cos.z], bias[cos.w]);
  for (var c = 0u; c < 4u; c++) {
    if (co0 + c < COUT) { out[pixel * COUT + co0 + c] = activate(sums[c]); }
  }
}

// conv2d_backward_input
@group(0) @binding(0) var<storage, read> dout: array<f32>;           // (B, OH, OW, COUT)
@group(0) @binding(1) var<storage, read> weight_b: array<f32>;       // (KH, KW, CIN, COUT)
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;     // (B, H, W, CIN)

// dinp[pixel, ci0 .. ci0 + 3], pixel = b · H · W + ih · W + iw (channels past CIN repeat the last one).
fn dinp_block(pixel: u32, ci0: u32) -> vec4f {
  let iw = pixel % W;
  let ih = (pixel / W) % H;
  let b = pixel / (W * H);
  let cis = clamped4(ci0, CIN) * COUT;    // offsets of weight rows ci0 .. ci0 + 3 within a (kh, kw) slice
  var acc = vec4f(0.0);                   // dinp[b, ih, iw, ci0 .. ci0 + 3]
  for (var kh = 0u; kh < KH; kh++) {
    // Output row oh reads input row ih at offset kh when oh · SH + kh − PAD_TOP == ih.
    let oh_scaled = i32(ih + PAD_TOP) - i32(kh);
    if (oh_scaled < 0 || oh_scaled % i32(SH) != 0) { continue; }
    let oh = u32(oh_scaled) / SH;
    if (oh >= OH) { continue; }
    for (var kw = 0u; kw < KW; kw++) {
      let ow_scaled = i32(iw + PAD_LEFT) - i32(kw);
      if (ow_scaled < 0 || ow_scaled % i32(SW) != 0) { continue; }
      let ow = u32(ow_scaled) / SW;
      if (ow >= OW) { continue; }
      let d_base = ((b * OH + oh) * OW + ow) * COUT;
      let w_base = (kh * KW + kw) * CIN * COUT;
      for (var co = 0u; co < COUT; co++) {
        let w = vec4f(weight_b[w_base + cis.x + co], weight_b[w_base + cis.y + co],
                      weight_b[w_base + cis.z + co], weight_b[w_base + cis.w + co]);
        acc += dout[d_base + co] * w;
      }
    }
  }
  return acc;
}

@compute @workgroup_size(WG_X)
fn conv2d_backward_input(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (CIN + 3u) / 4u;
  let t = thread_index(id, groups);
  if (t >= B * H * W * blocks) { return; }
  let ci0 = (t % blocks) * 4u;
  let pixel = t / blocks;
  let acc = dinp_block(pixel, ci0);
  for (var c = 0u; c < 4u; c++) {
    if (ci0 + c < CIN) { dinp[pixel * CIN + ci0 + c] = acc[c]; }
  }
}

// conv2d_backward_input_act_grad: dinp = (the input gradient above) ⊙ act'(y), y the previous layer's output
@group(0) @binding(3) var<storage, read> act_y: array<f32>;          // (B, H, W, CIN)

@compute @workgroup_size(WG_X)
fn conv2d_backward_input_act_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (CIN + 3u) / 4u;
  let t = thread_index(id, groups);
  if (t >= B * H * W * blocks) { return; }
  let ci0 = (t % blocks) * 4u;
  let pixel = t / blocks;
  let acc = dinp_block(pixel, ci0);
  for (var c = 0u; c < 4u; c++) {
    let e = pixel * CIN + ci0 + c;
    if (ci0 + c < CIN) { dinp[e] = acc[c] * activation_grad_from_output(act_y[e]); }
  }
}

// conv2d_backward_weight
@group(0) @binding(0) var<storage, read> inp_w: array<f32>;          // (B, H, W, CIN)
@group(0) @binding(1) var<storage, read> dout_w: array<f32>;         // (B, OH, OW, COUT)
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;  // (KH, KW, CIN, COUT)

// Σ_{oh,ow} inp[b, ih, iw, ci] · dout[b, oh, ow, cos]: one sample's share of
// dweight[kh, kw, ci, cos], shared by both weight-gradient kernels.
fn sample_weight_grad(b: u32, kh: u32, kw: u32, ci: u32, cos: vec4u) -> vec4f {
  var acc = vec4f(0.0);
  for (var oh = 0u; oh < OH; oh++) {
    let ih = i32(oh * SH + kh) - i32(PAD_TOP);
    if (ih < 0 || ih >= i32(H)) { continue; }
    for (var ow = 0u; ow < OW; ow++) {
      let iw = i32(ow * SW + kw) - i32(PAD_LEFT);
      if (iw < 0 || iw >= i32(W)) { continue; }
      let x = inp_w[((b * H + u32(ih)) * W + u32(iw)) * CIN + ci];
      let d_row = ((b * OH + oh) * OW + ow) * COUT;
      acc += x * vec4f(dout_w[d_row + cos.x], dout_w[d_row + cos.y], dout_w[d_row + cos.z], dout_w[d_row + cos.w]);
    }
  }
  return acc;
}

@compute @workgroup_size(WG_X)
fn conv2d_backward_weight(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (COUT + 3u) / 4u;
  let t = thread_index(id, groups);
  if (t >= KH * KW * CIN * blocks) { return; }
  let co0 = (t % blocks) * 4u;
  let tap = t / blocks;                   // (kh · KW + kw) · CIN + ci
  let ci = tap % CIN;
  let kw = (tap / CIN) % KW;
  let kh = tap / (CIN * KW);
  let cos = clamped4(co0, COUT);
  var acc = vec4f(0.0);                   // dweight[kh, kw, ci, co0 .. co0 + 3]
  for (var b = 0u; b < B; b++) { acc += sample_weight_grad(b, kh, kw, ci, cos); }
  for (var c = 0u; c < 4u; c++) {
    if (co0 + c < COUT) { dweight[tap * COUT + co0 + c] = acc[c]; }
  }
}

// conv2d_backward_weight_split
@group(0) @binding(2) var<storage, read_write> dweight_partial: array<f32>;  // (B, KH, KW, CIN, COUT)

@compute @workgroup_size(WG_X)
fn conv2d_backward_weight_split(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let blocks = (COUT + 3u) / 4u;
  let t = thread_index(id, groups);
  if (t >= B * KH * KW * CIN * blocks) { return; }
  let co0 = (t % blocks) * 4u;
  let tap = (t / blocks) % (KH * KW * CIN);  // (kh · KW + kw) · CIN + ci
  let b = t / (blocks * KH * KW * CIN);
  let ci = tap % CIN;
  let kw = (tap / CIN) % KW;
  let kh = tap / (CIN * KW);
  let cos = clamped4(co0, COUT);
  let acc = sample_weight_grad(b, kh, kw, ci, cos);  // dweight_partial[b, kh, kw, ci, co0 .. co0 + 3]
  let base = (b * KH * KW * CIN + tap) * COUT;
  for (var c = 0u; c < 4u; c++) {
    if (co0 + c < COUT) { dweight_partial[base + co0 + c] = acc[c]; }
  }
}

// Dense (fully connected) layer, Keras layout: weight is (IN, OUT).
//
//   dense_forward          out[b, o]     = act(Σ_i inp[b, i] · weight[i, o] + bias[o])
//   dense_backward_input   dinp[b, i]    = Σ_o dout[b, o] · weight[i, o]      dinp = dout · weightᵀ
//   dense_backward_input_act_grad  the same, times act'(y[b, i]), y (B, IN) the previous layer's output
//   dense_backward_weight  dweight[i, o] = Σ_b inp[b, i] · dout[b, o]         dweight = inpᵀ · dout
//   (the bias gradient, Σ_b dout[b, o], is bias_backward in bias.wgsl)
//
// In the backward kernels `dout` is the gradient with respect to the
// pre-activation sum: activation_backward (activation.wgsl) has already
// multiplied dL/dy by act'(y) (or the input gradient of the next layer did, in
// its epilogue, as the act_grad entry point here does for the previous layer:
// that layer then skips its activation pass). Accumulate rule: gradients are written with `=`,
// never `+=`. One step computes the whole gradient of its batch, and nothing
// sums across steps, so the optimizer never has to zero them.
//
// Kernel 1 of the GEMM family: every thread keeps a 4×4 block of its output in
// registers, so each k-step costs 8 loads for 16 multiply-adds (a one-output
// thread does 2 loads per multiply-add). No workgroup memory and no barriers,
// which software rasterisers such as SwiftShader reward. Rows and columns past
// the edge are clamped to the last valid one: loads stay in bounds and the
// extra results are never stored, so any B, IN, OUT work (1, 3, 17, ...).

override B: u32;
override IN: u32;
override OUT: u32;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// dense_forward
@group(0) @binding(0) var<storage, read> inp: array<f32>;            // (B, IN)
@group(0) @binding(1) var<storage, read> weight: array<f32>;         // (IN, OUT)
@group(0) @binding(2) var<storage, read> bias: array<f32>;           // (OUT)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // (B, OUT)

// Four consecutive indices starting at `first`, clamped to `count - 1`.
fn clamped4(first: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(first, min(first + 1u, last), min(first + 2u, last), min(first + 3u, last));
}

@compute @workgroup_size(WG_X, WG_Y)
fn dense_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let o0 = id.x * 4u;
  let b0 = id.y * 4u;
  if (o0 >= OUT || b0 >= B) { return; }
  let rows = clamped4(b0, B) * IN;  // start of each input row
  let cols = clamped4(o0, OUT);
  // acc_r holds out[b0 + r, o0 .. o0 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var i = 0u; i < IN; i++) {
    let w_row = i * OUT;
    let w = vec4f(weight[w_row + cols.x], weight[w_row + cols.y], weight[w_row + cols.z], weight[w_row + cols.w]);
    acc0 += inp[rows.x + i] * w;
    acc1 += inp[rows.y + i] * w;
    acc2 += inp[rows.z + i] * w;
    acc3 += inp[rows.w + i] * w;
  }
  let bias4 = vec4f(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]);
  store_out(b0, o0, acc0 + bias4);
  store_out(b0 + 1u, o0, acc1 + bias4);
  store_out(b0 + 2u, o0, acc2 + bias4);
  store_out(b0 + 3u, o0, acc3 + bias4);
}

fn store_out(row: u32, col0: u32, sums: vec4f) {
  if (row >= B) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < OUT) { out[row * OUT + col0 + c] = activate(sums[c]); }
  }
}

// dense_backward_input
@group(0) @binding(0) var<storage, read> dout: array<f32>;           // (B, OUT)
@group(0) @binding(1) var<storage, read> weight_t: array<f32>;       // (IN, OUT), read as its transpose
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;     // (B, IN)

// The four rows' sums of one thread's block, dinp[b0 + r, i0 .. i0 + 3] in column r.
fn dinp_block(b0: u32, i0: u32) -> mat4x4f {
  let rows = clamped4(b0, B) * OUT;      // start of each dout row
  let w_rows = clamped4(i0, IN) * OUT;   // start of weight rows i0 .. i0 + 3
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var o = 0u; o < OUT; o++) {
    let w = vec4f(weight_t[w_rows.x + o], weight_t[w_rows.y + o], weight_t[w_rows.z + o], weight_t[w_rows.w + o]);
    acc0 += dout[rows.x + o] * w;
    acc1 += dout[rows.y + o] * w;
    acc2 += dout[rows.z + o] * w;
    acc3 += dout[rows.w + o] * w;
  }
  return mat4x4f(acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WG_X, WG_Y)
fn dense_backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let i0 = id.x * 4u;
  let b0 = id.y * 4u;
  if (i0 >= IN || b0 >= B) { return; }
  let acc = dinp_block(b0, i0);
  store_dinp(b0, i0, acc[0]);
  store_dinp(b0 + 1u, i0, acc[1]);
  store_dinp(b0 + 2u, i0, acc[2]);
  store_dinp(b0 + 3u, i0, acc[3]);
}

fn store_dinp(row: u32, col0: u32, sums: vec4f) {
  if (row >= B) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < IN) { dinp[row * IN + col0 + c] = sums[c]; }
  }
}

// dense_backward_input_act_grad: dinp = (dout · weightᵀ) ⊙ act'(y), y the previous layer's output (B, IN)
@group(0) @binding(3) var<storage, read> act_y: array<f32>;          // (B, IN)

@compute @workgroup_size(WG_X, WG_Y)
fn dense_backward_input_act_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let i0 = id.x * 4u;
  let b0 = id.y * 4u;
  if (i0 >= IN || b0 >= B) { return; }
  let acc = dinp_block(b0, i0);
  store_dinp_act_grad(b0, i0, acc[0]);
  store_dinp_act_grad(b0 + 1u, i0, acc[1]);
  store_dinp_act_grad(b0 + 2u, i0, acc[2]);
  store_dinp_act_grad(b0 + 3u, i0, acc[3]);
}

fn store_dinp_act_grad(row: u32, col0: u32, sums: vec4f) {
  if (row >= B) { return; }
  for (var c = 0u; c < 4u; c++) {
    let e = row * IN + col0 + c;
    if (col0 + c < IN) { dinp[e] = sums[c] * activation_grad_from_output(act_y[e]); }
  }
}

// dense_backward_weight
@group(0) @binding(0) var<storage, read> inp_t: array<f32>;          // (B, IN), read as its transpose
@group(0) @binding(1) var<storage, read> dout_w: array<f32>;         // (B, OUT)
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;  // (IN, OUT)

@compute @workgroup_size(WG_X, WG_Y)
fn dense_backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let id = unfold_invocation(gid, groups, WG_Y);
  let o0 = id.x * 4u;
  let i0 = id.y * 4u;
  if (o0 >= OUT || i0 >= IN) { return; }
  let ins = clamped4(i0, IN);
  let cols = clamped4(o0, OUT);
  // acc_r holds dweight[i0 + r, o0 .. o0 + 3]
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var b = 0u; b < B; b++) {
    let x_row = b * IN;
    let d_row = b * OUT;
    let d = vec4f(dout_w[d_row + cols.x], dout_w[d_row + cols.y], dout_w[d_row + cols.z], dout_w[d_row + cols.w]);
    acc0 += inp_t[x_row + ins.x] * d;
    acc1 += inp_t[x_row + ins.y] * d;
    acc2 += inp_t[x_row + ins.z] * d;
    acc3 += inp_t[x_row + ins.w] * d;
  }
  store_dweight(i0, o0, acc0);
  store_dweight(i0 + 1u, o0, acc1);
  store_dweight(i0 + 2u, o0, acc2);
  store_dweight(i0 + 3u, o0, acc3);
}

fn store_dweight(row: u32, col0: u32, sums: vec4f) {
  if (row >= IN) { return; }
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < OUT) { dweight[row * OUT + col0 + c] = sums[c]; }
  }
}

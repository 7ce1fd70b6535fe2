// The second pass of a split-K product (gemm.wgsl with SPLIT > 1): each thread
// adds one element's SPLIT partial sums in slice order, so the result is the
// same on every run, then the bias and the activation where the product has
// them.
//
//   c[m, n] = act(Σ_s partial[s, m, n] + bias[n])
//
// With a bias-gradient row (gemm.wgsl's BIAS_ROW), the partial sums have
// M + 1 rows and gemm_reduce_bias_grad writes the last one to bias_g.
// gemm_reduce_act_grad multiplies the sum by act'(y) instead (a dense input
// gradient carrying the previous layer's activation derivative).

override M: u32;
override N: u32;
override SPLIT: u32;
override ROWS: u32 = M; // rows of the partial sums: M, or M + 1 with the bias-gradient row

@group(0) @binding(0) var<storage, read> partial: array<f32>;   // (SPLIT, M, N)
@group(0) @binding(1) var<storage, read_write> c_sum: array<f32>; // (M, N)
@group(0) @binding(2) var<storage, read> bias_r: array<f32>;     // (N)
@group(0) @binding(2) var<storage, read_write> bias_g: array<f32>; // (N), gemm_reduce_bias_grad (in place of bias_r)
@group(0) @binding(2) var<storage, read> y_r: array<f32>;          // (M, N), gemm_reduce_act_grad (in place of bias_r)

fn sum_of_slices(e: u32) -> f32 {
  var s = 0.0;
  for (var slice = 0u; slice < SPLIT; slice++) { s += partial[slice * ROWS * N + e]; }
  return s;
}

// 1-D over the M·N elements, folded into 2-D past the adapter's limit per dimension.
@compute @workgroup_size(256)
fn gemm_reduce(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = id.x + id.y * groups.x * 256u;
  if (e >= M * N) { return; }
  c_sum[e] = sum_of_slices(e);
}

@compute @workgroup_size(256)
fn gemm_reduce_bias_act(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = id.x + id.y * groups.x * 256u;
  if (e >= M * N) { return; }
  c_sum[e] = activate(sum_of_slices(e) + bias_r[e % N]);
}

@compute @workgroup_size(256)
fn gemm_reduce_bias_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = id.x + id.y * groups.x * 256u;
  if (e >= ROWS * N) { return; }
  if (e < M * N) { c_sum[e] = sum_of_slices(e); } else { bias_g[e - M * N] = sum_of_slices(e); }
}

@compute @workgroup_size(256)
fn gemm_reduce_act_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let e = id.x + id.y * groups.x * 256u;
  if (e >= M * N) { return; }
  c_sum[e] = sum_of_slices(e) * activation_grad_from_output(y_r[e]);
}

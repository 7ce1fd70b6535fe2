// Bias gradient, shared by dense and conv2d: the bias is added to every row of
// the output (every sample, and for conv2d every pixel), so its gradient sums
// the output gradient over those rows.
//
//   bias_backward   dbias[g, c] = Σ_{r in group g} dout[r, c]     dout is (ROWS, COLS), dbias (GROUPS, COLS)
//
// With GROUPS = 1 this is the plain column sum. A long sum (conv2d's B·OH·OW
// rows) runs in two passes for parallelism: GROUPS = B gives one partial row
// per sample, then GROUPS = 1 over those partials. The same kernel also sums
// the per-sample partial weight gradients of conv2d_backward_weight_split.
// Accumulate rule: written with `=` (see dense.wgsl). Each thread sums its
// rows in a fixed order (four interleaved running sums), so the result is
// deterministic.

override ROWS: u32;
override COLS: u32;
override GROUPS: u32 = 1u;   // must divide ROWS
override WG_X: u32 = 64u;

@group(0) @binding(0) var<storage, read> dout: array<f32>;           // (ROWS, COLS)
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;    // (GROUPS, COLS)

@compute @workgroup_size(WG_X)
fn bias_backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = id.x + id.y * groups.x * WG_X;
  if (t >= GROUPS * COLS) { return; }
  let c = t % COLS;
  let g = t / COLS;
  let rows = ROWS / GROUPS;
  // Four running sums (rows r, r + 1, r + 2, r + 3 of each step of 4), added
  // up at the end: four independent loads per loop step instead of one.
  let first = g * rows;
  let end = first + rows;
  let end4 = first + rows - rows % 4u;
  var sums = vec4f(0.0);
  var at = first * COLS + c;
  for (var r = first; r < end4; r += 4u) {
    sums += vec4f(dout[at], dout[at + COLS], dout[at + 2u * COLS], dout[at + 3u * COLS]);
    at += 4u * COLS;
  }
  for (var r = end4; r < end; r++) {
    sums.x += dout[at];
    at += COLS;
  }
  dbias[t] = (sums.x + sums.y) + (sums.z + sums.w);
}

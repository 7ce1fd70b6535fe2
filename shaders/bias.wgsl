// Bias gradient, shared by dense and conv2d: the bias is added to every row of
// the output (every sample, and for conv2d every pixel), so its gradient sums
// the output gradient over those rows.
//
//   bias_backward   dbias[c] = Σ_r dout[r, c]     dout is (ROWS, COLS)
//
// Accumulate rule: written with `=` (see dense.wgsl). One thread per column;
// the rows of a column are summed in order, so the result is deterministic.

override ROWS: u32;
override COLS: u32;
override WG_X: u32 = 64u;

@group(0) @binding(0) var<storage, read> dout: array<f32>;           // (ROWS, COLS)
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;    // (COLS)

@compute @workgroup_size(WG_X)
fn bias_backward(@builtin(global_invocation_id) id: vec3u) {
  let c = id.x;
  if (c >= COLS) { return; }
  var sum = 0.0;
  for (var r = 0u; r < ROWS; r++) { sum += dout[r * COLS + c]; }
  dbias[c] = sum;
}

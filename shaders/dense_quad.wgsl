// Dense layer, the quad family: the three products of a dense layer as one
// strided matrix product, for adapters with the `subgroups` feature.
//
//   c[m, n] = Σ_k a(m, k) · b(k, n)
//   a(m, k) = a_mat[m · A_M + k · A_K]     b(k, n) = b_mat[k · B_K + n · B_N]
//
//   entry point                  a (M × K)  b (K × N)  c (M × N)  A_M  A_K  B_K  B_N
//   dense_quad_forward           inp        weight     out        IN   1    OUT  1    (+ bias, activation)
//   dense_quad_backward_input    dout       weightᵀ    dinp       OUT  1    1    OUT
//   dense_quad_backward_weight   inpᵀ       dout       dweight    1    IN   OUT  1
//   dense_quad_backward_input_act_grad: the input gradient times act'(y), y
//   the previous layer's output (M × N, binding 3), from that layer's outputs
//
// The three entry points share the product (`product` below) and differ in
// their strides (override constants) and in what they store.
//
// A workgroup owns 8 rows of c and WG_X · 4 of its columns; a thread owns the
// 8 rows at 4 columns, n, n + WG_X, n + 2·WG_X, n + 3·WG_X, so neighbouring
// threads read neighbouring columns of b. All the threads of a workgroup need
// the same 8 rows of a. Instead of each thread loading all of them, the four
// threads of a quad split the work: thread q of the quad loads a(m, k + q) for
// the 8 rows, and quadBroadcast(value, j) hands every thread of the quad the
// value thread j loaded. A quad thus loads 4 values of a where four separate
// threads would load 16.
//
// Why: a software adapter (SwiftShader) runs a quad's threads as the lanes of
// one CPU vector, and a load whose address is not a constant costs one scalar
// load per lane even when the lanes' addresses are equal; the broadcast is one
// shuffle. Measured there, the forward product of s001-dense (32 × 784 × 128)
// runs about 1.5× faster than dense_tiled.wgsl's.
//
// The stores name each column of the tile with a constant (t.lo[0], not
// t.lo[r] in a loop): SwiftShader turns a variable index into a private
// matrix into a gather, lane by lane, from the stack.
//
// quadBroadcast needs all four threads of a quad active, so no thread returns
// early: threads past the last row or column compute on clamped indices and
// skip the store. Any M, N, K: the last K mod 4 steps are done without quads.

enable subgroups;

override M: u32;
override N: u32;
override K: u32;
override A_M: u32;
override A_K: u32;
override B_K: u32;
override B_N: u32;
override WG_X: u32 = 16u;
override FULL: bool = false;   // M % 8 == 0 and N % (4 · WG_X) == 0: every tile lies inside c, stores need no checks

const ROWS = 8u;   // rows of c per workgroup (and per thread)
const COLS = 4u;   // columns of c per thread, WG_X apart

@group(0) @binding(0) var<storage, read> a_mat: array<f32>;
@group(0) @binding(1) var<storage, read> b_mat: array<f32>;

// a at rows m0 .. m0 + 3, column k, as one vec4 (rows past M read row M - 1).
fn a_rows(m0: u32, k: u32) -> vec4f {
  let last = M - 1u;
  return vec4f(a_mat[min(m0, last) * A_M + k * A_K],
               a_mat[min(m0 + 1u, last) * A_M + k * A_K],
               a_mat[min(m0 + 2u, last) * A_M + k * A_K],
               a_mat[min(m0 + 3u, last) * A_M + k * A_K]);
}

// b at row k and this thread's four columns (already clamped to N - 1).
fn b_cols(k: u32, cols: vec4u) -> vec4f {
  return vec4f(b_mat[k * B_K + cols.x * B_N], b_mat[k * B_K + cols.y * B_N],
               b_mat[k * B_K + cols.z * B_N], b_mat[k * B_K + cols.w * B_N]);
}

// Column r of the result is col · row[r]: the outer product of two vec4s.
fn outer(col: vec4f, row: vec4f) -> mat4x4f {
  return mat4x4f(col * row.x, col * row.y, col * row.z, col * row.w);
}

// One thread's share of c: rows m0 .. m0 + 7 at columns n (some may lie past
// M or N). Column r of lo is c[m0 + r, n]; of hi, c[m0 + 4 + r, n].
struct Tile {
  m0: u32,
  n: vec4u,
  lo: mat4x4f,
  hi: mat4x4f,
}

fn product(group: vec3u, lane: u32, sg_lane: u32) -> Tile {
  let q = sg_lane % 4u;                 // this thread's place in its quad
  let m0 = group.y * ROWS;
  let n = group.x * WG_X * COLS + lane + vec4u(0u, 1u, 2u, 3u) * WG_X;
  let cols = min(n, vec4u(N - 1u));
  var lo = mat4x4f();
  var hi = mat4x4f();
  let k_quads = K - K % 4u;
  for (var k = 0u; k < k_quads; k += 4u) {
    // Thread q loads column k + q of the 8 rows; quadBroadcast(·, j) gives column k + j.
    let a_lo = a_rows(m0, k + q);
    let a_hi = a_rows(m0 + 4u, k + q);
    let b0 = b_cols(k, cols);
    lo += outer(b0, quadBroadcast(a_lo, 0u));
    hi += outer(b0, quadBroadcast(a_hi, 0u));
    let b1 = b_cols(k + 1u, cols);
    lo += outer(b1, quadBroadcast(a_lo, 1u));
    hi += outer(b1, quadBroadcast(a_hi, 1u));
    let b2 = b_cols(k + 2u, cols);
    lo += outer(b2, quadBroadcast(a_lo, 2u));
    hi += outer(b2, quadBroadcast(a_hi, 2u));
    let b3 = b_cols(k + 3u, cols);
    lo += outer(b3, quadBroadcast(a_lo, 3u));
    hi += outer(b3, quadBroadcast(a_hi, 3u));
  }
  for (var k = k_quads; k < K; k++) {
    let b = b_cols(k, cols);
    lo += outer(b, a_rows(m0, k));
    hi += outer(b, a_rows(m0 + 4u, k));
  }
  return Tile(m0, n, lo, hi);
}

// All three write c at binding 2; the forward reads its bias at binding 3.
@group(0) @binding(2) var<storage, read_write> c_mat: array<f32>;   // (M, N)
@group(0) @binding(3) var<storage, read> bias: array<f32>;          // (N), dense_quad_forward only
@group(0) @binding(3) var<storage, read> act_y: array<f32>;         // (M, N), dense_quad_backward_input_act_grad only

// dense_quad_forward: out = act(inp · weight + bias)
@compute @workgroup_size(WG_X)
fn dense_quad_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                      @builtin(local_invocation_index) lane: u32,
                      @builtin(subgroup_invocation_id) sg_lane: u32) {
  var t = product(unfold_workgroup(wid, groups), lane, sg_lane);
  let cols = min(t.n, vec4u(N - 1u));
  let b = vec4f(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]);
  t.lo = mat4x4f(activate4(t.lo[0] + b), activate4(t.lo[1] + b), activate4(t.lo[2] + b), activate4(t.lo[3] + b));
  t.hi = mat4x4f(activate4(t.hi[0] + b), activate4(t.hi[1] + b), activate4(t.hi[2] + b), activate4(t.hi[3] + b));
  store_tile(t);
}

// dense_quad_backward_input: dinp = dout · weightᵀ; dense_quad_backward_weight: dweight = inpᵀ · dout

@compute @workgroup_size(WG_X)
fn dense_quad_backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                             @builtin(local_invocation_index) lane: u32,
                             @builtin(subgroup_invocation_id) sg_lane: u32) {
  store_tile(product(unfold_workgroup(wid, groups), lane, sg_lane));
}

// act'(y) at row m (clamped) and the thread's columns (clamped).
fn act_grad_row(m: u32, cols: vec4u) -> vec4f {
  let row = min(m, M - 1u) * N;
  return activation_grad_from_output4(vec4f(act_y[row + cols.x], act_y[row + cols.y], act_y[row + cols.z], act_y[row + cols.w]));
}

@compute @workgroup_size(WG_X)
fn dense_quad_backward_input_act_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                                      @builtin(local_invocation_index) lane: u32,
                                      @builtin(subgroup_invocation_id) sg_lane: u32) {
  var t = product(unfold_workgroup(wid, groups), lane, sg_lane);
  let cols = min(t.n, vec4u(N - 1u));
  t.lo = mat4x4f(t.lo[0] * act_grad_row(t.m0, cols), t.lo[1] * act_grad_row(t.m0 + 1u, cols),
                 t.lo[2] * act_grad_row(t.m0 + 2u, cols), t.lo[3] * act_grad_row(t.m0 + 3u, cols));
  t.hi = mat4x4f(t.hi[0] * act_grad_row(t.m0 + 4u, cols), t.hi[1] * act_grad_row(t.m0 + 5u, cols),
                 t.hi[2] * act_grad_row(t.m0 + 6u, cols), t.hi[3] * act_grad_row(t.m0 + 7u, cols));
  store_tile(t);
}

@compute @workgroup_size(WG_X)
fn dense_quad_backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u,
                              @builtin(local_invocation_index) lane: u32,
                              @builtin(subgroup_invocation_id) sg_lane: u32) {
  store_tile(product(unfold_workgroup(wid, groups), lane, sg_lane));
}

fn store_tile(t: Tile) {
  store_c(t.m0, t.lo[0], t.n);
  store_c(t.m0 + 1u, t.lo[1], t.n);
  store_c(t.m0 + 2u, t.lo[2], t.n);
  store_c(t.m0 + 3u, t.lo[3], t.n);
  store_c(t.m0 + 4u, t.hi[0], t.n);
  store_c(t.m0 + 5u, t.hi[1], t.n);
  store_c(t.m0 + 6u, t.hi[2], t.n);
  store_c(t.m0 + 7u, t.hi[3], t.n);
}

fn store_c(m: u32, v: vec4f, n: vec4u) {
  if (FULL) {
    c_mat[m * N + n.x] = v.x;
    c_mat[m * N + n.y] = v.y;
    c_mat[m * N + n.z] = v.z;
    c_mat[m * N + n.w] = v.w;
    return;
  }
  if (m >= M) { return; }
  if (n.x < N) { c_mat[m * N + n.x] = v.x; }
  if (n.y < N) { c_mat[m * N + n.y] = v.y; }
  if (n.z < N) { c_mat[m * N + n.z] = v.z; }
  if (n.w < N) { c_mat[m * N + n.w] = v.w; }
}

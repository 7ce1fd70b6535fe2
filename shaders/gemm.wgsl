// GEMM, the workgroup-memory family: c = a · b, c (M, N) row-major. Where a
// and b come from is a separate file prepended to this one, which defines
// load_a(m, k, k_end) and load_b(k, n, k_end) (0 outside the operand):
//
//   shaders/lib/gemm_strided.wgsl  the three dense products: a and b read
//                                  through strides, no transpose materialised
//   shaders/lib/gemm_conv.wgsl     the three conv products as implicit GEMMs:
//                                  a or b gathered from the image's windows
//
// The strided operands:
//
//   a is (M, K): element (m, k) at a_mat[m·A_M + k·A_K]
//   b is (K, N): element (k, n) at b_mat[k·B_K + n·B_N]
//
//   dense forward          M = B,  K = IN,  N = OUT:  a = inp,   b = weight
//   dense backward input   M = B,  K = OUT, N = IN:   a = dout,  b = weightᵀ (B_K = 1, B_N = OUT)
//   dense backward weight  M = IN, K = B,   N = OUT:  a = inpᵀ (A_M = 1, A_K = IN), b = dout
//
// A workgroup of 16×16 threads computes a tile of c, each thread a BLOCK×BLOCK
// register block: BLOCK = 4 gives 64×64 tiles walked along K in steps of 16,
// BLOCK = 8 gives 128×128 tiles in steps of 8 (fewer loads per multiply-add,
// for large products). At each step the whole workgroup copies a TM×TK block of
// a and a TK×TN block of b into workgroup memory (each thread 4 + 4 loads,
// consecutive threads along whichever axis of the operand is contiguous in
// memory: A_ALONG_K, B_ALONG_N), then every thread reads its rows and columns
// of them as vec4s and does TK × BLOCK × BLOCK multiply-adds. The thread
// (tx, ty) owns rows ty·4 + i and 64 + ty·4 + i (the second set for BLOCK = 8
// only; i < 4), and the same columns with tx.
//
// Split K (SPLIT > 1): the x axis of the grid also runs over SPLIT slices of K,
// each K_SLICE long, and each workgroup writes its slice's partial sums to
// c_mat as (SPLIT, M, N); gemm_reduce.wgsl adds the slices in order (no float
// atomics: the result does not depend on scheduling), then the bias and the
// activation. This gives a skinny product (batch 32 × 784 inputs) enough
// workgroups to fill a GPU.
//
// The bias gradient of a dense layer, Σ_b dout[b, n], rides along with its
// weight gradient (BIAS_ROW = 1): a has one more row, all ones, whose product
// with b is that sum; gemm_bias_grad stores it to bias_grad (with split K,
// gemm_reduce.wgsl does). One dispatch fewer per layer, and the same order of
// additions as the weight gradient's.
//
// The input gradient of a dense layer may carry the previous layer's
// activation derivative in its epilogue (gemm_act_grad, SPLIT = 1; with split
// K, gemm_reduce_act_grad): c = (a · b) ⊙ act'(y), y that layer's output at
// binding 3, act' from y (activation_grad_from_output, shaders/lib/
// activation_fn.wgsl). The previous layer then skips its own activation pass.
//
// The grid's y axis (row tiles) may be folded into z when it passes the
// adapter's limit per dimension (shaders/lib/grid.wgsl).
//
// Twins: src/reference/dense.ts, conv2d.ts. Variant selection: src/ops/dense.ts, conv2d.ts.

override M: u32;
override N: u32;
override K: u32;
override A_ALONG_K: bool = true;  // a's elements (m, k), (m, k + 1) are neighbours in memory
override B_ALONG_N: bool = true;  // b's elements (k, n), (k, n + 1) are neighbours in memory
override BIAS_ROW: u32 = 0u;
override ROWS: u32 = M + BIAS_ROW; // rows of the product: a's, and the ones row
override SPLIT: u32 = 1u;
override K_SLICE: u32 = K;

override BLOCK: u32 = 4u;          // outputs per thread along each axis: 4 or 8
override TM: u32 = 16u * BLOCK;    // rows of c per workgroup
override TN: u32 = 16u * BLOCK;    // columns of c per workgroup
override TK: u32 = 1024u / TM;     // depth of one step along K: a step's block of a is 1,024 floats
const THREADS = 256u;              // 16 × 16
const HALVES = 2u;                 // vec4 groups per row of acc (the second is used with BLOCK = 8)

var<workgroup> a_tile: array<vec4f, 256>; // [k][m]: TK × TM floats, 4 to a vec4
var<workgroup> b_tile: array<vec4f, 256>; // [k][n]: TK × TN

@group(0) @binding(0) var<storage, read> a_mat: array<f32>;
@group(0) @binding(1) var<storage, read> b_mat: array<f32>;
@group(0) @binding(2) var<storage, read_write> c_mat: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> bias_grad: array<f32>; // gemm_bias_grad (in place of bias)
@group(0) @binding(3) var<storage, read> act_y: array<f32>;           // gemm_act_grad: (M, N), act'(y) multiplies c

// acc[i·2 + h] holds c[row0 + row(i), col0 + 64h + tx·4 + j] for j = 0..3 in its lanes.
var<private> acc: array<vec4f, 16>;

// The thread's i-th row (or column, with tx) within the tile.
fn own(i: u32, t: u32) -> u32 {
  return (i / 4u) * 64u + t * 4u + i % 4u;
}

struct Tile {
  row0: u32,
  col0: u32,
  k_begin: u32,
  k_end: u32,
  slice: u32,
  inside: bool, // false for the workgroups a folded grid adds past the last row tile
}

fn tile_of(group: vec3u, groups: vec3u) -> Tile {
  let col_tiles = (N + TN - 1u) / TN;
  let row_tile = unfold_workgroup(group, groups).y;
  let slice = group.x / col_tiles;
  let k_begin = slice * K_SLICE;
  return Tile(row_tile * TM, (group.x % col_tiles) * TN, k_begin, min(k_begin + K_SLICE, K), slice,
              row_tile * TM < ROWS);
}

// One element of a, or 0 outside (m < M, k < k_end); 1 on the ones row.
fn a_or_ones(m: u32, k: u32, k_end: u32) -> f32 {
  if (k >= k_end) { return 0.0; }
  if (m < M) { return load_a(m, k); }
  if (m < ROWS) { return 1.0; }
  return 0.0;
}

fn b_or_zero(k: u32, n: u32, k_end: u32) -> f32 {
  if (k < k_end && n < N) { return load_b(k, n); }
  return 0.0;
}

// The tile's product over its K range into acc. Every thread of the workgroup
// calls it (it has barriers); `t` is the thread's index in the workgroup.
fn tile_product(tile: Tile, tx: u32, ty: u32, t: u32) {
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4f(0.0); }
  for (var k0 = tile.k_begin; k0 < tile.k_end; k0 += TK) {
    for (var p = 0u; p < 4u; p++) {
      let e = t + p * THREADS;
      // a: walk k fastest when k is contiguous in memory, else m.
      var am = e / TK;
      var ak = e % TK;
      if (!A_ALONG_K) { am = e % TM; ak = e / TM; }
      let ai = ak * TM + am;
      a_tile[ai / 4u][ai % 4u] = a_or_ones(tile.row0 + am, k0 + ak, tile.k_end);
      var bn = e % TN;
      var bk = e / TN;
      if (!B_ALONG_N) { bk = e % TK; bn = e / TK; }
      let bi = bk * TN + bn;
      b_tile[bi / 4u][bi % 4u] = b_or_zero(k0 + bk, tile.col0 + bn, tile.k_end);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let a_row = kk * TM / 4u;
      let b_row = kk * TN / 4u;
      let a0 = a_tile[a_row + ty];       // rows ty·4 .. ty·4 + 3
      let b0 = b_tile[b_row + tx];       // columns tx·4 .. tx·4 + 3
      for (var i = 0u; i < 4u; i++) { acc[i * HALVES] = fma(vec4f(a0[i]), b0, acc[i * HALVES]); }
      if (BLOCK == 8u) {
        let a1 = a_tile[a_row + 16u + ty]; // rows 64 + ty·4 ..
        let b1 = b_tile[b_row + 16u + tx]; // columns 64 + tx·4 ..
        for (var i = 0u; i < 4u; i++) {
          acc[i * HALVES + 1u] = fma(vec4f(a0[i]), b1, acc[i * HALVES + 1u]);
          acc[(4u + i) * HALVES] = fma(vec4f(a1[i]), b0, acc[(4u + i) * HALVES]);
          acc[(4u + i) * HALVES + 1u] = fma(vec4f(a1[i]), b1, acc[(4u + i) * HALVES + 1u]);
        }
      }
    }
    workgroupBarrier();
  }
}

// The thread's accumulated value at its i-th row and j-th column.
fn acc_at(i: u32, j: u32) -> f32 {
  return acc[i * HALVES + j / 4u][j % 4u];
}

// c = act(a · b + bias) (SPLIT = 1 only).
@compute @workgroup_size(16, 16)
fn gemm_bias_act(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                 @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = tile_of(group, groups);
  if (!tile.inside) { return; } // the same for the whole workgroup
  tile_product(tile, local.x, local.y, t);
  for (var i = 0u; i < BLOCK; i++) {
    let m = tile.row0 + own(i, local.y);
    for (var j = 0u; j < BLOCK; j++) {
      let n = tile.col0 + own(j, local.x);
      if (m < M && n < N) { c_mat[m * N + n] = activate(acc_at(i, j) + bias[n]); }
    }
  }
}

// c = a · b, or with SPLIT > 1 the slice's partial sums at c[slice, m, n]
// (ROWS rows: with BIAS_ROW, the ones row's too).
@compute @workgroup_size(16, 16)
fn gemm(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
        @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = tile_of(group, groups);
  if (!tile.inside) { return; }
  tile_product(tile, local.x, local.y, t);
  let base = tile.slice * ROWS * N;
  for (var i = 0u; i < BLOCK; i++) {
    let m = tile.row0 + own(i, local.y);
    for (var j = 0u; j < BLOCK; j++) {
      let n = tile.col0 + own(j, local.x);
      if (m < ROWS && n < N) { c_mat[base + m * N + n] = acc_at(i, j); }
    }
  }
}

// c = a · b and the ones row's product to bias_grad (BIAS_ROW = 1, SPLIT = 1).
@compute @workgroup_size(16, 16)
fn gemm_bias_grad(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                  @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = tile_of(group, groups);
  if (!tile.inside) { return; }
  tile_product(tile, local.x, local.y, t);
  for (var i = 0u; i < BLOCK; i++) {
    let m = tile.row0 + own(i, local.y);
    for (var j = 0u; j < BLOCK; j++) {
      let n = tile.col0 + own(j, local.x);
      if (n < N) {
        if (m < M) { c_mat[m * N + n] = acc_at(i, j); } else if (m == M) { bias_grad[n] = acc_at(i, j); }
      }
    }
  }
}

// c = (a · b) ⊙ act'(y) (SPLIT = 1 only): a dense input gradient with the previous layer's activation derivative.
@compute @workgroup_size(16, 16)
fn gemm_act_grad(@builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u,
                 @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) t: u32) {
  let tile = tile_of(group, groups);
  if (!tile.inside) { return; }
  tile_product(tile, local.x, local.y, t);
  for (var i = 0u; i < BLOCK; i++) {
    let m = tile.row0 + own(i, local.y);
    for (var j = 0u; j < BLOCK; j++) {
      let n = tile.col0 + own(j, local.x);
      if (m < M && n < N) { c_mat[m * N + n] = acc_at(i, j) * activation_grad_from_output(act_y[m * N + n]); }
    }
  }
}

// Gaussian generative classifier: per class c a mean μ_c, a full covariance
// Σ_c (+ λ·I) and a prior π_c; an image x is scored by
//
//   log π_c + log N(x; μ_c, Σ_c) = log π_c − ½·log det Σ_c − (D/2)·log 2π − ½·‖A_c (x − μ_c)‖²
//
// where Σ_c = L_c L_cᵀ (Cholesky) and A_c = L_c⁻¹ (lower triangular). The GPU
// does the two big matrix products; the CPU does the small, sequential f64
// work between them (covariance, Cholesky, log-determinant, A_c): see
// src/classic/gaussian.ts.
//
//   gaussian_pack    training bytes → words of 4 examples of one class, one feature (+ a constant 1 feature)
//   gaussian_gram    S[i, j] = Σ_n x̃_n[i] · x̃_n[j] over the examples of one block, exactly, in u32
//   gaussian_score   q[n, c] = ‖A_c (x_n − μ_c)‖², for every test image n and class c
//
// The Gram matrix is taken of x̃ = (x, 1): its last column is Σ_n x_n and its
// corner is the example count, so one product yields the counts, the sums and
// the second moments, all exact integers. Each entry is at most
// (examples in the block) · 255², so a block of at most 66,051 examples cannot
// overflow 2³² (the host cuts larger classes into blocks of 66,048).
//
// The kernels keep their tiles in registers and read the buffers directly:
// each thread owns a 4×4 block of outputs, so every pair of loads feeds 16
// dot products (Gram) or every 9 loads feed 64 multiply-adds (score).
// Workgroup-memory tiles with barriers measured twice as slow on SwiftShader
// (a CPU driver); on a real GPU both products take milliseconds either way.

#if PACKED_DOT
requires packed_4x8_integer_dot_product;
#endif

override D: u32;             // features (pixels) per image

// The four bytes of a word, low byte first.
fn bytes4(word: u32) -> vec4u {
  return (vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(255u);
}

// ---------------------------------------------------------------------------
// gaussian_pack: the training images, regrouped for the Gram product.
//
// order is (SLOTS): the example index of each slot, or EMPTY. The host lists
// the examples class by class, each block (a class, or part of a large one)
// padded with EMPTY slots to a multiple of 4, so four consecutive slots (a
// "group") never mix blocks.
// packed is (SLOTS / 4, DP): word [g, i] holds feature i of the four examples
// of group g, one byte each (slot 4g + s in byte s). Feature D is the constant
// 1 of x̃ (0 for an EMPTY slot); features D + 1 .. DP − 1 are 0 padding.

const EMPTY: u32 = 0xffffffffu;
override WG_X: u32 = 64u;
override DP: u32;            // features of x̃, rounded up to a multiple of 4
override GROUPS: u32;        // SLOTS / 4

@group(0) @binding(0) var<storage, read> images: array<u32>;         // (N, D) bytes, row-major, as words
@group(0) @binding(1) var<storage, read> order: array<u32>;          // (SLOTS)
@group(0) @binding(2) var<storage, read_write> packed_out: array<u32>; // (GROUPS, DP)

@compute @workgroup_size(WG_X)
fn gaussian_pack(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let word = id.x + id.y * groups.x * WG_X;   // a 2-D grid of workgroups numbers the threads
  if (word >= GROUPS * DP) { return; }
  let g = word / DP;
  let feature = word % DP;
  var word_out = 0u;
  for (var s = 0u; s < 4u; s++) {
    let example = order[4u * g + s];
    if (example == EMPTY) { continue; }
    var value = 0u;
    if (feature < D) {
      let index = example * D + feature;        // byte index into the images
      value = (images[index / 4u] >> ((index % 4u) * 8u)) & 255u;
    } else if (feature == D) {
      value = 1u;
    }
    word_out |= value << (8u * s);
  }
  packed_out[word] = word_out;
}

// ---------------------------------------------------------------------------
// gaussian_gram: one block's Gram matrix, upper triangle of tiles only.
//
// S is symmetric, so only the tiles (ti, tj) with ti ≤ tj are computed: the
// workgroups are numbered along the rows of the upper triangle of a
// TILES × TILES grid of 32 × 32 tiles. Thread (x, y) of a workgroup owns the
// 4 × 4 block S[i0 .. i0 + 3, j0 .. j0 + 3] with i0 = 32·ti + 4y, j0 = 32·tj + 4x.
// For each group g of 4 examples it loads the 4 words of features i0 .. i0 + 3
// and of j0 .. j0 + 3 (two vec4u) and adds 16 four-byte dot products:
// S[i, j] += Σ_s byte_s(packed[g, i]) · byte_s(packed[g, j]).
// Tiles on the diagonal are computed whole; the host reads only i ≤ j.
// Accumulate rule: each block's S is written with `=`; the host adds the
// blocks of a class together in f64.

const GRAM_TILE: u32 = 32u;
override TILES: u32;         // ceil(DP / 32)

struct GramBlock {
  first_group: u32,          // the block's first row of `packed`
  groups: u32,               // its rows (examples / 4, rounded up)
  out_index: u32,            // where its S goes in `gram`
  pad: u32,
}

@group(0) @binding(0) var<storage, read> packed_in: array<vec4u>;    // (GROUPS, DP / 4): 4 features per vec4u
@group(0) @binding(1) var<uniform> block: GramBlock;
@group(0) @binding(2) var<storage, read_write> gram: array<vec4u>;   // (BLOCKS, DP, DP / 4)

@compute @workgroup_size(8, 8)
fn gaussian_gram(@builtin(local_invocation_id) local: vec3u, @builtin(workgroup_id) wg: vec3u) {
  // Workgroup wg.x → tile (ti, tj), ti ≤ tj, walking the upper triangle row by row.
  var rest = wg.x;
  var ti = 0u;
  while (rest >= TILES - ti) {
    rest -= TILES - ti;
    ti++;
  }
  let tj = ti + rest;
  let quads = DP / 4u;                               // vec4u per row of packed
  let i_quad = ti * (GRAM_TILE / 4u) + local.y;      // features i0 .. i0 + 3 = 4·i_quad ..
  let j_quad = tj * (GRAM_TILE / 4u) + local.x;
  let i_load = min(i_quad, quads - 1u);              // past the edge: load in bounds, store nothing
  let j_load = min(j_quad, quads - 1u);
  // acc_r holds S[i0 + r, j0 .. j0 + 3]
  var acc0 = vec4u(0u);
  var acc1 = vec4u(0u);
  var acc2 = vec4u(0u);
  var acc3 = vec4u(0u);
  let end = block.first_group + block.groups;
  for (var g = block.first_group; g < end; g++) {
    let a = packed_in[g * quads + i_load];
    let b = packed_in[g * quads + j_load];
#if PACKED_DOT
    // dot4U8Packed(a, b) = Σ over the four bytes of a and b of their products.
    acc0 += vec4u(dot4U8Packed(a.x, b.x), dot4U8Packed(a.x, b.y), dot4U8Packed(a.x, b.z), dot4U8Packed(a.x, b.w));
    acc1 += vec4u(dot4U8Packed(a.y, b.x), dot4U8Packed(a.y, b.y), dot4U8Packed(a.y, b.z), dot4U8Packed(a.y, b.w));
    acc2 += vec4u(dot4U8Packed(a.z, b.x), dot4U8Packed(a.z, b.y), dot4U8Packed(a.z, b.z), dot4U8Packed(a.z, b.w));
    acc3 += vec4u(dot4U8Packed(a.w, b.x), dot4U8Packed(a.w, b.y), dot4U8Packed(a.w, b.z), dot4U8Packed(a.w, b.w));
#else
    // Without the packed instruction, unpack each word once and reuse it four times.
    let a0 = bytes4(a.x); let a1 = bytes4(a.y); let a2 = bytes4(a.z); let a3 = bytes4(a.w);
    let b0 = bytes4(b.x); let b1 = bytes4(b.y); let b2 = bytes4(b.z); let b3 = bytes4(b.w);
    acc0 += vec4u(dot(a0, b0), dot(a0, b1), dot(a0, b2), dot(a0, b3));
    acc1 += vec4u(dot(a1, b0), dot(a1, b1), dot(a1, b2), dot(a1, b3));
    acc2 += vec4u(dot(a2, b0), dot(a2, b1), dot(a2, b2), dot(a2, b3));
    acc3 += vec4u(dot(a3, b0), dot(a3, b1), dot(a3, b2), dot(a3, b3));
#endif
  }
  if (i_quad < quads && j_quad < quads) {
    let row = (block.out_index * DP + 4u * i_quad) * quads + j_quad;
    gram[row] = acc0;
    gram[row + quads] = acc1;
    gram[row + 2u * quads] = acc2;
    gram[row + 3u * quads] = acc3;
  }
}

// ---------------------------------------------------------------------------
// gaussian_score: q[n, c] = ‖A_c (x_n − μ_c)‖² for a chunk of test images.
//
// With DQ = ceil(D / 4) words per image row (rows padded with zero bytes):
//   test is (N, DQ) words, 4 pixels each;
//   means is (K, DQ) vec4f, zero past D;
//   factor_t is (K, 4·DQ, DQ) vec4f: factor_t[c, j, i/4] holds A_c[i .. i + 3, j],
//     A_c transposed so that four consecutive rows i come in one load; zero past D;
//   q is (N, K).
//
// A workgroup (8 × 8 threads) takes 32 test images (4 per thread along y) and
// one class (workgroup_id.y), and walks the rows of A_c in tiles of 32 (4 per
// thread along x). For a tile it accumulates z[n, i] = Σ_j A_c[i, j]·(x_n[j] − μ_c[j])
// in registers, 4 images × 4 rows per thread, over the columns j below the
// tile's end only: A_c is lower triangular, so the columns right of the tile
// are zero and are skipped (half of the work). Then it adds z² to the thread's
// 4 running sums. At the end the 8 threads that share images add their sums
// through workgroup memory, and thread x = 0 writes q.
//
// The test set is scored in chunks, one dispatch each (a few seconds at most
// on a CPU driver), so no single dispatch runs for minutes.

const SCORE_TILE: u32 = 32u;   // images per workgroup, and rows of A_c per tile
override K: u32;               // classes
override DQ: u32;              // ceil(D / 4)

struct ScoreChunk {
  first_image: u32,            // the chunk is test images first_image .. end_image − 1
  end_image: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<storage, read> test: array<u32>;           // (N, DQ)
@group(0) @binding(1) var<storage, read> means: array<vec4f>;        // (K, DQ)
@group(0) @binding(2) var<storage, read> factor_t: array<vec4f>;     // (K, 4·DQ, DQ)
@group(0) @binding(3) var<uniform> chunk: ScoreChunk;
@group(0) @binding(4) var<storage, read_write> q: array<f32>;        // (N, K)

var<workgroup> partial_q: array<vec4f, 64>;   // [x · 8 + y]: thread (x, y)'s sums for its 4 images

@compute @workgroup_size(8, 8)
fn gaussian_score(@builtin(local_invocation_id) local: vec3u, @builtin(workgroup_id) wg: vec3u) {
  let c = wg.y;
  let n0 = chunk.first_image + wg.x * SCORE_TILE + 4u * local.y;
  let last = chunk.end_image - 1u;              // images past the chunk: load the last one, store nothing
  let rows = vec4u(min(n0, last), min(n0 + 1u, last), min(n0 + 2u, last), min(n0 + 3u, last)) * DQ;
  let mean_row = c * DQ;
  let factor_row = c * 4u * DQ;
  var sums = vec4f(0.0);                        // Σ_i z[n0 + s, i]² over this thread's rows i
  for (var i0 = 0u; i0 < D; i0 += SCORE_TILE) {
    let i_quad = i0 / 4u + local.x;             // rows 4·i_quad .. 4·i_quad + 3
    let i_load = min(i_quad, DQ - 1u);
    // z_s holds z[n0 + s, 4·i_quad .. 4·i_quad + 3]
    var z0 = vec4f(0.0);
    var z1 = vec4f(0.0);
    var z2 = vec4f(0.0);
    var z3 = vec4f(0.0);
    let words = (min(i0 + SCORE_TILE, D) + 3u) / 4u;   // columns j < the tile's end, 4 per word
    for (var w = 0u; w < words; w++) {
      let mu = means[mean_row + w];
      let x0 = vec4f(bytes4(test[rows.x + w])) - mu;  // x[n0, 4w .. 4w + 3] − μ_c[4w .. 4w + 3]
      let x1 = vec4f(bytes4(test[rows.y + w])) - mu;
      let x2 = vec4f(bytes4(test[rows.z + w])) - mu;
      let x3 = vec4f(bytes4(test[rows.w + w])) - mu;
      let at = (factor_row + 4u * w) * DQ + i_load;
      let a0 = factor_t[at];                    // A_c[4·i_quad .. + 3, 4w]
      let a1 = factor_t[at + DQ];               // A_c[4·i_quad .. + 3, 4w + 1]
      let a2 = factor_t[at + 2u * DQ];
      let a3 = factor_t[at + 3u * DQ];
      z0 += x0.x * a0 + x0.y * a1 + x0.z * a2 + x0.w * a3;
      z1 += x1.x * a0 + x1.y * a1 + x1.z * a2 + x1.w * a3;
      z2 += x2.x * a0 + x2.y * a1 + x2.z * a2 + x2.w * a3;
      z3 += x3.x * a0 + x3.y * a1 + x3.z * a2 + x3.w * a3;
    }
    if (i_quad < DQ) {
      sums += vec4f(dot(z0, z0), dot(z1, z1), dot(z2, z2), dot(z3, z3));
    }
  }
  partial_q[local.x * 8u + local.y] = sums;
  workgroupBarrier();
  if (local.x == 0u) {
    var total = vec4f(0.0);
    for (var x = 0u; x < 8u; x++) {
      total += partial_q[x * 8u + local.y];
    }
    for (var s = 0u; s < 4u; s++) {
      if (n0 + s < chunk.end_image) { q[(n0 + s) * K + c] = total[s]; }
    }
  }
}

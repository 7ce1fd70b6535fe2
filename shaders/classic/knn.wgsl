// Exact 1-nearest-neighbour search in squared Euclidean distance, on raw bytes.
//
//   dist(x, y)  = ‖x − y‖² = ‖x‖² + ‖y‖² − 2·x·y      x a test row, y a train row, pixels 0–255
//   nearest[t]  = the smallest (dist, index) pair over every train row,
//                 pairs compared lexicographically: on equal distances the lower index wins
//
// Every number is a u32 and every result is exact: a squared norm is at most
// FEATURES·255², and ‖x‖² + ‖y‖² stays below 2³² while FEATURES ≤ 33,025
// (the wrapper, src/classic/knn.ts, checks). ‖x‖² + ‖y‖² ≥ 2·x·y, so the
// subtraction never wraps around.
//
// Rows are packed four pixels to a u32 word: pixel 4w + j of a row is byte j
// of its word w, and each row is padded with zero bytes to WORDS words (zeros
// add nothing to a dot product). dot4(a, b) is the four-term dot product of two
// words' bytes: WGSL's dot4U8Packed when the PACKED_DOT define is on (the
// `packed_4x8_integer_dot_product` language feature), else the words are
// unpacked into vec4u once per load and multiplied with the core `dot`.
//
// The kernels:
//   knn_norms           norms[r] = Σ_w dot4(words[r, w], words[r, w])     one thread per row
//   knn_nearest_direct  kernel 1: the test × train dot products as a GEMM with a fused
//                       argmin; every thread computes a 4 × 4 block of dot products
//                       from storage and keeps the best (dist, index) of its 4 test
//                       rows, so no distance is ever stored
//   knn_nearest_tiled   kernel 2: the same, with the rows staged through workgroup
//                       memory so that each word is read from storage once per tile,
//                       not once per thread that needs it
//   knn_reduce          nearest[t] = the smallest of partial[t, 0 .. slices)  one thread per test row
//
// Both nearest kernels run on a grid of (test tiles, slices) workgroups. A
// workgroup of WG_X × WG_Y threads takes a tile of TILE_TEST = 4·WG_Y test rows
// and one slice of the train set: a run of whole train tiles of TILE_TRAIN =
// 4·WG_X rows, the TRAIN_TILES tiles being cut into num_workgroups.y runs of
// equal length (the last ones may be shorter or empty). Thread (tx, ty) owns
// test rows ty + i·WG_Y and train rows tx + j·WG_X of each tile (i, j = 0 … 3),
// interleaved so that neighbouring threads read neighbouring rows or words. At
// the end the WG_X threads that share a test row merge their bests in turns,
// and the workgroup writes one (dist, index) pair per test row for its slice.
// Every comparison, here and in knn_reduce, is lexicographic on (dist, index),
// so the result does not depend on the order of merges: ties go to the lowest
// index. Kernel 1 is faster on CPU rasterisers such as SwiftShader, where
// workgroup memory is ordinary memory and barriers cost; kernel 2 on GPUs.
//
// Row counts that vary from call to call (test rows of a chunk, the number of
// slices) are read with arrayLength() from the size of the bound buffers, so
// the pipelines depend on the train set and the tile shape alone.

#if PACKED_DOT
requires packed_4x8_integer_dot_product;

// Four pixels as they are stored: one packed word.
alias Pixels4 = u32;

fn pixels4(word: u32) -> Pixels4 {
  return word;
}

fn dot4(a: Pixels4, b: Pixels4) -> u32 {
  return dot4U8Packed(a, b);
}
#else
// Four pixels unpacked, one per lane, so that each word is unpacked once per
// load rather than once per product.
alias Pixels4 = vec4u;

fn pixels4(word: u32) -> Pixels4 {
  return (vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(0xffu);
}

fn dot4(a: Pixels4, b: Pixels4) -> u32 {
  return dot(a, b);
}
#endif

override TRAIN: u32;        // train rows
override WORDS: u32;        // u32 words per packed row: ceil(FEATURES / 4)
override WG_X: u32 = 16u;   // threads along the train rows of a tile
override WG_Y: u32 = 16u;   // threads along the test rows of a tile
override K_STEP: u32 = 16u; // words of each row staged in workgroup memory at a time

// Each thread computes a 4 × 4 block of dot products, so a tile is 4·WG_Y
// test rows by 4·WG_X train rows.
override TILE_TEST: u32 = 4u * WG_Y;
override TILE_TRAIN: u32 = 4u * WG_X;
// Kernel 2 stages K_STEP words of each tile row in workgroup memory, word-major,
// with one spare word per K step: the staging threads that store neighbouring
// words of a row then write TILE + 1 words apart, which fall in different banks.
override TEST_STRIDE: u32 = TILE_TEST + 1u;
override TRAIN_STRIDE: u32 = TILE_TRAIN + 1u;
override TEST_TILE_WORDS: u32 = TEST_STRIDE * K_STEP;
override TRAIN_TILE_WORDS: u32 = TRAIN_STRIDE * K_STEP;
override TRAIN_TILES: u32 = (TRAIN + TILE_TRAIN - 1u) / TILE_TRAIN;

// (distance, index) of "no neighbour yet": larger than every real pair.
const NONE = vec2u(0xffffffffu, 0xffffffffu);

// True when pair a = (distance, index) comes before pair b: a smaller
// distance, or the same distance and a lower index.
fn better(a: vec2u, b: vec2u) -> bool {
  return a.x < b.x || (a.x == b.x && a.y < b.y);
}

// ---------------------------------------------------------------------------
// knn_norms: the squared norm of every row.

@group(0) @binding(0) var<storage, read> rows_words: array<u32>;        // (ROWS, WORDS), packed
@group(0) @binding(1) var<storage, read_write> rows_norms: array<u32>;  // (ROWS); ROWS is its bound length

@compute @workgroup_size(WG_X)
fn knn_norms(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
             @builtin(local_invocation_index) lane: u32) {
  // A 2-D grid when the rows need more than 65,535 workgroups in x.
  let row = (wg.y * groups.x + wg.x) * WG_X + lane;
  if (row >= arrayLength(&rows_norms)) { return; }
  var norm = 0u;
  for (var w = 0u; w < WORDS; w++) {
    let p = pixels4(rows_words[row * WORDS + w]);
    norm += dot4(p, p);
  }
  rows_norms[row] = norm;
}

// ---------------------------------------------------------------------------
// knn_nearest_direct and knn_nearest_tiled: the GEMM fused with the argmin.

@group(0) @binding(0) var<storage, read> test_words: array<u32>;        // (ROWS, WORDS), packed; one chunk of the test set
@group(0) @binding(1) var<storage, read> test_norms: array<u32>;        // (ROWS); ROWS is its bound length
@group(0) @binding(2) var<storage, read> train_words: array<u32>;       // (TRAIN, WORDS), packed
@group(0) @binding(3) var<storage, read> train_norms: array<u32>;       // (TRAIN)
@group(0) @binding(4) var<storage, read_write> partial: array<vec2u>;   // (ROWS, slices): (distance, index) per slice

// Kernel 2's staged words: test_tile[k·TEST_STRIDE + r] is word k0 + k of tile row r.
var<workgroup> test_tile: array<u32, TEST_TILE_WORDS>;
var<workgroup> train_tile: array<u32, TRAIN_TILE_WORDS>;
// The workgroup's best pair per test row of its tile, while the threads merge.
var<workgroup> tile_best: array<vec2u, TILE_TEST>;

// The train tiles [first, end) of slice `slice` out of `slices`.
fn slice_tiles(slice: u32, slices: u32) -> vec2u {
  let per_slice = (TRAIN_TILES + slices - 1u) / slices;
  let first = min(slice * per_slice, TRAIN_TILES);
  return vec2u(first, min(first + per_slice, TRAIN_TILES));
}

// Four row indices first, first + stride, … clamped to `last`: loads stay in
// bounds, and results for rows past the end are never kept.
fn rows4(first: u32, stride: u32, last: u32) -> vec4u {
  return min(first + vec4u(0u, 1u, 2u, 3u) * stride, vec4u(last));
}

// The dot products of one test word with four train words.
fn dot_row(a: Pixels4, b0: Pixels4, b1: Pixels4, b2: Pixels4, b3: Pixels4) -> vec4u {
  return vec4u(dot4(a, b0), dot4(a, b1), dot4(a, b2), dot4(a, b3));
}

// The better of `best` and four candidates: distances norms − 2·dot, indices `cols`
// (columns at or past TRAIN are skipped).
fn keep_best(best: vec2u, test_norm: u32, train_norm: vec4u, dots: vec4u, cols: vec4u) -> vec2u {
  let dist = vec4u(test_norm) + train_norm - 2u * dots;
  var out = best;
  for (var j = 0u; j < 4u; j++) {
    let candidate = vec2u(dist[j], cols[j]);
    if (cols[j] < TRAIN && better(candidate, out)) { out = candidate; }
  }
  return out;
}

// Merges the bests of the WG_X threads that share each test row (thread
// column 0 writes, then columns 1, 2, … each keep the better pair) and writes
// the workgroup's pair per test row to partial. Called by every thread.
fn write_slice_best(local: vec3u, lane: u32, test0: u32, rows: u32, slice: u32, slices: u32,
                    best0: vec2u, best1: vec2u, best2: vec2u, best3: vec2u) {
  for (var turn = 0u; turn < WG_X; turn++) {
    if (local.x == turn) {
      let r = local.y;
      if (turn == 0u || better(best0, tile_best[r])) { tile_best[r] = best0; }
      if (turn == 0u || better(best1, tile_best[r + WG_Y])) { tile_best[r + WG_Y] = best1; }
      if (turn == 0u || better(best2, tile_best[r + 2u * WG_Y])) { tile_best[r + 2u * WG_Y] = best2; }
      if (turn == 0u || better(best3, tile_best[r + 3u * WG_Y])) { tile_best[r + 3u * WG_Y] = best3; }
    }
    workgroupBarrier();
  }
  for (var r = lane; r < TILE_TEST; r += WG_X * WG_Y) {
    if (test0 + r < rows) { partial[(test0 + r) * slices + slice] = tile_best[r]; }
  }
}

// Kernel 1: each thread reads its 4 test rows and 4 train rows straight from
// storage, one word of each per step: 8 loads for 16 four-pixel products.
@compute @workgroup_size(WG_X, WG_Y)
fn knn_nearest_direct(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
                      @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lane: u32) {
  let rows = arrayLength(&test_norms);
  let test0 = wg.x * TILE_TEST;
  let tiles = slice_tiles(wg.y, groups.y);
  let my_rows = rows4(test0 + local.y, WG_Y, rows - 1u);
  let test_norm = vec4u(test_norms[my_rows.x], test_norms[my_rows.y], test_norms[my_rows.z], test_norms[my_rows.w]);
  let a_rows = my_rows * WORDS;  // where this thread's test rows start in test_words
  var best0 = NONE;
  var best1 = NONE;
  var best2 = NONE;
  var best3 = NONE;

  for (var tile = tiles.x; tile < tiles.y; tile++) {
    let cols = tile * TILE_TRAIN + local.x + vec4u(0u, 1u, 2u, 3u) * WG_X;
    let my_cols = rows4(tile * TILE_TRAIN + local.x, WG_X, TRAIN - 1u);
    let b_rows = my_cols * WORDS;
    // dots_i[j] = x·y for this thread's test row i and train row j
    var dots0 = vec4u(0u);
    var dots1 = vec4u(0u);
    var dots2 = vec4u(0u);
    var dots3 = vec4u(0u);
    for (var k = 0u; k < WORDS; k++) {
      let b0 = pixels4(train_words[b_rows.x + k]);
      let b1 = pixels4(train_words[b_rows.y + k]);
      let b2 = pixels4(train_words[b_rows.z + k]);
      let b3 = pixels4(train_words[b_rows.w + k]);
      dots0 += dot_row(pixels4(test_words[a_rows.x + k]), b0, b1, b2, b3);
      dots1 += dot_row(pixels4(test_words[a_rows.y + k]), b0, b1, b2, b3);
      dots2 += dot_row(pixels4(test_words[a_rows.z + k]), b0, b1, b2, b3);
      dots3 += dot_row(pixels4(test_words[a_rows.w + k]), b0, b1, b2, b3);
    }
    let train_norm = vec4u(train_norms[my_cols.x], train_norms[my_cols.y], train_norms[my_cols.z], train_norms[my_cols.w]);
    best0 = keep_best(best0, test_norm.x, train_norm, dots0, cols);
    best1 = keep_best(best1, test_norm.y, train_norm, dots1, cols);
    best2 = keep_best(best2, test_norm.z, train_norm, dots2, cols);
    best3 = keep_best(best3, test_norm.w, train_norm, dots3, cols);
  }
  write_slice_best(local, lane, test0, rows, wg.y, groups.y, best0, best1, best2, best3);
}

// Kernel 2: for each train tile of the slice, in steps of K_STEP words along
// the rows, the workgroup first copies those words of its TILE_TEST test rows
// and TILE_TRAIN train rows into test_tile and train_tile (zeros past the last
// row or word), then each thread adds K_STEP words' worth of products to its
// 4 × 4 block from workgroup memory. Each word is read from storage once per
// workgroup instead of once per thread (WG_X or WG_Y times).

// Copy words k0 … k0 + K_STEP − 1 of a tile's rows into workgroup memory,
// word-major. Thread (tx, ty) takes words k0 + tx, k0 + tx + WG_X, … of rows
// ty, ty + WG_Y, …: neighbouring threads read neighbouring words of a row.
// Rows at or past the last row and words at or past WORDS read as 0.
fn stage_test(first: u32, rows: u32, k0: u32, local: vec3u) {
  for (var k = local.x; k < K_STEP; k += WG_X) {
    for (var r = local.y; r < TILE_TEST; r += WG_Y) {
      var word = 0u;
      if (first + r < rows && k0 + k < WORDS) { word = test_words[(first + r) * WORDS + k0 + k]; }
      test_tile[k * TEST_STRIDE + r] = word;
    }
  }
}

fn stage_train(first: u32, k0: u32, local: vec3u) {
  for (var k = local.x; k < K_STEP; k += WG_X) {
    for (var r = local.y; r < TILE_TRAIN; r += WG_Y) {
      var word = 0u;
      if (first + r < TRAIN && k0 + k < WORDS) { word = train_words[(first + r) * WORDS + k0 + k]; }
      train_tile[k * TRAIN_STRIDE + r] = word;
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn knn_nearest_tiled(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) groups: vec3u,
                     @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lane: u32) {
  let rows = arrayLength(&test_norms);
  let test0 = wg.x * TILE_TEST;
  let tiles = slice_tiles(wg.y, groups.y);
  let my_rows = rows4(test0 + local.y, WG_Y, rows - 1u);
  let test_norm = vec4u(test_norms[my_rows.x], test_norms[my_rows.y], test_norms[my_rows.z], test_norms[my_rows.w]);
  var best0 = NONE;
  var best1 = NONE;
  var best2 = NONE;
  var best3 = NONE;

  for (var tile = tiles.x; tile < tiles.y; tile++) {
    let train0 = tile * TILE_TRAIN;
    // dots_i[j] = x·y for this thread's test row i and train row j
    var dots0 = vec4u(0u);
    var dots1 = vec4u(0u);
    var dots2 = vec4u(0u);
    var dots3 = vec4u(0u);
    for (var k0 = 0u; k0 < WORDS; k0 += K_STEP) {
      stage_test(test0, rows, k0, local);
      stage_train(train0, k0, local);
      workgroupBarrier();
      for (var k = 0u; k < K_STEP; k++) {
        let a = k * TEST_STRIDE + local.y;
        let b = k * TRAIN_STRIDE + local.x;
        let b0 = pixels4(train_tile[b]);
        let b1 = pixels4(train_tile[b + WG_X]);
        let b2 = pixels4(train_tile[b + 2u * WG_X]);
        let b3 = pixels4(train_tile[b + 3u * WG_X]);
        dots0 += dot_row(pixels4(test_tile[a]), b0, b1, b2, b3);
        dots1 += dot_row(pixels4(test_tile[a + WG_Y]), b0, b1, b2, b3);
        dots2 += dot_row(pixels4(test_tile[a + 2u * WG_Y]), b0, b1, b2, b3);
        dots3 += dot_row(pixels4(test_tile[a + 3u * WG_Y]), b0, b1, b2, b3);
      }
      workgroupBarrier();
    }
    let cols = train0 + local.x + vec4u(0u, 1u, 2u, 3u) * WG_X;
    let my_cols = rows4(train0 + local.x, WG_X, TRAIN - 1u);
    let train_norm = vec4u(train_norms[my_cols.x], train_norms[my_cols.y], train_norms[my_cols.z], train_norms[my_cols.w]);
    best0 = keep_best(best0, test_norm.x, train_norm, dots0, cols);
    best1 = keep_best(best1, test_norm.y, train_norm, dots1, cols);
    best2 = keep_best(best2, test_norm.z, train_norm, dots2, cols);
    best3 = keep_best(best3, test_norm.w, train_norm, dots3, cols);
  }
  write_slice_best(local, lane, test0, rows, wg.y, groups.y, best0, best1, best2, best3);
}

// ---------------------------------------------------------------------------
// knn_reduce: the best of each test row's per-slice pairs, slices in order.

@group(0) @binding(0) var<storage, read> slice_best: array<vec2u>;       // (ROWS, SLICES)
@group(0) @binding(1) var<storage, read_write> nearest: array<vec2u>;   // (ROWS): (distance, index); ROWS is its bound length

@compute @workgroup_size(WG_X)
fn knn_reduce(@builtin(global_invocation_id) id: vec3u) {
  let rows = arrayLength(&nearest);
  let row = id.x;
  if (row >= rows) { return; }
  let slices = arrayLength(&slice_best) / rows;
  var best = slice_best[row * slices];
  for (var s = 1u; s < slices; s++) {
    let candidate = slice_best[row * slices + s];
    if (better(candidate, best)) { best = candidate; }
  }
  nearest[row] = best;
}

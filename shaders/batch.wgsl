// Batch assembly. The dataset lives on the GPU as stored (u8 pixels four to a
// u32, or f32) with one index list per pass (shuffled by the CPU once per
// epoch). These kernels gather the rows of batch `state.step` and normalise
// them, so a training step reads nothing from the CPU.
//
//   gather_inputs    x[b, f]       = normalise(images[indices[step·B + b], f])
//   gather_targets   targets[b, t] = labels[indices[step·B + b], t]
//   gather_batch     both in one dispatch (a training or evaluation step's batch)
//   advance_step     state.step += 1 (and state.iteration += 1 when training)
//
// Normalisation (NORMALIZE): 0 affine, x' = (x − shift[f]) · scale[f], which
// covers /255, raw pixels and standardisation with the training mean and std;
// 1 and 2: L2-normalise each image along axis 1 (each column over its rows) or
// axis 2 (each row over its columns), as tf.keras.utils.normalize does.
// Padding rows of a short last batch are written as zeros.

override B: u32;              // batch size
override D: u32;              // features per sample (ROWS · COLS · channels)
override ROWS: u32 = 1u;      // image height, for L2 normalisation
override COLS: u32 = 1u;      // image width (times channels)
override SOURCE_U8: bool = true;
override NORMALIZE: u32 = 0u;
override UNIFORM_AFFINE: bool = false;  // every feature has shift AFFINE_SHIFT and scale AFFINE_SCALE
override AFFINE_SHIFT: f32 = 0.0;
override AFFINE_SCALE: f32 = 1.0;
override TARGET_WIDTH: u32 = 1u;  // u32 words per sample label: 1 class index, or C f32 targets
override TRAINING: bool = true;
override WG_X: u32 = 64u;

@group(0) @binding(0) var<storage, read> images: array<u32>;      // (N, D) u8 packed, or (N, D) f32 bits
@group(0) @binding(1) var<storage, read> indices: array<u32>;     // (sample_count) sample order of this pass
@group(0) @binding(2) var<storage, read> state: StepState;
@group(0) @binding(3) var<storage, read> shift: array<f32>;       // (D)
@group(0) @binding(4) var<storage, read> scale: array<f32>;       // (D)
@group(0) @binding(5) var<storage, read_write> x: array<f32>;     // (B, D)

fn sample_value(sample: u32, feature: u32) -> f32 {
  let offset = sample * D + feature;
  if (SOURCE_U8) {
    let word = images[offset / 4u];
    return f32((word >> (8u * (offset % 4u))) & 0xffu);
  }
  return bitcast<f32>(images[offset]);
}

// Each thread writes about FEATURES_PER_THREAD features of one row, so that the
// row's bookkeeping (its sample index, whether it is padding) is paid once per
// few features rather than once per feature. Thread t of a row takes features
// t, t + T, t + 2T, ... (T threads per row): side by side threads touch side by
// side features.
const FEATURES_PER_THREAD = 4u;

@compute @workgroup_size(WG_X)
fn gather_inputs(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = id.x;
  let row = unfold_invocation(id, groups, 1u).y;
  if (first >= D || row >= B) { return; }
  gather_row(row, first, groups.x * WG_X);
}

// Row `row` of x: features first, first + stride, ...
fn gather_row(row: u32, first: u32, stride: u32) {
  if (row >= valid_rows(state, B)) {
    for (var feature = first; feature < D; feature += stride) { x[row * D + feature] = 0.0; }
    return;
  }
  let sample = indices[state.step * B + row];
  if (SOURCE_U8 && NORMALIZE == 0u && D % 4u == 0u) {
    // Bytes four to a word, each sample's first byte at a word boundary: thread
    // `first` converts whole words, one load for four features.
    for (var word = first; word < D / 4u; word += stride) {
      let bits = images[sample * (D / 4u) + word];
      let feature = 4u * word;
      let at = row * D + feature;
      x[at] = affine(f32(bits & 0xffu), feature);
      x[at + 1u] = affine(f32((bits >> 8u) & 0xffu), feature + 1u);
      x[at + 2u] = affine(f32((bits >> 16u) & 0xffu), feature + 2u);
      x[at + 3u] = affine(f32(bits >> 24u), feature + 3u);
    }
    return;
  }
  for (var feature = first; feature < D; feature += stride) {
    x[row * D + feature] = normalised(sample, feature);
  }
}

// (value − shift) · scale for one feature: constants where they are the same for all.
fn affine(value: f32, feature: u32) -> f32 {
  if (UNIFORM_AFFINE) { return (value - AFFINE_SHIFT) * AFFINE_SCALE; }
  return (value - shift[feature]) * scale[feature];
}

fn normalised(sample: u32, feature: u32) -> f32 {
  let value = sample_value(sample, feature);
  if (NORMALIZE == 0u) {
    return affine(value, feature);
  }
  // L2 norm over the line this pixel lies on: its column (axis 1) or its row (axis 2).
  let r = feature / COLS;
  let c = feature % COLS;
  var sum_squares = 0.0;
  if (NORMALIZE == 1u) {
    for (var i = 0u; i < ROWS; i++) { let v = sample_value(sample, i * COLS + c); sum_squares += v * v; }
  } else {
    for (var j = 0u; j < COLS; j++) { let v = sample_value(sample, r * COLS + j); sum_squares += v * v; }
  }
  let norm = select(sqrt(sum_squares), 1.0, sum_squares == 0.0);
  return value / norm;
}

@group(0) @binding(0) var<storage, read> labels: array<u32>;         // (N, TARGET_WIDTH)
@group(0) @binding(3) var<storage, read_write> targets: array<u32>;  // (B, TARGET_WIDTH)

// gather_batch: gather_inputs' threads, the first of each row also copying that row's targets.
@group(0) @binding(6) var<storage, read> batch_labels: array<u32>;         // (N, TARGET_WIDTH)
@group(0) @binding(7) var<storage, read_write> batch_targets: array<u32>;  // (B, TARGET_WIDTH)

@compute @workgroup_size(WG_X)
fn gather_batch(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = id.x;
  let row = unfold_invocation(id, groups, 1u).y;
  if (first >= D || row >= B) { return; }
  if (first == 0u) {
    let valid = row < valid_rows(state, B);
    let sample = select(0u, indices[state.step * B + row], valid);
    for (var t = 0u; t < TARGET_WIDTH; t++) {
      batch_targets[row * TARGET_WIDTH + t] = select(0u, batch_labels[sample * TARGET_WIDTH + t], valid);
    }
  }
  gather_row(row, first, groups.x * WG_X);
}

@compute @workgroup_size(WG_X)
fn gather_targets(@builtin(global_invocation_id) id: vec3u) {
  let row = id.x;
  if (row >= B) { return; }
  let valid = row < valid_rows(state, B);
  let sample = select(0u, indices[state.step * B + row], valid);
  for (var t = 0u; t < TARGET_WIDTH; t++) {
    targets[row * TARGET_WIDTH + t] = select(0u, labels[sample * TARGET_WIDTH + t], valid);
  }
}

@group(0) @binding(0) var<storage, read_write> advancing: StepState;

@compute @workgroup_size(1)
fn advance_step() {
  advancing.step += 1u;
  if (TRAINING && advancing.halted == 0u) {
    advancing.iteration += 1u;
  }
}

// scatter_rows: results[step·B + b, c] = rows[b, c] for the valid rows, so that
// `predict` collects every batch's outputs on the GPU and reads them once.
override COLUMNS: u32 = 1u;

@group(0) @binding(0) var<storage, read> rows: array<f32>;            // (B, COLUMNS)
@group(0) @binding(1) var<storage, read_write> results: array<f32>;   // (sample_count, COLUMNS)

@compute @workgroup_size(WG_X)
fn scatter_rows(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  if (i >= B * COLUMNS) { return; }
  let row = i / COLUMNS;
  if (row >= valid_rows(state, B)) { return; }
  results[state.step * B * COLUMNS + i] = rows[i];
}

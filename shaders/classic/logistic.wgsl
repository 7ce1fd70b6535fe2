// Logistic regression with K outputs, trained together by full-batch gradient
// descent with a backtracking line search (src/classic/logistic.ts drives the
// steps; the CPU twin is src/reference/logistic.ts). Per output k:
//
//   x̃[i, d]  = (x[i, d] − shift[d]) · scale[d]          standardised while loading
//   z[i, k]  = Σ_d x̃[i, d] · w[k, d] + b[k]
//   L_k      = (1/N) Σ_i [ y·softplus(−z) + (1 − y)·softplus(z) ] + (λ/(2N))·‖w_k‖²
//   ∂L_k/∂w_k = (1/N) Σ_i x̃[i, :] · r[i, k] + (λ/N)·w_k      r = σ(z) − y, the residual
//   ∂L_k/∂b_k = (1/N) Σ_i r[i, k]                            (the bias is not regularised)
//
// z is linear in the parameters, so at the trial point w − t·g of a line search
//   z(w − t·g) = z(w) − t·u      with the direction u = X̃·g_w + g_b,
// and one pass over the data per step (logistic_scores on the gradient) makes
// every trial cost O(N·K) instead of O(N·D·K). The accepted trial's z − t·u
// become the scores of the next step: z is carried along rather than
// recomputed, exact in real arithmetic; in f32 it strays from a fresh X̃·w + b
// by a few units of rounding per step (on MNIST, under 4e-5 with |z| up to 60
// after 200 steps).
//
// One step: make_trial, logistic_loss, column_sums per trial (the CPU reads the
// trial losses and picks each t_k); then copy_values (accept the trial's
// parameters and scores), logistic_gradient, column_sums_in_order (and
// column_sums for the bias), finish_gradient, and logistic_scores on the new
// gradient for the next step's direction.
//
// The kernels (src/ops/classic/logistic.ts: one kernel family each):
//   logistic_scores       out[i, k] = Σ_d x̃[i, d] · p[k, d] + p_b[k]     p the parameters (z) or the gradient (u)
//   logistic_loss         z' = z − t_k·u[i, k];  r = σ(z') − y;  terms[i, k] = y·softplus(−z') + (1 − y)·softplus(z')
//                           terms[i, K] = 1 where sample i is misclassified
//   logistic_gradient     partials[c, k, d] = Σ_{i in chunk c} x̃[i, d] · r[i, k]
//   column_sums           sums[OUT_OFFSET + c] = SCALE · Σ_r values[r, c]     a tree per column (many rows)
//   column_sums_in_order  sums[OUT_OFFSET + c] = SCALE · Σ_r values[r, c]     rows added in order (few rows)
//   make_trial            trial_k = p_k − t_k · g_k;   summary[NORM_OFFSET + k] = ‖trial w_k‖²
//   copy_values           to[i] = from[i]
//   finish_gradient       g_w[k] += (λ/N) · w_k;   summary[NORM_OFFSET + k] = ‖g_k‖²
//
// Layouts (f32 unless said; D4 = words per sample row, DP = 4·D4 = features
// padded to a multiple of 4 with zero features whose scale is 0, so padding
// never contributes):
//   images       (N, D4) u32: word j of sample i holds features 4j .. 4j+3, one
//                byte each, lowest byte first; or, with F32_INPUT, (N, D4) vec4f
//   standardize  (2, D4) vec4f: shift of every feature, then scale
//   params       (K·DP + K): w[k, d] at k·DP + d (one row per output), then b[k]
//                at K·DP + k. The trial parameters and the gradient alike.
//   scores       (N, K) z at the parameters; direction (N, K) u; targets (N, K) in [0, 1]
//   trial_scores (N, K) z − t·u; residual (N, K) σ(z − t·u) − y
//   loss_terms   (N, K + 1): each sample's cross-entropy per output, then 1 if misclassified
//   gradient_partials (CHUNKS, K·DP): Σ x̃ᵀ r over one chunk of CHUNK samples
//   summary      the small results the CPU reads (offsets set by the caller)
//
// Every sum is deterministic: each thread adds a fixed set of terms in a fixed
// order, and partial sums are combined in a fixed order (a tree in workgroup
// memory, or one thread per column). No atomics: the same data gives the same bits.

override N: u32;              // samples
override D4: u32;             // words (4 features each) per sample row
override K: u32;              // outputs
override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;

// logistic_gradient: samples per partial sum.
override CHUNK: u32 = 256u;

// column_sums and column_sums_in_order: sums[OUT_OFFSET + c] = SCALE · Σ_r values[r, c]
override ROWS: u32 = 1u;
override COLUMNS: u32 = 1u;
override OUT_OFFSET: u32 = 0u;
override SCALE: f32 = 1.0;

// finish_gradient: λ/N, and whether ‖g‖² includes the bias gradient.
override L2_OVER_N: f32 = 0.0;
override HAS_BIAS: bool = false;
// make_trial and finish_gradient write ‖trial w_k‖² and ‖g_k‖² from here on.
override NORM_OFFSET: u32 = 0u;

// copy_values: elements to copy.
override COUNT: u32 = 1u;

fn features_padded() -> u32 {
  return D4 * 4u;
}

// Four consecutive indices starting at `first`, clamped to `count − 1` (loads
// stay in bounds; results past the edge are computed but never stored).
fn clamped4(first: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(first, min(first + 1u, last), min(first + 2u, last), min(first + 3u, last));
}

// log(1 + e), accurate also where 1 + e rounds to 1 (Goldberg's trick: the
// rounding error of u = 1 + e cancels in log(u) · e / (u − 1)).
fn log1p(e: f32) -> f32 {
  let u = 1.0 + e;
  if (u == 1.0) { return e; }
  return log(u) * e / (u - 1.0);
}

// softplus(t) = log(1 + exp(t)), written so that exp never overflows:
// softplus(1e6) = 1e6, softplus(−1e6) = 0.
fn softplus(t: f32) -> f32 {
  return max(t, 0.0) + log1p(exp(-abs(t)));
}

fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));  // ≤ 1: never overflows
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

// y·softplus(−z) + (1 − y)·softplus(z), skipping a term whose weight is 0, so
// an infinite z with the matching hard target costs 0 rather than 0·∞ = NaN.
fn cross_entropy(z: f32, y: f32) -> f32 {
  var loss = 0.0;
  if (y != 0.0) { loss += y * softplus(-z); }
  if (y != 1.0) { loss += (1.0 - y) * softplus(z); }
  return loss;
}

// ---------------------------------------------------------------------------
// The sample rows, shared by logistic_scores and logistic_gradient.

#if F32_INPUT
@group(0) @binding(0) var<storage, read> images: array<vec4f>;   // (N, D4)
#else
@group(0) @binding(0) var<storage, read> images: array<u32>;     // (N, D4), 4 bytes per word
#endif
@group(0) @binding(1) var<storage, read> standardize: array<vec4f>;  // (2, D4): shift, then scale

// Features 4·word .. 4·word + 3 of one sample, as stored (not standardised).
fn raw_features(sample: u32, word: u32) -> vec4f {
#if F32_INPUT
  return images[sample * D4 + word];
#else
  let packed = images[sample * D4 + word];
  return vec4f(vec4u(packed, packed >> 8u, packed >> 16u, packed >> 24u) & vec4u(0xffu));
#endif
}

// ---------------------------------------------------------------------------
// logistic_scores: out[i, k] = Σ_d x̃[i, d] · p[k, d] + p_bias[k] for a
// parameter vector p: the parameters (giving z) or the gradient (giving the
// direction u). Written with = .
//
// Tiling: thread (id.x, id.y) takes samples 4·id.x .. 4·id.x + 3 and outputs
// 16·id.y .. 16·id.y + 15, as four quads of 4 outputs with a 4×4 block of dot
// products each (quad q, a mat4x4f: column c holds output 16·id.y + 4q + c,
// row s sample 4·id.x + s). Per word it unpacks and standardises the 4
// samples' 4 features once for all its outputs, and every weight vec4 serves
// 4 samples. No workgroup memory, no barriers.
//
// The 16 outputs are written out one line each rather than as a loop over an
// array of accumulators: SwiftShader keeps an array (or a matrix indexed by a
// variable, or one handed to a function) in memory rather than registers, and
// runs such a kernel several times slower.

const OUTPUTS_PER_THREAD = 16u;
// min(K, OUTPUTS_PER_THREAD), known when the pipeline is built: the lines of
// outputs past it compile away, so K = 1 costs one accumulator, not sixteen.
override THREAD_OUTPUTS: u32 = 16u;

// Whether output c of a thread's 16 exists (`live`: the outputs from the thread's first to K).
fn has_output(c: u32, live: u32) -> bool {
  return c < THREAD_OUTPUTS && c < live;
}

@group(0) @binding(2) var<storage, read> p: array<vec4f>;        // (K·DP + K) as vec4s
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // (N, K)

fn bias_of(k: u32) -> f32 {
  let at = K * features_padded() + k;
  return p[at / 4u][at % 4u];
}

// Word j of the weights of output k, times x (a row vector times a matrix:
// entry s is the dot product with column s, sample s).
fn weights_times(x: mat4x4f, k: u32, j: u32) -> vec4f {
  return p[k * D4 + j] * x;
}

@compute @workgroup_size(WG_X, WG_Y)
fn logistic_scores(@builtin(global_invocation_id) id: vec3u) {
  let first = id.x * 4u;                  // samples first .. first + 3
  let k0 = id.y * OUTPUTS_PER_THREAD;     // outputs k0 .. k0 + 15
  if (first >= N || k0 >= K) { return; }
  let live = K - k0;
  let rows = clamped4(first, N);

  // quad q holds outputs k0 + 4q .. k0 + 4q + 3
  var quad0 = mat4x4f();
  var quad1 = mat4x4f();
  var quad2 = mat4x4f();
  var quad3 = mat4x4f();
  for (var j = 0u; j < D4; j++) {
    let shift = standardize[j];
    let scale = standardize[D4 + j];
    // column s: features 4j .. 4j+3 of sample first + s, standardised
    let x = mat4x4f(
      (raw_features(rows.x, j) - shift) * scale,
      (raw_features(rows.y, j) - shift) * scale,
      (raw_features(rows.z, j) - shift) * scale,
      (raw_features(rows.w, j) - shift) * scale,
    );
    quad0[0] += weights_times(x, k0, j);
    if (has_output(1u, live)) { quad0[1] += weights_times(x, k0 + 1u, j); }
    if (has_output(2u, live)) { quad0[2] += weights_times(x, k0 + 2u, j); }
    if (has_output(3u, live)) { quad0[3] += weights_times(x, k0 + 3u, j); }
    if (has_output(4u, live)) { quad1[0] += weights_times(x, k0 + 4u, j); }
    if (has_output(5u, live)) { quad1[1] += weights_times(x, k0 + 5u, j); }
    if (has_output(6u, live)) { quad1[2] += weights_times(x, k0 + 6u, j); }
    if (has_output(7u, live)) { quad1[3] += weights_times(x, k0 + 7u, j); }
    if (has_output(8u, live)) { quad2[0] += weights_times(x, k0 + 8u, j); }
    if (has_output(9u, live)) { quad2[1] += weights_times(x, k0 + 9u, j); }
    if (has_output(10u, live)) { quad2[2] += weights_times(x, k0 + 10u, j); }
    if (has_output(11u, live)) { quad2[3] += weights_times(x, k0 + 11u, j); }
    if (has_output(12u, live)) { quad3[0] += weights_times(x, k0 + 12u, j); }
    if (has_output(13u, live)) { quad3[1] += weights_times(x, k0 + 13u, j); }
    if (has_output(14u, live)) { quad3[2] += weights_times(x, k0 + 14u, j); }
    if (has_output(15u, live)) { quad3[3] += weights_times(x, k0 + 15u, j); }
  }
  for (var s = 0u; s < 4u; s++) {
    if (first + s >= N) { break; }
    let at = (first + s) * K + k0;  // z of output k0 + c at at + c
    out[at] = quad0[0][s] + bias_of(k0);
    if (has_output(1u, live)) { out[at + 1u] = quad0[1][s] + bias_of(k0 + 1u); }
    if (has_output(2u, live)) { out[at + 2u] = quad0[2][s] + bias_of(k0 + 2u); }
    if (has_output(3u, live)) { out[at + 3u] = quad0[3][s] + bias_of(k0 + 3u); }
    if (has_output(4u, live)) { out[at + 4u] = quad1[0][s] + bias_of(k0 + 4u); }
    if (has_output(5u, live)) { out[at + 5u] = quad1[1][s] + bias_of(k0 + 5u); }
    if (has_output(6u, live)) { out[at + 6u] = quad1[2][s] + bias_of(k0 + 6u); }
    if (has_output(7u, live)) { out[at + 7u] = quad1[3][s] + bias_of(k0 + 7u); }
    if (has_output(8u, live)) { out[at + 8u] = quad2[0][s] + bias_of(k0 + 8u); }
    if (has_output(9u, live)) { out[at + 9u] = quad2[1][s] + bias_of(k0 + 9u); }
    if (has_output(10u, live)) { out[at + 10u] = quad2[2][s] + bias_of(k0 + 10u); }
    if (has_output(11u, live)) { out[at + 11u] = quad2[3][s] + bias_of(k0 + 11u); }
    if (has_output(12u, live)) { out[at + 12u] = quad3[0][s] + bias_of(k0 + 12u); }
    if (has_output(13u, live)) { out[at + 13u] = quad3[1][s] + bias_of(k0 + 13u); }
    if (has_output(14u, live)) { out[at + 14u] = quad3[2][s] + bias_of(k0 + 14u); }
    if (has_output(15u, live)) { out[at + 15u] = quad3[3][s] + bias_of(k0 + 15u); }
  }
}

// ---------------------------------------------------------------------------
// logistic_loss: for every sample, at the trial scores z_t = z − t_k·u
// (exactly z where t_k = 0): z_t, the residual σ(z_t) − y, each output's
// cross-entropy, and whether the sample is misclassified: with one output
// (σ(z) > 0.5) ≠ (y > 0.5), with several argmax_k z ≠ argmax_k y (the first
// maximum on ties). One thread per sample, all outputs. Written with = .

@group(0) @binding(0) var<storage, read> scores: array<f32>;          // (N, K) z
@group(0) @binding(1) var<storage, read> direction: array<f32>;       // (N, K) u
@group(0) @binding(2) var<storage, read> trial_steps: array<f32>;     // (K) t_k
@group(0) @binding(3) var<storage, read> targets: array<f32>;         // (N, K)
@group(0) @binding(4) var<storage, read_write> trial_scores: array<f32>;  // (N, K)
@group(0) @binding(5) var<storage, read_write> residual: array<f32>;      // (N, K)
@group(0) @binding(6) var<storage, read_write> loss_terms: array<f32>;    // (N, K + 1)

@compute @workgroup_size(WG_X)
fn logistic_loss(@builtin(global_invocation_id) id: vec3u) {
  let sample = id.x;
  if (sample >= N) { return; }
  var best_z = 0.0;
  var best_z_output = 0u;
  var best_y = 0.0;
  var best_y_output = 0u;
  for (var k = 0u; k < K; k++) {
    let at = sample * K + k;
    let t = trial_steps[k];
    let z = select(scores[at] - t * direction[at], scores[at], t == 0.0);
    let y = targets[at];
    trial_scores[at] = z;
    residual[at] = sigmoid(z) - y;
    loss_terms[sample * (K + 1u) + k] = cross_entropy(z, y);
    if (k == 0u || z > best_z) { best_z = z; best_z_output = k; }
    if (k == 0u || y > best_y) { best_y = y; best_y_output = k; }
  }
  var wrong: bool;
  if (K == 1u) {
    wrong = (best_z > 0.0) != (best_y > 0.5);
  } else {
    wrong = best_z_output != best_y_output;
  }
  loss_terms[sample * (K + 1u) + K] = select(0.0, 1.0, wrong);
}

// ---------------------------------------------------------------------------
// logistic_gradient: gradient_partials[chunk, k, d] = Σ_{i in chunk} x̃[i, d] · r[i, k]
//
// Tiling: thread (word j, output group) of chunk id.y owns features
// 4j .. 4j+3 × outputs 16·group .. 16·group + 15 (quad q, a mat4x4f: column c
// holds output 16·group + 4q + c, row f feature 4j + f) and walks over the
// chunk's samples in order, unpacking and standardising each word once for all
// its outputs. Threads of one workgroup read neighbouring words of the same
// sample. One line per output, as in logistic_scores. The chunks are added by
// column_sums_in_order; written with = .

@group(0) @binding(2) var<storage, read> residual_in: array<f32>;              // (N, K)
@group(0) @binding(3) var<storage, read_write> gradient_partials: array<f32>;  // (CHUNKS, K·DP)

@compute @workgroup_size(WG_X)
fn logistic_gradient(@builtin(global_invocation_id) id: vec3u) {
  let word = id.x % D4;
  let k0 = (id.x / D4) * OUTPUTS_PER_THREAD;
  if (k0 >= K) { return; }
  let live = K - k0;
  let chunk = id.y;
  let first = chunk * CHUNK;
  let end = min(first + CHUNK, N);
  let shift = standardize[word];
  let scale = standardize[D4 + word];

  var quad0 = mat4x4f();
  var quad1 = mat4x4f();
  var quad2 = mat4x4f();
  var quad3 = mat4x4f();
  for (var i = first; i < end; i++) {
    let x = (raw_features(i, word) - shift) * scale;
    let row = i * K;
    quad0[0] += x * residual_in[row + k0];
    if (has_output(1u, live)) { quad0[1] += x * residual_in[row + k0 + 1u]; }
    if (has_output(2u, live)) { quad0[2] += x * residual_in[row + k0 + 2u]; }
    if (has_output(3u, live)) { quad0[3] += x * residual_in[row + k0 + 3u]; }
    if (has_output(4u, live)) { quad1[0] += x * residual_in[row + k0 + 4u]; }
    if (has_output(5u, live)) { quad1[1] += x * residual_in[row + k0 + 5u]; }
    if (has_output(6u, live)) { quad1[2] += x * residual_in[row + k0 + 6u]; }
    if (has_output(7u, live)) { quad1[3] += x * residual_in[row + k0 + 7u]; }
    if (has_output(8u, live)) { quad2[0] += x * residual_in[row + k0 + 8u]; }
    if (has_output(9u, live)) { quad2[1] += x * residual_in[row + k0 + 9u]; }
    if (has_output(10u, live)) { quad2[2] += x * residual_in[row + k0 + 10u]; }
    if (has_output(11u, live)) { quad2[3] += x * residual_in[row + k0 + 11u]; }
    if (has_output(12u, live)) { quad3[0] += x * residual_in[row + k0 + 12u]; }
    if (has_output(13u, live)) { quad3[1] += x * residual_in[row + k0 + 13u]; }
    if (has_output(14u, live)) { quad3[2] += x * residual_in[row + k0 + 14u]; }
    if (has_output(15u, live)) { quad3[3] += x * residual_in[row + k0 + 15u]; }
  }
  let dp = features_padded();
  let at = (chunk * K + k0) * dp + word * 4u;  // output k0 + c's sums at at + c·DP
  for (var f = 0u; f < 4u; f++) { gradient_partials[at + f] = quad0[0][f]; }
  if (has_output(1u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 1u * dp + f] = quad0[1][f]; } }
  if (has_output(2u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 2u * dp + f] = quad0[2][f]; } }
  if (has_output(3u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 3u * dp + f] = quad0[3][f]; } }
  if (has_output(4u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 4u * dp + f] = quad1[0][f]; } }
  if (has_output(5u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 5u * dp + f] = quad1[1][f]; } }
  if (has_output(6u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 6u * dp + f] = quad1[2][f]; } }
  if (has_output(7u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 7u * dp + f] = quad1[3][f]; } }
  if (has_output(8u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 8u * dp + f] = quad2[0][f]; } }
  if (has_output(9u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 9u * dp + f] = quad2[1][f]; } }
  if (has_output(10u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 10u * dp + f] = quad2[2][f]; } }
  if (has_output(11u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 11u * dp + f] = quad2[3][f]; } }
  if (has_output(12u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 12u * dp + f] = quad3[0][f]; } }
  if (has_output(13u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 13u * dp + f] = quad3[1][f]; } }
  if (has_output(14u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 14u * dp + f] = quad3[2][f]; } }
  if (has_output(15u, live)) { for (var f = 0u; f < 4u; f++) { gradient_partials[at + 15u * dp + f] = quad3[3][f]; } }
}

// ---------------------------------------------------------------------------
// Tree sum over one workgroup (WG_X a power of two). Call from uniform control flow.

var<workgroup> lane_sums: array<f32, WG_X>;

fn workgroup_sum(lane: u32, value: f32) -> f32 {
  lane_sums[lane] = value;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) { lane_sums[lane] += lane_sums[lane + stride]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&lane_sums[0]);
}

// ---------------------------------------------------------------------------
// Column sums: sums[OUT_OFFSET + c] = SCALE · Σ_r values[r, c], written with = .
//
// column_sums, for many rows and few columns: one workgroup per column (the
// grid folds into 2-D past 65,535 columns); thread t adds rows t, t + WG_X,
// t + 2·WG_X, ... in order, then the workgroup adds the threads' sums with a tree.
// column_sums_in_order, for a few hundred rows and many columns: one thread per
// column adds the rows in order (barriers cost more than they save there).

@group(0) @binding(0) var<storage, read> values: array<f32>;          // (ROWS, COLUMNS)
@group(0) @binding(1) var<storage, read_write> sums: array<f32>;      // (≥ OUT_OFFSET + COLUMNS)

@compute @workgroup_size(WG_X)
fn column_sums(
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let column = group.x + group.y * groups.x;
  if (column >= COLUMNS) { return; }  // the same for the whole workgroup
  var sum = 0.0;
  for (var r = lane; r < ROWS; r += WG_X) {
    sum += values[r * COLUMNS + column];
  }
  let total = workgroup_sum(lane, sum);
  if (lane == 0u) { sums[OUT_OFFSET + column] = SCALE * total; }
}

@compute @workgroup_size(WG_X)
fn column_sums_in_order(@builtin(global_invocation_id) id: vec3u) {
  let column = id.x;
  if (column >= COLUMNS) { return; }
  var sum = 0.0;
  for (var r = 0u; r < ROWS; r++) {
    sum += values[r * COLUMNS + column];
  }
  sums[OUT_OFFSET + column] = SCALE * sum;
}

// ---------------------------------------------------------------------------
// make_trial: trial = params − t_k · gradient for output k (its weight row and
// bias; exactly params where t_k = 0), and ‖trial w_k‖² (for the penalty, added
// on the CPU) into summary[NORM_OFFSET + k]. One workgroup per output.

@group(0) @binding(0) var<storage, read> current: array<f32>;          // params (K·DP + K)
@group(0) @binding(1) var<storage, read> gradient: array<f32>;         // (K·DP + K)
@group(0) @binding(2) var<storage, read> step_sizes: array<f32>;       // (K) t_k
@group(0) @binding(3) var<storage, read_write> trial: array<f32>;      // (K·DP + K)
@group(0) @binding(4) var<storage, read_write> summary: array<f32>;

@compute @workgroup_size(WG_X)
fn make_trial(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let k = group.x;
  let dp = features_padded();
  let t = step_sizes[k];
  var squares = 0.0;
  for (var d = lane; d < dp; d += WG_X) {
    let at = k * dp + d;
    let w = select(current[at] - t * gradient[at], current[at], t == 0.0);
    trial[at] = w;
    squares += w * w;
  }
  if (lane == 0u) {
    let at = K * dp + k;
    trial[at] = select(current[at] - t * gradient[at], current[at], t == 0.0);
  }
  let norm = workgroup_sum(lane, squares);
  if (lane == 0u) { summary[NORM_OFFSET + k] = norm; }
}

// ---------------------------------------------------------------------------
// copy_values: to[i] = from[i] for i < COUNT (accepting a trial: its
// parameters, and its scores, which are then exactly the ones its loss used).

@group(0) @binding(0) var<storage, read> copy_source: array<f32>;
@group(0) @binding(1) var<storage, read_write> copy_target: array<f32>;

@compute @workgroup_size(WG_X)
fn copy_values(@builtin(global_invocation_id) id: vec3u) {
  if (id.x >= COUNT) { return; }
  copy_target[id.x] = copy_source[id.x];
}

// ---------------------------------------------------------------------------
// finish_gradient: dparams holds (1/N) Σ x̃ᵀ r and (1/N) Σ r (from the column
// sums); add the penalty's gradient (λ/N)·w_k to the weights (not the bias) and
// write ‖g_k‖² over weights and (when learnt) bias into summary[NORM_OFFSET + k].
// One workgroup per output.

@group(0) @binding(0) var<storage, read> weights_now: array<f32>;      // params (K·DP + K)
@group(0) @binding(1) var<storage, read_write> dparams: array<f32>;    // (K·DP + K)
@group(0) @binding(2) var<storage, read_write> norms: array<f32>;      // summary

@compute @workgroup_size(WG_X)
fn finish_gradient(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_index) lane: u32) {
  let k = group.x;
  let dp = features_padded();
  var squares = 0.0;
  for (var d = lane; d < dp; d += WG_X) {
    let at = k * dp + d;
    let g = dparams[at] + L2_OVER_N * weights_now[at];
    dparams[at] = g;
    squares += g * g;
  }
  if (lane == 0u && HAS_BIAS) {
    let g = dparams[K * dp + k];
    squares += g * g;
  }
  let norm = workgroup_sum(lane, squares);
  if (lane == 0u) { norms[NORM_OFFSET + k] = norm; }
}

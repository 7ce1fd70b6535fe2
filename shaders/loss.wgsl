// Losses, each fused with its gradient and with the metrics of the batch.
// One workgroup handles the whole batch: its threads take rows in turn, then
// a tree reduction sums loss and correct counts, and thread 0 adds them to the
// pass's StepState. Every loss is the MEAN over the batch's valid rows (a short
// last batch has padding rows, which get zero gradient).
//
//   softmax_cross_entropy   L_r = Σ_c t[r,c] · (lse_r − z[r,c]),  lse_r = m + log Σ_c exp(z[r,c] − m)
//                           dz[r,c] = (softmax(z_r)[c] · Σ_c t[r,c] − t[r,c]) / valid
//   sigmoid_cross_entropy   L_r = max(z,0) − z·t + log(1 + exp(−|z|))      (C = 1)
//                           dz_r = (sigmoid(z) − t) / valid
//   mean_squared_error      L_r = Σ_c (y[r,c] − t[r,c])² / C,   dy[r,c] = 2 (y[r,c] − t[r,c]) / (C · valid)
//
// The cross-entropies take logits, so softmax/sigmoid and the log never meet
// separately: no log(0), no exp overflow (z = 1e6, t = 0 gives L = 1e6 exactly).
// Targets are class indices (SPARSE: t is the one-hot row of the label, or the
// label itself when C = 1) or C floats per row (stored as u32 bits). Accuracy: argmax(z) == argmax(t) (ties to the lowest
// class); for sigmoid, (z > 0) == (t > 0.5).
// A non-finite batch loss sets state.halted (and state.halted_step): the
// optimizer kernels then skip every update, keeping the last good weights, and
// the CPU reports the step when it next reads the state.

override B: u32;
override C: u32;
override SPARSE: bool = true;
override WG_X: u32 = 256u;

@group(0) @binding(0) var<storage, read> z: array<f32>;              // (B, C) logits (or outputs, for MSE)
@group(0) @binding(1) var<storage, read> targets: array<u32>;        // (B) labels, or (B, C) f32 bits
@group(0) @binding(2) var<storage, read_write> dz: array<f32>;       // (B, C) gradient of the mean loss
@group(0) @binding(3) var<storage, read_write> state: StepState;

var<workgroup> partial_loss: array<f32, WG_X>;
var<workgroup> partial_correct: array<u32, WG_X>;

// With class-index targets, one output (C = 1) takes the label itself as its
// target (binary labels 0/1); several outputs take its one-hot row.
fn target_of(row: u32, c: u32) -> f32 {
  if (SPARSE) {
    if (C == 1u) { return f32(targets[row]); }
    return select(0.0, 1.0, targets[row] == c);
  }
  return bitcast<f32>(targets[row * C + c]);
}

fn target_class(row: u32) -> u32 {
  if (SPARSE) { return targets[row]; }
  var best = 0u;
  for (var c = 1u; c < C; c++) { if (target_of(row, c) > target_of(row, best)) { best = c; } }
  return best;
}

fn predicted_class(row: u32) -> u32 {
  var best = 0u;
  for (var c = 1u; c < C; c++) { if (z[row * C + c] > z[row * C + best]) { best = c; } }
  return best;
}

// Sums the per-thread partials and records them in the state (thread 0).
fn finish_batch(local: u32, loss: f32, correct: u32, valid: u32) {
  partial_loss[local] = loss;
  partial_correct[local] = correct;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride /= 2u) {
    if (local < stride) {
      partial_loss[local] += partial_loss[local + stride];
      partial_correct[local] += partial_correct[local + stride];
    }
    workgroupBarrier();
  }
  if (local == 0u && valid > 0u && state.halted == 0u) {
    let total = partial_loss[0];
    if (!is_finite(total)) {
      state.halted = 1u;
      state.halted_step = state.step;
    } else {
      state.loss_sum += total;
      state.correct += partial_correct[0];
      state.seen += valid;
    }
  }
}

@compute @workgroup_size(WG_X)
fn softmax_cross_entropy(@builtin(local_invocation_id) lid: vec3u) {
  let valid = valid_rows(state, B);
  let scale = 1.0 / f32(max(valid, 1u));
  var loss = 0.0;
  var correct = 0u;
  for (var row = lid.x; row < B; row += WG_X) {
    let base = row * C;
    if (row >= valid) {
      for (var c = 0u; c < C; c++) { dz[base + c] = 0.0; }
      continue;
    }
    var m = z[base];
    for (var c = 1u; c < C; c++) { m = max(m, z[base + c]); }
    var sum = 0.0;
    for (var c = 0u; c < C; c++) { sum += exp(z[base + c] - m); }
    let lse = m + log(sum);
    var target_sum = 0.0;
    for (var c = 0u; c < C; c++) {
      let t = target_of(row, c);
      target_sum += t;
      loss += t * (lse - z[base + c]);
    }
    for (var c = 0u; c < C; c++) {
      dz[base + c] = (exp(z[base + c] - m) / sum * target_sum - target_of(row, c)) * scale;
    }
    correct += select(0u, 1u, predicted_class(row) == target_class(row));
  }
  finish_batch(lid.x, loss, correct, valid);
}

@compute @workgroup_size(WG_X)
fn sigmoid_cross_entropy(@builtin(local_invocation_id) lid: vec3u) {
  let valid = valid_rows(state, B);
  let scale = 1.0 / f32(max(valid, 1u));
  var loss = 0.0;
  var correct = 0u;
  for (var row = lid.x; row < B; row += WG_X) {
    if (row >= valid) { dz[row] = 0.0; continue; }
    let logit = z[row];
    let t = target_of(row, 0u);
    loss += max(logit, 0.0) - logit * t + log(1.0 + exp(-abs(logit)));
    // sigmoid written so that neither branch overflows.
    let e = exp(-abs(logit));
    let p = select(e / (1.0 + e), 1.0 / (1.0 + e), logit >= 0.0);
    dz[row] = (p - t) * scale;
    correct += select(0u, 1u, (logit > 0.0) == (t > 0.5));
  }
  finish_batch(lid.x, loss, correct, valid);
}

@compute @workgroup_size(WG_X)
fn mean_squared_error(@builtin(local_invocation_id) lid: vec3u) {
  let valid = valid_rows(state, B);
  let scale = 2.0 / (f32(C) * f32(max(valid, 1u)));
  var loss = 0.0;
  var correct = 0u;
  for (var row = lid.x; row < B; row += WG_X) {
    let base = row * C;
    if (row >= valid) {
      for (var c = 0u; c < C; c++) { dz[base + c] = 0.0; }
      continue;
    }
    var sum = 0.0;
    for (var c = 0u; c < C; c++) {
      let diff = z[base + c] - target_of(row, c);
      sum += diff * diff;
      dz[base + c] = diff * scale;
    }
    loss += sum / f32(C);
    if (C == 1u) {
      correct += select(0u, 1u, (z[row] > 0.5) == (target_of(row, 0u) > 0.5));
    } else {
      correct += select(0u, 1u, predicted_class(row) == target_class(row));
    }
  }
  finish_batch(lid.x, loss, correct, valid);
}

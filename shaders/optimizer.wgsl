// Optimizer updates, one thread per parameter, Keras semantics and defaults.
// `param` and `grad` are one contiguous range of the model's flat parameter and
// gradient buffers (all of a layer's kernel, say), and `slot0`/`slot1` the same
// range of the optimizer's state buffers. Every kernel first forms
//
//   g  = grad + 2·l2·param               (L2 as a loss term, Keras kernel_regularizer l2(l2))
//   lr = lr0 · decay_rate^(iteration / decay_steps)   (floored when staircase;
//        decay_rate 1 is a constant rate; `iteration` counts updates already applied)
//
// then applies its rule, and last subtracts weight_decay · param (decoupled
// decay: param −= lr·g + weight_decay·param, with param taken before the step).
//
//   sgd_step               param −= lr·g
//   momentum_step          v = momentum·v + lr·g;  param −= v                 (Keras SGD(momentum))
//   momentum_average_step  v = momentum·v + (1 − momentum)·g;  param −= lr·v
//   nesterov_step          v = momentum·v − lr·g;  param += momentum·v − lr·g (Keras SGD(nesterov=True))
//   rmsprop_step           ms = rho·ms + (1 − rho)·g²;  inc = lr·g / sqrt(ms + epsilon)
//                          momentum > 0: mom = momentum·mom + inc, param −= mom;  else param −= inc
//   adam_step              m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//                          param −= lr·sqrt(1 − β2^t)/(1 − β1^t) · m / (sqrt(v) + epsilon),  t = iteration + 1
//   adagrad_step           acc += g²;  param −= lr·g / sqrt(acc + epsilon)    (acc starts at 0.1)
//   adadelta_step          ag = rho·ag + (1 − rho)·g²;  delta = sqrt(ad + epsilon)/sqrt(ag + epsilon)·g
//                          ad = rho·ad + (1 − rho)·delta²;  param −= lr·delta
//
// Nothing moves once state.halted is set: the last good weights stay.

struct Hyper {
  lr: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  rho: f32,
  epsilon: f32,
  l2: f32,
  weight_decay: f32,
  decay_rate: f32,
  decay_steps: f32,
  staircase: f32,
  _pad: f32,
}

override COUNT: u32;
override WG_X: u32 = 64u;

// Values are read and written four at a time where COUNT is a multiple of 4
// (the VEC4 define; a model's ranges always are): every rule is elementwise, so
// the same code runs on f32 and on vec4f, and a vec4 costs software adapters
// about what one f32 does.
#if VEC4
alias Value = vec4f;
const WIDTH = 4u;
#else
alias Value = f32;
const WIDTH = 1u;
#endif

@group(0) @binding(0) var<storage, read_write> param: array<Value>;  // (COUNT / WIDTH)
@group(0) @binding(1) var<storage, read> grad: array<Value>;         // (COUNT / WIDTH)
@group(0) @binding(2) var<uniform> hyper: Hyper;
@group(0) @binding(3) var<storage, read> state: StepState;
@group(0) @binding(4) var<storage, read_write> slot0: array<Value>;  // (COUNT / WIDTH) v, ms, m, acc or ag
@group(0) @binding(5) var<storage, read_write> slot1: array<Value>;  // (COUNT / WIDTH) mom, v or ad

// Each thread updates about PER_THREAD values (of WIDTH parameters each), so that the learning rate (a
// pow) and the bias corrections are computed once per thread rather than once
// per parameter. Thread t takes t, t + T, t + 2T, ... (T threads in all): side
// by side threads touch side by side parameters.
const PER_THREAD = 16u;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG_X;
}

fn thread_count(groups: vec3u) -> u32 {
  return groups.x * groups.y * WG_X;
}

fn learning_rate() -> f32 {
  var progress = f32(state.iteration) / hyper.decay_steps;
  if (hyper.staircase > 0.5) { progress = floor(progress); }
  return hyper.lr * pow(hyper.decay_rate, progress);
}

// The gradient of parameter i, whose value is `old` (param[i], read once per
// parameter by the caller: every load costs on a software adapter).
fn gradient(i: u32, old: Value) -> Value {
  return grad[i] + 2.0 * hyper.l2 * old;
}

// Writes the new value, with decoupled weight decay on the old one.
fn apply(i: u32, old: Value, step: Value) {
  param[i] = old - step - hyper.weight_decay * old;
}

@compute @workgroup_size(WG_X)
fn sgd_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    apply(i, old, lr * gradient(i, old));
  }
}

@compute @workgroup_size(WG_X)
fn momentum_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let v = hyper.momentum * slot0[i] + lr * gradient(i, old);
    slot0[i] = v;
    apply(i, old, v);
  }
}

@compute @workgroup_size(WG_X)
fn momentum_average_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let v = hyper.momentum * slot0[i] + (1.0 - hyper.momentum) * gradient(i, old);
    slot0[i] = v;
    apply(i, old, lr * v);
  }
}

@compute @workgroup_size(WG_X)
fn nesterov_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let g = gradient(i, old);
    let v = hyper.momentum * slot0[i] - lr * g;
    slot0[i] = v;
    apply(i, old, -(hyper.momentum * v - lr * g));
  }
}

@compute @workgroup_size(WG_X)
fn rmsprop_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let g = gradient(i, old);
    let ms = hyper.rho * slot0[i] + (1.0 - hyper.rho) * g * g;
    slot0[i] = ms;
    let increment = lr * g / sqrt(ms + hyper.epsilon);
    if (hyper.momentum > 0.0) {
      let mom = hyper.momentum * slot1[i] + increment;
      slot1[i] = mom;
      apply(i, old, mom);
    } else {
      apply(i, old, increment);
    }
  }
}

@compute @workgroup_size(WG_X)
fn adam_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  let t = f32(state.iteration + 1u);
  let alpha = lr * sqrt(1.0 - pow(hyper.beta2, t)) / (1.0 - pow(hyper.beta1, t));
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let g = gradient(i, old);
    let m = hyper.beta1 * slot0[i] + (1.0 - hyper.beta1) * g;
    let v = hyper.beta2 * slot1[i] + (1.0 - hyper.beta2) * g * g;
    slot0[i] = m;
    slot1[i] = v;
    apply(i, old, alpha * m / (sqrt(v) + hyper.epsilon));
  }
}

@compute @workgroup_size(WG_X)
fn adagrad_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let g = gradient(i, old);
    let acc = slot0[i] + g * g;
    slot0[i] = acc;
    apply(i, old, lr * g / sqrt(acc + hyper.epsilon));
  }
}

@compute @workgroup_size(WG_X)
fn adadelta_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let first = thread_index(id, groups);
  if (first >= COUNT / WIDTH || state.halted != 0u) { return; }
  let lr = learning_rate();
  for (var i = first; i < COUNT / WIDTH; i += thread_count(groups)) {
    let old = param[i];
    let g = gradient(i, old);
    let ag = hyper.rho * slot0[i] + (1.0 - hyper.rho) * g * g;
    let delta = sqrt(slot1[i] + hyper.epsilon) / sqrt(ag + hyper.epsilon) * g;
    slot0[i] = ag;
    slot1[i] = hyper.rho * slot1[i] + (1.0 - hyper.rho) * delta * delta;
    apply(i, old, lr * delta);
  }
}

// Activations as layers of their own (Keras `Activation`), and the backward of
// every activation, which dense and conv2d also use.
//
//   activation_forward    out[i] = act(inp[i])
//   activation_backward   grad[i] = grad[i] · act'(out[i])           in place: dL/dy becomes dL/dx
//   activation_forward4, activation_backward4: the same four at a time, for N a multiple of 4
//   softmax_forward       out[r, c] = exp(inp[r, c] − m) / Σ_k exp(inp[r, k] − m),   m = max_k inp[r, k]
//   softmax_backward      grad[r, c] = out[r, c] · (grad[r, c] − Σ_k grad[r, k] · out[r, k])   in place
//
// The backward kernels work from the forward's output y, which is what the
// layers keep. In place is safe: each thread reads its element (or row) before
// writing it, and nothing else reads dL/dy afterwards.

override N: u32 = 1u;        // elements, for the elementwise kernels
override ROWS: u32 = 1u;     // rows, for softmax
override COLS: u32 = 1u;     // classes per row, for softmax
override WG_X: u32 = 64u;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * WG_X;
}

// The elementwise kernels run about ELEMENTS_PER_THREAD elements per thread:
// thread t takes t, t + T, t + 2T, ... (T threads in all), so that a thread's
// fixed cost is shared and side by side threads touch side by side elements.
const ELEMENTS_PER_THREAD = 4u;

fn thread_count(groups: vec3u) -> u32 {
  return groups.x * groups.y * WG_X;
}

@group(0) @binding(0) var<storage, read> inp: array<f32>;            // (N) or (ROWS, COLS)
@group(0) @binding(1) var<storage, read_write> out: array<f32>;      // same shape as inp

@compute @workgroup_size(WG_X)
fn activation_forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = thread_index(id, groups); i < N; i += thread_count(groups)) {
    out[i] = activate(inp[i]);
  }
}

@compute @workgroup_size(WG_X)
fn softmax_forward(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= ROWS) { return; }
  let base = r * COLS;
  var m = inp[base];
  for (var c = 1u; c < COLS; c++) { m = max(m, inp[base + c]); }
  var sum = 0.0;
  for (var c = 0u; c < COLS; c++) { sum += exp(inp[base + c] - m); }
  for (var c = 0u; c < COLS; c++) { out[base + c] = exp(inp[base + c] - m) / sum; }
}

// activation_forward4
@group(0) @binding(0) var<storage, read> inp4: array<vec4f>;         // (N / 4)
@group(0) @binding(1) var<storage, read_write> out4: array<vec4f>;   // (N / 4)

@compute @workgroup_size(WG_X)
fn activation_forward4(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = thread_index(id, groups); i < N / 4u; i += thread_count(groups)) {
    out4[i] = activate4(inp4[i]);
  }
}

@group(0) @binding(0) var<storage, read> y: array<f32>;              // forward output, (N) or (ROWS, COLS)
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;     // dL/dy in, dL/dx out

@compute @workgroup_size(WG_X)
fn activation_backward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = thread_index(id, groups); i < N; i += thread_count(groups)) {
    grad[i] = grad[i] * activation_grad_from_output(y[i]);
  }
}

@compute @workgroup_size(WG_X)
fn softmax_backward(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= ROWS) { return; }
  let base = r * COLS;
  var dot = 0.0;
  for (var c = 0u; c < COLS; c++) { dot += grad[base + c] * y[base + c]; }
  for (var c = 0u; c < COLS; c++) { grad[base + c] = y[base + c] * (grad[base + c] - dot); }
}

// activation_backward4
@group(0) @binding(0) var<storage, read> y4: array<vec4f>;           // (N / 4)
@group(0) @binding(1) var<storage, read_write> grad4: array<vec4f>;  // (N / 4)

@compute @workgroup_size(WG_X)
fn activation_backward4(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var i = thread_index(id, groups); i < N / 4u; i += thread_count(groups)) {
    grad4[i] = grad4[i] * activation_grad_from_output4(y4[i]);
  }
}

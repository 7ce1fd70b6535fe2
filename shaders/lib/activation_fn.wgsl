// Activation functions, shared by every kernel that applies one: the dense and
// conv2d forward kernels fuse them into their epilogue, activation.wgsl applies
// them on their own. Prepended to those kernels' sources.
//
// ACT selects the function: 0 linear, 1 relu, 2 leaky relu (slope ALPHA below
// zero), 3 sigmoid, 4 tanh. Softmax works on whole rows and lives in
// activation.wgsl.

override ACT: u32 = 0u;
override ALPHA: f32 = 0.3;

fn activate(x: f32) -> f32 {
  switch ACT {
    case 1u: { return max(x, 0.0); }
    case 2u: { return select(ALPHA * x, x, x > 0.0); }
    // exp(-x) overflows to +inf for x < -88, and 1 / inf is the right 0.
    case 3u: { return 1.0 / (1.0 + exp(-x)); }
    // Clamped: tanh(±20) is ±1 in f32, and some drivers' tanh returns NaN far out.
    case 4u: { return tanh(clamp(x, -20.0, 20.0)); }
    default: { return x; }
  }
}

// f'(x), written in terms of y = f(x): the backward pass keeps outputs, not inputs.
fn activation_grad_from_output(y: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return select(ALPHA, 1.0, y > 0.0); }
    case 3u: { return y * (1.0 - y); }
    case 4u: { return 1.0 - y * y; }
    default: { return 1.0; }
  }
}

// The same, on four values at once (the vec4 kernels).
fn activate4(v: vec4f) -> vec4f {
  return vec4f(activate(v.x), activate(v.y), activate(v.z), activate(v.w));
}

fn activation_grad_from_output4(y: vec4f) -> vec4f {
  return vec4f(activation_grad_from_output(y.x), activation_grad_from_output(y.y),
               activation_grad_from_output(y.z), activation_grad_from_output(y.w));
}

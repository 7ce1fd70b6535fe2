// The operands of shaders/gemm.wgsl for the dense products: a (M, K) and b
// (K, N) read through strides, so that a transpose is only which stride is 1.
//
//   dense forward          a = inp  (A_M = IN, A_K = 1)    b = weight  (B_K = OUT, B_N = 1)
//   dense backward input   a = dout (A_M = OUT, A_K = 1)   b = weightᵀ (B_K = 1, B_N = OUT)
//   dense backward weight  a = inpᵀ (A_M = 1, A_K = IN)    b = dout    (B_K = OUT, B_N = 1)

override A_M: u32;
override A_K: u32;
override B_K: u32;
override B_N: u32;

fn load_a(m: u32, k: u32) -> f32 {
  return a_mat[m * A_M + k * A_K];
}

fn load_b(k: u32, n: u32) -> f32 {
  return b_mat[k * B_K + n * B_N];
}

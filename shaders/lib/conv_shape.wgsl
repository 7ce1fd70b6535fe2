// The shape of one 2-D convolution, shared by conv2d.wgsl (direct) and
// conv2d_gemm.wgsl (implicit GEMM): NHWC input (B, H, W, CIN), output
// (B, OH, OW, COUT), weights (KH, KW, CIN, COUT), strides SH, SW, and the
// padding above and to the left ('valid' is 0). Prepended to those kernels'
// sources.

override B: u32;
override H: u32;
override W: u32;
override CIN: u32;
override OH: u32;
override OW: u32;
override COUT: u32;
override KH: u32;
override KW: u32;
override SH: u32 = 1u;
override SW: u32 = 1u;
override PAD_TOP: u32 = 0u;
override PAD_LEFT: u32 = 0u;

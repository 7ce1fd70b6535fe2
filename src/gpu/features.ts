/**
 * What an adapter can do beyond the WebGPU baseline, asked once per device:
 * WGSL language features that need a compile to be sure of, and whether the
 * adapter is a CPU emulation (where kernels trade differently: workgroup
 * memory and emulated built-ins cost more than they save).
 */
import type { RuntimeCore } from './dispatch.js';

const packedDotProbes = new WeakMap<GPUDevice, Promise<boolean>>();

/**
 * Whether the device compiles WGSL that uses `dot4U8Packed` (the language
 * feature `packed_4x8_integer_dot_product`). Decided by compiling a one-line
 * probe inside an error scope, once per device.
 */
export function hasPackedDot(rt: RuntimeCore): Promise<boolean> {
  let probe = packedDotProbes.get(rt.device);
  if (!probe) {
    probe = (async () => {
      const device = rt.device;
      device.pushErrorScope('validation');
      const module = device.createShaderModule({
        label: 'packed_4x8_integer_dot_product probe',
        code: 'requires packed_4x8_integer_dot_product;\nfn probe(a: u32) -> u32 { return dot4U8Packed(a, a); }\n',
      });
      const info = await module.getCompilationInfo();
      const error = await device.popErrorScope();
      return !error && !info.messages.some((m) => m.type === 'error');
    })();
    packedDotProbes.set(rt.device, probe);
  }
  return probe;
}

/** Whether the adapter is a CPU emulation of a GPU (SwiftShader, llvmpipe, lavapipe, Microsoft Basic Render). */
export function isCpuAdapter(rt: RuntimeCore): boolean {
  const { vendor, architecture, description, name } = rt.adapter;
  return /swiftshader|llvmpipe|lavapipe|basic render/i.test(`${vendor} ${architecture} ${description} ${name}`);
}

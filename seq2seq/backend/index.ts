// Public surface of seq2seq/backend/: choosing and initialising the tfjs backend (init.ts), semid's fused wasm
// kernels (wasmKernels.ts, built from wasm/), the WebGPU backend over Dawn (webgpu.ts), and the traits of the
// active backend that model, trainer and scorer code reads instead of branching on its name (traits.ts).
export { initBackend, parseBackendName, registerBackendProbe, BACKEND_NAMES } from './init.js';
export type { BackendInfo, BackendName, BackendOptions, BackendProbe } from './init.js';
export { backendTraits, activeBackendName } from './traits.js';
export type { BackendTraits } from './traits.js';
// For callers that set up tfjs themselves (the browser build; initBackend registers them).
export {
  registerWasmKernels, setWasmKernelsEnabled, ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, DROPOUT_GRAD_KERNEL, DROPOUT_KERNEL, DROPOUT_MASK_KERNEL, MATMUL_TN_KERNEL, RMS_NORM_GRAD_KERNEL, RMS_NORM_KERNEL, SOFTMAX_CE_KERNEL, CODE_SCORES_KERNEL, CODE_SCORES_GRAD_KERNEL, LOG_SUM_EXP_KERNEL, GATHER_ROWS_KERNEL, hasKernel,
} from './wasmKernels.js';
export type { AttentionAttrs, DropoutAttrs } from './wasmKernels.js';
// The WebGPU backend over Dawn (also registers its probe): adapter and Vulkan driver descriptions for doctor/bench.
export { describeWebGpuAdapter, probeWebGpuAdapter, findVulkanLoader, listVulkanIcds, packageVersion } from './webgpu.js';
export type { WebGpuAdapterDescription, WebGpuAdapterProbe, WebGpuFailure, VulkanIcd } from './webgpu.js';

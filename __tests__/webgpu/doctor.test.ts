// `semid doctor`: the report has every section whatever the machine has (no GPU, no Vulkan, no webgpu
// package), its text names each finding, and the vulkaninfo parser reads real `--summary` output.
import { formatDoctorReport, parseVulkanSummary, runDoctor, DOCTOR_PACKAGES } from '../../pipelines/index.js';

// `vulkaninfo --summary` on Debian 12 with Mesa 25.0.7 from bookworm-backports (lavapipe), abridged.
const SUMMARY = `==========
VULKANINFO
==========

Vulkan Instance Version: 1.3.239

Devices:
========
GPU0:
\tapiVersion         = 1.4.305
\tdriverVersion      = 0.0.1
\tvendorID           = 0x10005
\tdeviceType         = PHYSICAL_DEVICE_TYPE_CPU
\tdeviceName         = llvmpipe (LLVM 15.0.6, 256 bits)
\tdriverID           = DRIVER_ID_MESA_LLVMPIPE
\tdriverName         = llvmpipe
\tdriverInfo         = Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)
GPU1:
\tapiVersion         = 1.3.277
\tdeviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
\tdeviceName         = NVIDIA H100 80GB HBM3
\tdriverName         = NVIDIA
\tdriverInfo         = 550.54.15
`;

describe('semid doctor', () => {
  it('parses the devices of vulkaninfo --summary', () => {
    expect(parseVulkanSummary(SUMMARY)).toEqual([
      {
        deviceName: 'llvmpipe (LLVM 15.0.6, 256 bits)', deviceType: 'PHYSICAL_DEVICE_TYPE_CPU', driverName: 'llvmpipe',
        driverInfo: 'Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)', apiVersion: '1.4.305',
      },
      { deviceName: 'NVIDIA H100 80GB HBM3', deviceType: 'PHYSICAL_DEVICE_TYPE_DISCRETE_GPU', driverName: 'NVIDIA', driverInfo: '550.54.15', apiVersion: '1.3.277' },
    ]);
    expect(parseVulkanSummary('ERROR: [Loader Message] vkCreateInstance failed')).toEqual([]);
  });

  it('reports packages, all four backends, the chosen one, the adapter and the driver', async () => {
    const report = await runDoctor({ backend: 'wasm' });
    expect(Object.keys(report.packages)).toEqual([...DOCTOR_PACKAGES]);
    expect(report.packages['@tensorflow/tfjs']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.backends.map((b) => b.name)).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(report.chosen).toMatchObject({ name: 'wasm', request: 'wasm' });
    expect(report.wasm.simd).not.toBeNull();
    expect(report.cpu.count).toBeGreaterThan(0);
    // webgpu is available exactly when there is an adapter, and otherwise says why.
    const webgpu = report.backends.find((b) => b.name === 'webgpu')!;
    expect(webgpu.available).toBe(report.webgpu.ok);
    if (!report.webgpu.ok) expect(webgpu.detail).toMatch(/^(package-missing|driver-missing|no-adapter|device-failed)/);

    const text = formatDoctorReport(report);
    for (const needle of ['packages', '@tensorflow/tfjs-backend-webgpu', 'backends (automatic order: tensorflow, webgpu, wasm, cpu)',
      'chosen', 'wasm SIMD / threads', 'webgpu adapter', 'vulkan', `node                             ${process.version}`]) {
      expect(text).toContain(needle);
    }
    if (report.webgpu.ok) {
      expect(text).toContain(report.webgpu.adapter.description);
      expect(text).toMatch(/isFallbackAdapter\s+(true|false)/);
    }
    expect(JSON.parse(JSON.stringify(report))).toEqual(report); // --json prints exactly this
  });

  it('reports a backend that cannot start instead of failing', async () => {
    const report = await runDoctor({ backend: 'tpu' });
    expect(report.chosen).toBeNull();
    expect(report.chosenError).toMatch(/unknown backend "tpu"/);
    expect(formatDoctorReport(report)).toMatch(/chosen\s+none: unknown backend "tpu"/);
  });
});

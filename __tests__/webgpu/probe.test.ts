// The webgpu probe without a GPU: every way it can fail (package, driver, adapter, device, backend) is
// simulated through an injected environment, and must give a reason naming the failure while the backend
// choice falls back to wasm. Runs everywhere, Vulkan or not.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, registerBackendProbe } from '../../seq2seq/backend/index.js';
import {
  describeAdapterInfo, listVulkanIcds, tryWebGpu, probeWebGpuAdapter, describeWebGpuAdapter,
  type GpuAdapterLike, type WebGpuEnvironment,
} from '../../seq2seq/backend/webgpu.js';

const LAVAPIPE_INFO = {
  vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', isFallbackAdapter: true,
};
const NVIDIA_INFO = { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false };

function fakeAdapter(info: object, requestDevice?: () => Promise<never>): GpuAdapterLike {
  return {
    info,
    limits: { maxBufferSize: 1 << 28 },
    requestDevice: requestDevice ?? (async () => { throw new Error('device requested in a test that must not get that far'); }),
  };
}

function fakeEnvironment(parts: Partial<WebGpuEnvironment> & { adapter?: GpuAdapterLike | null }): WebGpuEnvironment {
  return {
    findVulkanLoader: parts.findVulkanLoader ?? (() => '/usr/lib/x86_64-linux-gnu/libvulkan.so.1'),
    findGpuDevices: parts.findGpuDevices ?? (() => ['/dev/dri/renderD128']),
    loadDawn: parts.loadDawn ?? (async () => ({ gpu: { requestAdapter: async () => parts.adapter ?? null }, globals: {} })),
    loadBackendModule: parts.loadBackendModule ?? (async () => { throw new Error('backend module loaded in a test that must not get that far'); }),
  };
}

describe('webgpu probe', () => {
  const quiet = process.env.SEMID_QUIET_BACKEND;
  beforeAll(() => { process.env.SEMID_QUIET_BACKEND = '1'; });
  afterAll(() => {
    if (quiet === undefined) delete process.env.SEMID_QUIET_BACKEND;
    else process.env.SEMID_QUIET_BACKEND = quiet;
  });

  it('says the Vulkan driver is missing when there is no loader, without loading Dawn', async () => {
    let loaded = false;
    const env = fakeEnvironment({ findVulkanLoader: () => null, loadDawn: async () => { loaded = true; throw new Error('unreachable'); } });
    const probe = await probeWebGpuAdapter(env);
    expect(probe).toMatchObject({ ok: false, failure: 'driver-missing' });
    expect(!probe.ok && probe.message).toMatch(/libvulkan\.so\.1/);
    expect(loaded).toBe(false);
    expect(await tryWebGpu(true, env)).toMatch(/^driver-missing: no Vulkan loader/);
  });

  it('says the webgpu package is missing when Dawn fails to load', async () => {
    const env = fakeEnvironment({ loadDawn: async () => { throw new Error("Cannot find package 'webgpu'\nstack..."); } });
    expect(await tryWebGpu(true, env)).toBe("package-missing: the `webgpu` package (Dawn) failed to load: Cannot find package 'webgpu'");
  });

  it('says no adapter when Dawn finds none', async () => {
    const env = fakeEnvironment({ adapter: null });
    expect(await tryWebGpu(true, env)).toMatch(/^no-adapter: Dawn found no GPU adapter/);
    expect(await describeWebGpuAdapter(env)).toBeNull();
  });

  it('takes a software adapter only on request', async () => {
    const env = fakeEnvironment({ adapter: fakeAdapter(LAVAPIPE_INFO) });
    const auto = await tryWebGpu(false, env);
    expect(auto).toMatch(/only a software adapter \("llvmpipe: Mesa 25\.0\.7.*"\).*--backend webgpu/);
    // On request it goes on to the device, which this fake refuses.
    expect(await tryWebGpu(true, env)).toMatch(/^device-failed: adapter "llvmpipe: Mesa/);
  });

  it('skips Dawn altogether in the automatic choice when no GPU device node exists', async () => {
    let loaded = false;
    const env = fakeEnvironment({ findGpuDevices: () => [], loadDawn: async () => { loaded = true; throw new Error('unreachable'); } });
    expect(await tryWebGpu(false, env)).toMatch(/^no GPU device node .*used only on request/);
    expect(loaded).toBe(false);
    // On request it still looks (lavapipe needs no device node).
    expect(await tryWebGpu(true, env)).toMatch(/^package-missing/);
    expect(loaded).toBe(true);
  });

  it('says the device failed, naming the adapter and the error', async () => {
    const env = fakeEnvironment({ adapter: fakeAdapter(NVIDIA_INFO, async () => { throw new Error('out of memory'); }) });
    expect(await tryWebGpu(false, env)).toBe('device-failed: adapter "NVIDIA H100 80GB HBM3" refused a device: out of memory');
  });

  it('says the backend failed, and frees the device, when tfjs-backend-webgpu does not start', async () => {
    let destroyed = false;
    const device = { lost: new Promise<never>(() => {}), destroy: () => { destroyed = true; } };
    const env = fakeEnvironment({
      adapter: fakeAdapter(NVIDIA_INFO, async () => device as never),
      loadBackendModule: async () => { throw new Error('Cannot find module @tensorflow/tfjs-backend-webgpu'); },
    });
    expect(await tryWebGpu(true, env)).toMatch(/^backend-failed: @tensorflow\/tfjs-backend-webgpu did not start on "NVIDIA H100 80GB HBM3": Cannot find module/);
    expect(destroyed).toBe(true);
  });

  it('describes adapters: lavapipe is software, a GPU is hardware', () => {
    expect(describeAdapterInfo(fakeAdapter(LAVAPIPE_INFO))).toEqual({ name: LAVAPIPE_INFO.description, ...LAVAPIPE_INFO, software: true, limits: { maxBufferSize: 1 << 28 } });
    const gpu = describeAdapterInfo(fakeAdapter(NVIDIA_INFO));
    expect(gpu).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', software: false, isFallbackAdapter: false });
    // A software driver that does not call itself a fallback adapter is still software.
    expect(describeAdapterInfo(fakeAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' })).software).toBe(true);
    // The older spelling of isFallbackAdapter, on the adapter itself.
    expect(describeAdapterInfo({ ...fakeAdapter({ vendor: 'x' }), isFallbackAdapter: true })).toMatchObject({ name: 'x', software: true });
  });

  it('lists Vulkan drivers from VK_DRIVER_FILES, and names an unreadable manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'semid-icd-'));
    const good = join(dir, 'lvp_icd.json');
    const bad = join(dir, 'broken.json');
    writeFileSync(good, JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: '/usr/lib/libvulkan_lvp.so', api_version: '1.4.305' } }));
    writeFileSync(bad, '{ not json');
    expect(listVulkanIcds({ VK_DRIVER_FILES: `${good}:${bad}` })).toEqual([
      { file: good, libraryPath: '/usr/lib/libvulkan_lvp.so', apiVersion: '1.4.305' },
      { file: bad, libraryPath: '(unreadable manifest)', apiVersion: '?' },
    ]);
  });

  it('falls back to wasm in the automatic choice when webgpu fails, and keeps the reason', async () => {
    registerBackendProbe('webgpu', (explicit) => tryWebGpu(explicit, fakeEnvironment({ adapter: null })));
    const info = await initBackend({ quiet: true, backend: undefined });
    if (info.name === 'tensorflow') return; // tfjs-node is first where installed; webgpu is then never tried
    expect(info.name).toBe('wasm');
    expect(info.skipped.join('\n')).toMatch(/webgpu: no-adapter: Dawn found no GPU adapter/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('refuses an explicit --backend webgpu that cannot start, saying why', async () => {
    registerBackendProbe('webgpu', (explicit) => tryWebGpu(explicit, fakeEnvironment({ findVulkanLoader: () => null })));
    await expect(initBackend({ quiet: true, backend: 'webgpu' })).rejects.toThrow(/backend "webgpu" is not available: driver-missing: no Vulkan loader/);
  });
});

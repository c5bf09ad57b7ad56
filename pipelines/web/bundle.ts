// The browser build: pipelines/web/browser.ts and everything it imports (the same seq2seq/ and decoding/
// sources as Node, through their public index.ts) bundled by esbuild into one ES module.
//
// The public surfaces also reach Node-only code (file checkpoints, the trainer, backend probes) that the
// browser build never calls. Node's built-in modules and the `webgpu` package (Dawn for Node) resolve to
// stubs whose functions throw naming themselves, so a stray call fails loudly instead of the page failing
// to load. `@tensorflow/tfjs` resolves to `@tensorflow/tfjs-core` (the ops the model uses; the wasm and
// WebGPU backends register into it), which keeps the layers/converter/data packages out of the bundle.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

export const BROWSER_ENTRY = fileURLToPath(new URL('./browser.ts', import.meta.url));

const NODE_ONLY_PACKAGES = ['webgpu'];

interface StubPlugin {
  name: string;
  setup(build: {
    onResolve(o: { filter: RegExp }, f: (a: { path: string }) => { path: string; namespace: string }): void;
    onLoad(o: { filter: RegExp; namespace: string }, f: (a: { path: string }) => Promise<{ contents: string; loader: 'js' }>): void;
  }): void;
}

/** A module whose exports are the real module's names, each a function that throws naming itself. */
async function stubSource(specifier: string): Promise<string> {
  const names = builtinModules.includes(specifier.replace(/^node:/, ''))
    ? Object.keys(await import(specifier)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n))
    : [];
  const lines = [
    `const unavailable = (name) => function () { throw new Error(name + ' is not available in the browser build of semid'); };`,
    `if (${JSON.stringify(NODE_ONLY_PACKAGES)}.includes(${JSON.stringify(specifier)})) throw new Error(${JSON.stringify(`${specifier} (Node only) is not available in the browser build of semid`)});`,
    ...names.map((n) => `export const ${n} = unavailable(${JSON.stringify(`${specifier}.${n}`)});`),
    `export default new Proxy({}, { get: (_, name) => unavailable(${JSON.stringify(specifier)} + '.' + String(name)) });`,
  ];
  return lines.join('\n');
}

const nodeStubs: StubPlugin = {
  name: 'semid-node-stubs',
  setup(build) {
    const names = [...builtinModules, ...NODE_ONLY_PACKAGES].map((n) => n.replace(/[/]/g, '\\/'));
    build.onResolve({ filter: new RegExp(`^(node:.*|${names.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'semid-node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'semid-node-stub' }, async (args) => ({ contents: await stubSource(args.path), loader: 'js' }));
  },
};

export interface BrowserBundle {
  /** The ES module's source. */
  code: string;
  /** Source files (repository-relative) that went into it. */
  inputs: string[];
}

/** Bundles the browser build (minified ES module, ES2022). */
export async function buildBrowserBundle(options: { minify?: boolean } = {}): Promise<BrowserBundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [BROWSER_ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'silent',
    alias: { '@tensorflow/tfjs': '@tensorflow/tfjs-core' },
    plugins: [nodeStubs],
  });
  const code = result.outputFiles[0].text;
  return { code, inputs: Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('semid-node-stub:')) };
}

// Public surface of pipelines/web/: `semid export` (a trained model as a static folder that recommends in
// the browser), the browser bundle it contains, the catalog file format, and a static server for the folder.
export { exportWeb, runExportPaths, PAGE_TEMPLATE } from './exportWeb.js';
export type { ExportWebOptions, ExportWebResult } from './exportWeb.js';
export { buildBrowserBundle, BROWSER_ENTRY } from './bundle.js';
export type { BrowserBundle } from './bundle.js';
export { encodeCatalog, decodeCatalog, CATALOG_MAGIC, CATALOG_VERSION } from './catalogFile.js';
export type { Catalog } from './catalogFile.js';
export { WEB_FORMAT, WEB_VERSION, WEB_MANIFEST_FILE, WASM_DIR } from './manifest.js';
export type { WebManifest } from './manifest.js';
export { serveStatic } from './serve.js';
export type { StaticServer } from './serve.js';

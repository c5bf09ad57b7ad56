// `manifest.json` of a web export: what the folder holds, read first by the browser build (semid.js).
// No node: imports: the browser build uses these names too.

export const WEB_FORMAT = 'semid-web';
export const WEB_VERSION = 1;
export const WEB_MANIFEST_FILE = 'manifest.json';
/** The folder of the tfjs wasm binaries (setWasmPaths points here). */
export const WASM_DIR = 'wasm/';

export interface WebManifest {
  format: typeof WEB_FORMAT;
  version: number;
  /** Files of the export, relative to the folder. */
  files: { model: string; weights: string; catalog: string; items: string; bundle: string; page: string };
  items: number;
  /** Code count per semantic-ID position. */
  levels: number[];
  /** Whether items.json carries item texts (`--items-text`). */
  itemTexts: boolean;
  /** History items used per request (the most recent), as `semid recommend --max-history`. */
  maxHistory: number;
  /** Model shape, for display. */
  model: { arch: string; preset?: string; parameters: number };
  /** Bytes of every file, and of all of them gzipped one by one. */
  bytes: Record<string, number>;
  createdAt: string;
}

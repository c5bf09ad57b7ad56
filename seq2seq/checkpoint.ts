// Saving and loading: a model is `model.json` (format, config, vocabulary, weight manifest) plus
// `weights.bin` (float32, little-endian, in manifest order). The format is plain JSON + bytes, so a browser
// build of tfjs loads it with two fetches (`modelFromArtifacts`); weights round-trip bit for bit.
// A training checkpoint is a directory written atomically: the model files, `optimizer.bin` (AdamW moments)
// and `state.json` (step, data position, early-stopping state).
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../tokenizer/io/index.js';
import { resolveModelConfig, type ModelConfig } from './config.js';
import type { SequenceModel } from './model.js';
import { createModel } from './registry.js';
import { sha256Hex } from './sha256.js';
import { Vocab, type VocabLayout } from './vocab.js';

export const MODEL_FORMAT = 'semid-seq2seq';
export const MODEL_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

export interface WeightEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

export interface ModelManifest {
  format: typeof MODEL_FORMAT;
  version: number;
  config: ModelConfig;
  vocab: VocabLayout;
  weights: WeightEntry[];
  /** sha256 of weights.bin: a model.json never pairs with other weights. */
  weightsSha256: string;
}

/** Concatenates named tensors into one float32 buffer and its manifest. */
// Reads are asynchronous: WebGPU in Node cannot read tensors synchronously.
export async function packTensors(named: [string, tf.Tensor][]): Promise<{ entries: WeightEntry[]; bytes: Uint8Array }> {
  let total = 0;
  for (const [, t] of named) total += t.size;
  const data = new Float32Array(total);
  const entries: WeightEntry[] = [];
  let offset = 0;
  for (const [name, t] of named) {
    data.set((await t.data()) as Float32Array, offset);
    entries.push({ name, shape: t.shape, offset });
    offset += t.size;
  }
  return { entries, bytes: new Uint8Array(data.buffer) };
}

/** Splits a buffer written by packTensors back into Float32Arrays by name. */
export function unpackTensors(entries: WeightEntry[], bytes: Uint8Array, what: string): Map<string, { shape: number[]; data: Float32Array }> {
  if (bytes.byteLength % 4 !== 0) throw new Error(`${what} has ${bytes.byteLength} bytes, not a whole number of float32 values`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    const size = e.shape.reduce((a, b) => a * b, 1);
    if (e.offset + size > data.length) throw new Error(`${what} is too short for weight ${e.name} (needs ${e.offset + size} floats, has ${data.length})`);
    out.set(e.name, { shape: e.shape, data: data.subarray(e.offset, e.offset + size) });
  }
  return out;
}

/** The model's manifest and weight bytes (what saveModel writes). */
export async function modelArtifacts(model: SequenceModel): Promise<{ manifest: ModelManifest; bytes: Uint8Array }> {
  const { entries, bytes } = await packTensors([...model.params.vars.entries()]);
  const manifest: ModelManifest = {
    format: MODEL_FORMAT, version: MODEL_VERSION, config: model.config,
    vocab: model.vocab.layout(), weights: entries, weightsSha256: sha256Hex(bytes),
  };
  return { manifest, bytes };
}

/** Writes model.json and weights.bin into `dir` (each atomically; weights first). */
export async function saveModel(model: SequenceModel, dir: string): Promise<void> {
  const { manifest, bytes } = await modelArtifacts(model);
  await writeFileAtomic(join(dir, WEIGHTS_FILE), bytes);
  await writeJsonAtomic(join(dir, MODEL_FILE), manifest);
}

/** Rebuilds a model from its manifest and weight bytes (works anywhere tfjs runs: no file system needed). */
export function modelFromArtifacts(manifest: ModelManifest, bytes: Uint8Array, where = 'model'): SequenceModel {
  if (manifest.format !== MODEL_FORMAT) throw new Error(`${where}: not a semid model (format ${JSON.stringify(manifest.format)})`);
  if (manifest.version > MODEL_VERSION) throw new Error(`${where}: model format version ${manifest.version} is newer than this semid (${MODEL_VERSION})`);
  if (manifest.weightsSha256 && sha256Hex(bytes) !== manifest.weightsSha256) {
    throw new Error(`${where}: ${WEIGHTS_FILE} does not match ${MODEL_FILE} (checksum differs): the model was only partly written`);
  }
  const config = resolveModelConfig(manifest.config);
  const vocab = Vocab.fromJSON(manifest.vocab);
  const tensors = unpackTensors(manifest.weights, bytes, `${where}/${WEIGHTS_FILE}`);
  // Build with fresh weights to learn the expected names and shapes, then assign the saved values.
  const model = createModel(config, vocab);
  for (const [name, v] of model.params.vars) {
    const saved = tensors.get(name);
    if (!saved) throw new Error(`${where}: weight ${name} is missing from ${WEIGHTS_FILE}`);
    if (saved.shape.join(',') !== v.shape.join(',')) throw new Error(`${where}: weight ${name} has shape [${saved.shape}], the config needs [${v.shape}]`);
    const t = tf.tensor(saved.data, saved.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
  return model;
}

/** Loads a model written by saveModel. */
export async function loadModel(dir: string): Promise<SequenceModel> {
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_FILE), 'utf8');
  } catch (err) {
    throw new Error(`no model in ${dir}: cannot read ${MODEL_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (err) {
    throw new Error(`${join(dir, MODEL_FILE)} is not valid JSON: ${(err as Error).message}`);
  }
  const bytes = new Uint8Array(await readFile(join(dir, WEIGHTS_FILE)));
  return modelFromArtifacts(manifest, bytes, dir);
}

// Opening a trained model for inference (`semid eval`, `semid recommend`): the data set and the tokenizer's codes
// (one ID per item, and the ones the model was trained on: provenance.ts), the backend, the model and its ranker.
// Training reads the same pair through readDataAndCodes; openTrainedCatalog leaves the users' sequences on disk
// for a pass that streams them (recommend).
import { initBackend, loadModel, type SequenceModel } from '../seq2seq/index.js';
import type { SemanticIds } from '../tokenizer/index.js';
import { readCatalog, readDataset, type DatasetCatalog, type Dataset } from './data/index.js';
import { rankerOf, type Ranker } from './evaluate/ranking.js';
import { checkProvenance } from './provenance.js';
import { readItemCodes } from './tokenize.js';
import { loadTextEncoder, type ModelTextEncoder } from './text/index.js';
import { readJsonIfPresent } from '../tokenizer/io/index.js';
import { join } from 'node:path';

/** A data set and its items' semantic IDs, checked to have one ID per item. */
export async function readDataAndCodes(data: string, tokenizer: string): Promise<{ dataset: Dataset; itemCodes: SemanticIds }> {
  const dataset = await readDataset(data, { timestamps: false }); // neither training nor inference reads them
  return { dataset, itemCodes: await readCodesFor(dataset, data, tokenizer) };
}

async function readCodesFor(catalog: DatasetCatalog, data: string, tokenizer: string): Promise<SemanticIds> {
  const itemCodes = await readItemCodes(tokenizer);
  const items = catalog.items.keys.length;
  const codeRows = itemCodes.codes.length / itemCodes.levels.length;
  if (codeRows !== items) throw new Error(`${tokenizer} has codes for ${codeRows} items but the data set ${data} has ${items} items`);
  return itemCodes;
}

export interface OpenModelOptions {
  data: string;
  tokenizer: string;
  /** MODELDIR. */
  model: string;
  /** The command, for provenance messages (`eval`, `recommend`). */
  command: string;
  /** Use a model whose recorded data set or tokenizer differ from the given ones. */
  allowMismatch?: boolean;
  /** A shorter history window than the model's (the scorer refuses a longer one). */
  maxHistory?: number;
  quiet?: boolean;
}

export interface TrainedModel<D extends DatasetCatalog = Dataset> {
  dataset: D;
  itemCodes: SemanticIds;
  model: SequenceModel;
  ranker: Ranker;
  /** The text encoder of a model with text tokens (its preferences and queries), else null. */
  textEncoder: ModelTextEncoder | null;
}

/** The text encoder saved with a model that reads text, checked against the fingerprint its run recorded; null otherwise. */
export async function openTextEncoder(modelDir: string, model: SequenceModel): Promise<ModelTextEncoder | null> {
  if (model.config.textTokens === 0) return null;
  const encoder = await loadTextEncoder(modelDir);
  const recorded = (await readJsonIfPresent<{ text?: { fingerprint?: string } }>(join(modelDir, 'config.json')))?.text?.fingerprint;
  if (recorded && recorded !== encoder.fingerprint()) throw new Error(`${modelDir}: the text encoder (text/) is not the one the model was trained with (fingerprint ${encoder.fingerprint()}, config.json ${recorded})`);
  if (encoder.kind !== model.config.textVariant) throw new Error(`${modelDir}: the text encoder is of the ${encoder.kind} variant, the model reads textVariant ${model.config.textVariant}`);
  if (encoder.textDim !== model.config.textDim) throw new Error(`${modelDir}: the text encoder gives ${encoder.textDim} values, the model reads textDim ${model.config.textDim}`);
  return encoder;
}

/** Loads and checks everything inference needs; the caller disposes `model`. */
export async function openTrainedModel(o: OpenModelOptions): Promise<TrainedModel> {
  const dataset = await readDataset(o.data, { timestamps: false });
  return openOn(dataset, await readCodesFor(dataset, o.data, o.tokenizer), o);
}

/**
 * The same without the users' sequences (manifest and items only): for a pass that streams the users from
 * sequences.parquet (readUserChunks), so that memory holds the model and the catalog, not every history.
 */
export async function openTrainedCatalog(o: OpenModelOptions): Promise<TrainedModel<DatasetCatalog>> {
  const catalog = await readCatalog(o.data);
  return openOn(catalog, await readCodesFor(catalog, o.data, o.tokenizer), o);
}

async function openOn<D extends DatasetCatalog>(dataset: D, itemCodes: SemanticIds, o: OpenModelOptions): Promise<TrainedModel<D>> {
  await checkProvenance({ model: o.model, data: o.data, tokenizer: o.tokenizer, itemKeys: dataset.items.keys, itemCodes, allowMismatch: o.allowMismatch, command: o.command });
  await initBackend({ quiet: o.quiet });
  const model = await loadModel(o.model);
  try {
    // The model's own history window unless a shorter one is asked for (the scorer refuses a longer one).
    const textEncoder = await openTextEncoder(o.model, model);
    return { dataset, itemCodes, model, ranker: rankerOf(model.scorer(itemCodes, { maxHistory: o.maxHistory })), textEncoder };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

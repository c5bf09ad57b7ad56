// Provenance: a model records content fingerprints of the data set (its catalog ids) and the tokenizer (its code
// table) it was trained on, and its own (training config + those two). `eval`, `recommend` and `train --resume`
// compare them with the directories they are given and refuse a mismatch, naming the directories and what
// differs, unless --allow-mismatch: a model decoding another catalog's codes gives meaningless metrics.
import { join } from 'node:path';
import type { SemanticIds } from '../tokenizer/index.js';
import { fingerprint, notice, readJsonIfPresent } from '../tokenizer/io/index.js';

export interface Provenance {
  /** Fingerprint of the data set's catalog (item keys in id order). */
  data: string;
  /** Fingerprint of the tokenizer's code table (levels and every item's codes). */
  tokenizer: string;
  /** Fingerprint of the model: its model and trainer config plus `data` and `tokenizer`. */
  model?: string;
  /** Catalog size, for messages. */
  items: number;
}

export function catalogFingerprint(itemKeys: readonly string[]): string {
  return fingerprint(itemKeys.join('\n'));
}

export function codesFingerprint(ids: SemanticIds): string {
  return fingerprint(ids.levels.join(','), new Uint8Array(ids.codes.buffer, ids.codes.byteOffset, ids.codes.byteLength));
}

/** What a model trained on this data set and these codes, with these configs, records. */
export function trainingProvenance(itemKeys: readonly string[], ids: SemanticIds, configs: { model: object; train: object }): Provenance {
  const data = catalogFingerprint(itemKeys);
  const tokenizer = codesFingerprint(ids);
  return { data, tokenizer, items: itemKeys.length, model: fingerprint(JSON.stringify(configs.model), JSON.stringify(configs.train), data, tokenizer) };
}

interface SavedRun {
  data?: string;
  tokenizer?: string;
  provenance?: Provenance;
}

export interface ProvenanceCheck {
  /** The model directory (its config.json and model.json are read). */
  model: string;
  data: string;
  tokenizer: string;
  itemKeys: readonly string[];
  itemCodes: SemanticIds;
  /** Use the model although its fingerprints differ (a notice is printed). */
  allowMismatch?: boolean;
  /** The command, for messages ("eval", "recommend", "train --resume"). */
  command: string;
}

/** The model's code shape against the tokenizer's: a different shape cannot be decoded at all (no override). */
async function checkCodeShape(c: ProvenanceCheck): Promise<void> {
  const manifest = await readJsonIfPresent<{ vocab?: { levels?: number[] } }>(join(c.model, 'model.json'));
  const levels = manifest?.vocab?.levels;
  if (!levels) return;
  if (levels.join(',') !== c.itemCodes.levels.join(',')) {
    throw new Error(`${c.command}: the model ${c.model} was trained on codes of shape [${levels.join(', ')}] but the tokenizer ${c.tokenizer} has codes of shape [${c.itemCodes.levels.join(', ')}]: give the tokenizer the model was trained with`);
  }
}

/**
 * Refuses a model used with a data set or tokenizer other than the ones it was trained on (by content, so a
 * copied data set passes). Models from before provenance was recorded are used with a notice.
 */
export async function checkProvenance(c: ProvenanceCheck): Promise<void> {
  await checkCodeShape(c);
  const saved = await readJsonIfPresent<SavedRun>(join(c.model, 'config.json'));
  const recorded = saved?.provenance;
  if (!recorded) {
    notice(`${c.command}: ${c.model} records no provenance (trained by an older semid): not checked against ${c.data} and ${c.tokenizer}`);
    return;
  }
  const differences: string[] = [];
  const data = catalogFingerprint(c.itemKeys);
  if (data !== recorded.data) {
    differences.push(`the data set ${c.data} has another catalog (${c.itemKeys.length} items, fingerprint ${data}) than the one it was trained on (${saved?.data ?? '?'}: ${recorded.items} items, fingerprint ${recorded.data})`);
  }
  const tokenizer = codesFingerprint(c.itemCodes);
  if (tokenizer !== recorded.tokenizer) {
    differences.push(`the tokenizer ${c.tokenizer} has other codes (fingerprint ${tokenizer}) than the one it was trained on (${saved?.tokenizer ?? '?'}: fingerprint ${recorded.tokenizer})`);
  }
  if (differences.length === 0) return;
  const message = `${c.command}: the model ${c.model} does not belong with these inputs: ${differences.join('; ')}`;
  if (!c.allowMismatch) throw new Error(`${message}. Pass the data set and tokenizer it was trained on, or --allow-mismatch to use it anyway`);
  notice(`${message} (--allow-mismatch: going on)`);
}

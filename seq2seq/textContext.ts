// Text in the model's context (Mender's embedding variant; DSI's query). A text arrives as one vector of `textDim`
// values (the data set's text encoder, pipelines/text) and becomes `textTokens` context tokens through one learned
// projection: tokens = reshape((v * sqrt(textDim)) @ W, [K, d]). The vector is unit-norm, so the sqrt(textDim)
// scale gives its entries unit variance and the tokens the scale of the N(0, 1) code embeddings they sit beside.
//
// Layout (batches.ts): the K text positions come right before the user token, which comes right before the first
// kept history item, so their distance to the history never depends on the batch's longest history. A text position
// holds a marker token -(k + 1) in its first slot; `embedContext` (model.ts) replaces the markers by the projected
// rows of the batch's texts. A context without text has PAD there, masked; preference dropout masks the positions.
//
// The token variant (`textVariant` "pieces", Mender's token variant): the text arrives as `textTokens` SentencePiece
// ids (pipelines/text/pieceEncoder.ts; id + 1, 0 = no piece, whose position the batcher leaves masked), and text
// token k is row (id + 1) of a learned piece table plus a learned embedding of position k, so word order ("no OPI")
// reaches the model as tokens the attention reads, instead of a bag of words folded into one vector.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config.js';
import { gatherRows, type ParamStore } from './layers.js';

/** Marker of text token k (0-based) in a context's token array. */
export function textMarker(k: number): number {
  return -(k + 1);
}

/** Whether a context token is a text marker. */
export function isTextMarker(token: number): boolean {
  return token < 0;
}

/** The text weights, for models with textTokens > 0: the projection, or the piece and position tables. */
export function initTextContext(p: ParamStore, c: ModelConfig): void {
  if (c.textTokens === 0) return;
  if (c.textVariant === 'pieces') {
    p.normal('text.pieces', [c.textVocab, c.dModel], 1); // [textVocab, d] N(0, 1) like the code embeddings
    p.normal('text.pos', [c.textTokens, c.dModel], 0.1); // [K, d]
  } else {
    p.linear('text.proj', c.textDim, c.textTokens * c.dModel);
  }
}

/** A token-variant text, checked: piece ids (id + 1; 0 = none) that are integers below the table's `textVocab` rows. */
export function checkPieceIds(text: Float32Array, textVocab: number, what: string): void {
  for (let i = 0; i < text.length; i++) {
    const id = text[i];
    if (!Number.isInteger(id) || id < 0 || id >= textVocab) throw new Error(`${what}: text piece ${i} is ${id}, the model's piece table has ids 0..${textVocab - 1} (a SentencePiece model of another size?)`);
  }
}

/** A context's text vector, checked: `textDim` finite values. */
export function checkTextVector(text: Float32Array, textDim: number, what: string): void {
  if (text.length !== textDim) throw new Error(`${what}: the text vector has ${text.length} values, the model reads ${textDim} (a text encoder of another dimension?)`);
  for (let i = 0; i < text.length; i++) {
    if (!Number.isFinite(text[i])) throw new Error(`${what}: the text vector has ${text[i]} at position ${i}`);
  }
}

/** The text tokens [size * K, d] of a batch's text vectors [size, textDim] (row b's tokens at b*K .. b*K+K-1). */
export function textTokenRows(p: ParamStore, c: ModelConfig, text: Float32Array, size: number): tf.Tensor2D {
  if (c.textVariant === 'pieces') return pieceTokenRows(p, c, text, size);
  const x = tf.mul(tf.tensor2d(text, [size, c.textDim]), Math.sqrt(c.textDim)); // [size, textDim]
  const t = tf.matMul(x as tf.Tensor2D, p.get('text.proj') as tf.Tensor2D); // [size, K*d]
  return tf.reshape(t, [size * c.textTokens, c.dModel]) as tf.Tensor2D; // [size*K, d]
}

/** The token variant's text tokens [size * K, d]: piece rows plus position rows (padding rows are masked later). */
function pieceTokenRows(p: ParamStore, c: ModelConfig, text: Float32Array, size: number): tf.Tensor2D {
  const ids = tf.tensor1d(Int32Array.from(text), 'int32'); // [size*K]
  const pieces = gatherRows(p.get('text.pieces'), ids); // [size*K, d]
  const pos = tf.tile(p.get('text.pos'), [size, 1]); // [size*K, d]
  return tf.add(pieces, pos) as tf.Tensor2D; // [size*K, d]
}

/**
 * Gather ids of a context's tokens over the table [vocab ; text rows]: vocabulary tokens stay, marker k of row b
 * becomes vocab + b*K + k.
 */
export function textGatherIds(src: Int32Array, perRow: number, vocabSize: number, K: number): Int32Array {
  const ids = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const t = src[i];
    ids[i] = isTextMarker(t) ? vocabSize + Math.floor(i / perRow) * K + (-t - 1) : t;
  }
  return ids;
}

/**
 * Preference dropout: a copy of `srcMask` [size, srcLen] with the text positions of each droppable row masked with
 * chance `rate`, drawn from `seed` (the trainer's dropout seeds, so a resumed run drops the same texts).
 */
export function dropTextMask(
  src: Int32Array, srcMask: Float32Array, size: number, srcLen: number, slots: number, droppable: Uint8Array, rate: number, seed: number,
): Float32Array {
  const mask = srcMask.slice();
  for (let b = 0; b < size; b++) {
    if (!droppable[b] || uniform(seed, b) >= rate) continue;
    for (let pos = 0; pos < srcLen; pos++) if (isTextMarker(src[(b * srcLen + pos) * slots])) mask[b * srcLen + pos] = 0;
  }
  return mask;
}

/** A uniform number in [0, 1) from (seed, row): a murmur3-style mix. */
function uniform(seed: number, row: number): number {
  let h = (seed ^ Math.imul(row + 1, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

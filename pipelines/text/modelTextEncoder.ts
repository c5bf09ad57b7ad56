// The text encoder a model that reads text uses, either variant (seq2seq/textContext.ts): the embedding variant's
// TF-IDF + SVD vector (textEncoder.ts) or the token variant's SentencePiece pieces (pieceEncoder.ts). Callers (train,
// eval, recommend, search) hold a ModelTextEncoder and never ask which; MODELDIR/text/encoder.json's format says.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PIECES_FORMAT, PieceTextEncoder } from './pieceEncoder.js';
import { TEXT_ENCODER_DIR, TextEncoder, type EncodedText } from './textEncoder.js';

export interface ModelTextEncoder {
  /** The model's textVariant this encoder feeds. */
  readonly kind: 'embedding' | 'pieces';
  /** Values per text (the model's textDim). */
  readonly textDim: number;
  readonly config: object;
  encode(text: string, what?: string): EncodedText;
  /** encode(), refusing a text the encoder knows nothing of. */
  encodeKnown(text: string, what?: string): EncodedText;
  fingerprint(): string;
  save(modelDir: string): Promise<void>;
  /** One line for logs: what a text becomes. */
  describe(): string;
}

/** The text encoder saved in MODELDIR/text, of whichever variant. */
export async function loadTextEncoder(modelDir: string): Promise<ModelTextEncoder> {
  const path = join(modelDir, TEXT_ENCODER_DIR, 'encoder.json');
  let meta: { format?: string };
  try {
    meta = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${modelDir} has no text encoder (${path}): the model was trained without text (train with --text-tokens to use preferences or search)`);
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  if (meta.format === PIECES_FORMAT) return PieceTextEncoder.load(modelDir, meta as Parameters<typeof PieceTextEncoder.load>[1]);
  return TextEncoder.load(modelDir);
}

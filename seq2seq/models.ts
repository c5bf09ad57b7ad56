// The built-in architectures, one registerModel line each (see registry.ts to add yours).
import { CausalModel, checkCausal } from './causal.js';
import type { ModelConfig } from './config.js';
import { DecoderOnly } from './decoderOnly.js';
import { EncoderDecoder } from './encoderDecoder.js';
import { registerModel } from './registry.js';
import { checkSasRec, SasRec } from './sasrec.js';

function atLeast(field: 'encoderLayers' | 'decoderLayers', min: number, arch: string): (c: ModelConfig) => void {
  return (c) => {
    if (c[field] < min) throw new Error(`\`${field}\` must be an integer >= ${min} for the ${arch} architecture, got ${c[field]}`);
  };
}

registerModel('encdec', {
  description: 'T5-style encoder-decoder over the history, decoding the next ID code by code (TIGER)',
  create: (c, vocab, params) => new EncoderDecoder(c, vocab, params),
  check: atLeast('encoderLayers', 1, 'encdec'),
  textContext: true,
});
registerModel('decoder', {
  description: 'one causal stack over history codes then the target ID (RecGPT-style decoder-only)',
  create: (c, vocab, params) => new DecoderOnly(c, vocab, params),
});
registerModel('causal', {
  description: 'causal stack over items predicting the next ID at every position; autoregressive or parallel ID head',
  create: (c, vocab, params) => new CausalModel(c, vocab, params),
  check: checkCausal,
  needsItems: (c) => c.idEmbedding,
  textContext: true,
});
registerModel('sasrec', {
  description: 'SASRec baseline: item-id embeddings, causal stack, full softmax over items at every position',
  create: (c, vocab, params) => new SasRec(c, vocab, params),
  check: checkSasRec,
  needsItems: () => true,
});

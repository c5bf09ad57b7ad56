// The fallback of unconstrained search (research): an invalid ID is decoded by the tokenizer (its semantic
// positions, without the disambiguation code) to an embedding, and mapped to the catalog item whose embedding is
// nearest by cosine.
import type { InvalidIdFallback } from '../../decoding/index.js';
import type { EmbeddingMatrix, ItemTokenizer } from '../../tokenizer/index.js';
import type { NeighbourIndex } from '../embed/index.js';
import { itemNeighbourIndex } from './baselines.js';

export function nearestItemFallback(tokenizer: ItemTokenizer, embeddings: EmbeddingMatrix, options: { ef?: number; seed?: number; index?: NeighbourIndex } = {}): InvalidIdFallback {
  const { dim } = embeddings;
  const index = options.index ?? itemNeighbourIndex(embeddings, options.ef ?? 50, options.seed);
  const positions = tokenizer.levels.length;
  return (ids, n) => {
    const L = ids.length / Math.max(n, 1);
    if (L < positions) throw new Error(`generated IDs have ${L} codes but the tokenizer needs ${positions}`);
    const codes = new Int32Array(n * positions);
    for (let k = 0; k < n; k += 1) codes.set(ids.subarray(k * L, k * L + positions), k * positions);
    const decoded = tokenizer.decode({ levels: [...tokenizer.levels], codes });
    if (decoded.dim !== dim) throw new Error(`the tokenizer decodes to ${decoded.dim} dimensions but the embeddings have ${dim}`);
    return Int32Array.from({ length: n }, (_, k) => {
      const [nearest] = index.search(decoded.data.subarray(k * dim, (k + 1) * dim), 1);
      return nearest ? nearest.item : -1;
    });
  };
}

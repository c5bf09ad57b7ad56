// Leave-one-out examples -> token batches, and the seeded, resumable data order.
//
// Layout of one example's context (encoder input, or the first part of the decoder-only stack):
//   history items right-aligned (the most recent item last), the user token (PAD when there are no user
//   buckets, or for user -1: masked) directly before the first kept item, with a model that reads text its K text
//   positions directly before the user token (textContext.ts), padding in front. A model with domain tokens
//   (multi-domain data) puts the context's domain token in that slot instead: the domain is what the model must
//   know to generate in the right catalog, and one slot keeps every model's layout unchanged. The user token's distance to
//   the history must not depend on the longest history in the batch: relative position biases see it.
//   Item slots keep their positions (1 + slot * perItem); the user token takes the slot before them.
// `codes` mode: one position per code (P = 1 token per position); `item` mode: one position per item,
// whose P = L code tokens are summed into one embedding. Histories are trimmed to the batch's longest.
import type { SemanticIds } from '../tokenizer/index.js';
import type { HistoryTokens } from './config.js';
import { checkPieceIds, checkTextVector, textMarker } from './textContext.js';
import { BOS, PAD, Vocab } from './vocab.js';

export interface TokenBatch {
  size: number;
  /** Context positions S (user + history slots). */
  srcLen: number;
  /** Tokens per context position: 1 (`codes`) or the code length (`item`). */
  slots: number;
  /** Context tokens, PAD where empty. */
  src: Int32Array; // [size, srcLen, slots]
  /** 1 where the position holds a real token (or item). */
  srcMask: Float32Array; // [size, srcLen]
  /** Item index of each context position (0 = the user token), for the decoder-only attention pattern. */
  srcGroup: Int32Array; // [srcLen]
  /** Decoder input: BOS then the target's codes but the last. */
  tgtIn: Int32Array; // [size, L]
  /** Decoder targets: the target's code tokens. */
  tgtOut: Int32Array; // [size, L]
  /** Text of each row, for models with text tokens (textContext.ts); absent when the model reads no text. */
  text?: TextBatch;
}

/** The rows' text vectors and which rows have one (the others' text positions are masked). */
export interface TextBatch {
  dim: number;
  values: Float32Array; // [size, dim] zeros where a row has no text
  /** 1 where the row's text may be dropped in training (a preference); 0 where it must stay (a DSI query) or is absent. */
  droppable: Uint8Array; // [size]
}

/** Rows start..end-1 of a text batch. */
export function textRows(t: TextBatch | undefined, start: number, end: number): TextBatch | undefined {
  return t && { dim: t.dim, values: t.values.subarray(start * t.dim, end * t.dim), droppable: t.droppable.subarray(start, end) };
}

/** One training example (structurally the data layer's leave-one-out `Example`). */
export interface Example extends ContextInput {
  target: number;
  /** The user's domain (multi-domain data), for the domain token. */
  domain?: number;
}

export interface ContextInput {
  /** Dense user id; -1 = no user (a search query, an unknown user): the user position is masked. */
  user: number;
  history: Int32Array;
  /** Text vector (a preference, a query) for models with text tokens; absent = no text (its positions are masked). */
  text?: Float32Array | null;
  /** Training: whether preference dropout may remove this row's text (default true; DSI's indexing rows keep theirs). */
  textDroppable?: boolean;
  /** The user's domain (multi-domain data): a model with domain tokens needs it. */
  domain?: number;
}

/** Converts item codes into the token table once; batches then index it. */
export class Batcher {
  readonly itemTokens: Int32Array; // [items, L]
  readonly L: number;
  readonly items: number;

  /**
   * `textTokens` / `textDim`: the model's text positions and vector size (textContext.ts); 0 = the contexts carry no
   * text (a text given then is an error, never silently dropped). `textVocab` > 0: the token variant, a text is
   * `textTokens` piece ids (0 = no piece: that position stays masked).
   */
  constructor(readonly vocab: Vocab, itemCodes: SemanticIds, readonly maxHistory: number, readonly mode: HistoryTokens,
    readonly textTokens = 0, readonly textDim = 0, readonly textVocab = 0) {
    this.itemTokens = vocab.itemTokens(itemCodes);
    this.L = vocab.codeLength;
    this.items = this.itemTokens.length / this.L;
  }

  private checkItem(item: number, what: string): void {
    if (!Number.isInteger(item) || item < 0 || item >= this.items) {
      throw new Error(`${what} item id ${item} is outside the ${this.items} items that have semantic IDs`);
    }
  }

  /** The token of the slot before the history: the domain's (models with domain tokens), else the user's. */
  private slotToken(input: ContextInput): number {
    if (this.vocab.domains === 0) return this.vocab.userToken(input.user);
    if (input.domain === undefined || input.domain < 0) {
      throw new Error(`user ${input.user}: the model has ${this.vocab.domains} domain tokens but the context names no domain (a multi-domain model needs each user's domain)`);
    }
    return this.vocab.domainToken(input.domain);
  }

  /** Context tokens only (the scorer's input). */
  contexts(inputs: readonly ContextInput[]): Omit<TokenBatch, 'tgtIn' | 'tgtOut'> {
    const { L } = this;
    const slots = this.mode === 'item' ? L : 1;
    const perItem = this.mode === 'item' ? 1 : L;
    let longest = 1;
    for (const c of inputs) longest = Math.max(longest, Math.min(c.history.length, this.maxHistory));
    const K = this.textTokens;
    const srcLen = K + 1 + longest * perItem;
    const size = inputs.length;
    const src = new Int32Array(size * srcLen * slots).fill(PAD);
    const srcMask = new Float32Array(size * srcLen);
    const srcGroup = new Int32Array(srcLen);
    for (let p = K + 1; p < srcLen; p++) srcGroup[p] = 1 + Math.floor((p - K - 1) / perItem);
    const text: TextBatch | undefined = K > 0 ? { dim: this.textDim, values: new Float32Array(size * this.textDim), droppable: new Uint8Array(size) } : undefined;
    for (let b = 0; b < size; b++) {
      const { user, history } = inputs[b];
      const base = b * srcLen;
      const kept = Math.min(history.length, this.maxHistory);
      const first = history.length - kept;
      const startSlot = longest - kept;
      const userPos = K + startSlot * perItem; // the position right before the first kept item
      const userTok = this.slotToken(inputs[b]);
      src[(base + userPos) * slots] = userTok;
      srcMask[base + userPos] = userTok === PAD ? 0 : 1;
      this.placeText(inputs[b], b, base + userPos - K, src, srcMask, slots, text);
      for (let h = 0; h < kept; h++) {
        const item = history[first + h];
        this.checkItem(item, 'history');
        const slotItem = startSlot + h;
        for (let l = 0; l < L; l++) {
          const tok = this.itemTokens[item * L + l];
          if (this.mode === 'item') {
            const pos = K + 1 + slotItem;
            src[(base + pos) * slots + l] = tok;
            srcMask[base + pos] = 1;
          } else {
            const pos = K + 1 + slotItem * L + l;
            src[base + pos] = tok;
            srcMask[base + pos] = 1;
          }
        }
      }
    }
    return { size, srcLen, slots, src, srcMask, srcGroup, ...(text ? { text } : {}) };
  }

  /** Row b's text: markers at its K text positions (from `at`, a flat position) and its vector, when it has one. */
  private placeText(input: ContextInput, b: number, at: number, src: Int32Array, srcMask: Float32Array, slots: number, text: TextBatch | undefined): void {
    const t = input.text;
    if (!t) return;
    if (!text) throw new Error(`context of user ${input.user} has a text but the model reads no text (textTokens 0): train with text tokens to use preferences or queries`);
    checkTextVector(t, this.textDim, `context of user ${input.user}`);
    if (this.textVocab > 0) checkPieceIds(t, this.textVocab, `context of user ${input.user}`);
    for (let k = 0; k < this.textTokens; k++) {
      if (this.textVocab > 0 && t[k] === 0) continue; // the token variant: no piece here
      src[(at + k) * slots] = textMarker(k);
      srcMask[at + k] = 1;
    }
    text.values.set(t, b * this.textDim);
    text.droppable[b] = input.textDroppable === false ? 0 : 1;
  }

  /** A training batch from examples. */
  batch(examples: readonly Example[]): TokenBatch {
    const ctx = this.contexts(examples);
    const { L } = this;
    const tgtIn = new Int32Array(examples.length * L);
    const tgtOut = new Int32Array(examples.length * L);
    for (let b = 0; b < examples.length; b++) {
      const target = examples[b].target;
      this.checkItem(target, 'target');
      tgtIn[b * L] = BOS;
      for (let l = 0; l < L; l++) {
        const tok = this.itemTokens[target * L + l];
        tgtOut[b * L + l] = tok;
        if (l + 1 < L) tgtIn[b * L + l + 1] = tok;
      }
    }
    return { ...ctx, tgtIn, tgtOut };
  }
}

/**
 * Windows of at most `size` items cut from the end of each user's sequence, consecutive windows sharing one item,
 * so every item after the first of a sequence is a target of exactly one window (the window's items after its
 * first). Sequences of one item give none. Users in the given order, each user's windows oldest first.
 */
export function sequenceWindows(sequences: readonly { user: number; items: Int32Array; domain?: number }[], size: number): ContextInput[] {
  if (!Number.isInteger(size) || size < 2) throw new Error(`window size must be an integer >= 2, got ${size}`);
  const out: ContextInput[] = [];
  for (const { user, items, domain } of sequences) {
    const mine: ContextInput[] = [];
    for (let end = items.length; end >= 2; end -= size - 1) {
      mine.push({ user, history: items.subarray(Math.max(0, end - size), end), ...(domain !== undefined ? { domain } : {}) });
    }
    out.push(...mine.reverse());
  }
  return out;
}

/** Rows start..end-1 of a batch. */
export function batchRows(b: TokenBatch, start: number, end: number): TokenBatch {
  const ctx = b.srcLen * b.slots;
  const L = b.tgtIn.length / b.size;
  return {
    size: end - start, srcLen: b.srcLen, slots: b.slots, srcGroup: b.srcGroup,
    src: b.src.subarray(start * ctx, end * ctx), srcMask: b.srcMask.subarray(start * b.srcLen, end * b.srcLen),
    tgtIn: b.tgtIn.subarray(start * L, end * L), tgtOut: b.tgtOut.subarray(start * L, end * L),
    ...(b.text ? { text: textRows(b.text, start, end) } : {}),
  };
}

/** Small, fast, seedable PRNG with a state that fits in JSON (mulberry32). */
export function mulberry32(state: number): { next: () => number; state: () => number } {
  let s = state >>> 0;
  return {
    next: () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
    state: () => s,
  };
}

/** Position in the data order: the epoch (its permutation is derived from seed + epoch) and the offset in it. */
export interface DataPosition {
  epoch: number;
  offset: number;
}

/**
 * Epoch-wise shuffled batches; the order is a pure function of (seed, epoch), so a position resumes exactly.
 * With row lengths and `buckets` > 0, each epoch's shuffle is cut into runs of `buckets` batches, each run is
 * sorted by length and cut into batches, and the full batches are shuffled (a short last batch stays last), so a
 * batch pads to nearly its own rows' length and still sees a random mix of users.
 */
export class DataOrder {
  private perm: Uint32Array | null = null;
  private permEpoch = -1;

  constructor(private readonly n: number, private readonly seed: number, private readonly batchSize: number,
    private readonly lengths?: Uint32Array, private readonly buckets = 0) {
    if (n === 0) throw new Error('no training examples: the data set has no user with enough interactions for the train split');
    if (lengths && lengths.length !== n) throw new Error(`row lengths: got ${lengths.length} for ${n} rows`);
  }

  private permutation(epoch: number): Uint32Array {
    if (this.perm && this.permEpoch === epoch) return this.perm;
    const rng = mulberry32((this.seed * 1000003 + epoch * 7919 + 1) >>> 0);
    const p = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) p[i] = i;
    shuffle(p, rng.next);
    this.perm = this.lengths && this.buckets > 0 ? this.bucketed(p, rng.next) : p;
    this.permEpoch = epoch;
    return this.perm;
  }

  /** Runs of `buckets` batches sorted by length (stable, so ties keep the shuffle), full batches shuffled. */
  private bucketed(p: Uint32Array, random: () => number): Uint32Array {
    const lengths = this.lengths as Uint32Array;
    const run = this.batchSize * this.buckets;
    for (let start = 0; start < p.length; start += run) {
      const sorted = Array.from(p.subarray(start, start + run)).sort((a, b) => lengths[a] - lengths[b]);
      p.set(sorted, start);
    }
    const full = Math.floor(p.length / this.batchSize);
    const batchOrder = new Uint32Array(full);
    for (let i = 0; i < full; i++) batchOrder[i] = i;
    shuffle(batchOrder, random);
    const out = new Uint32Array(p.length);
    for (let i = 0; i < full; i++) out.set(p.subarray(batchOrder[i] * this.batchSize, (batchOrder[i] + 1) * this.batchSize), i * this.batchSize);
    out.set(p.subarray(full * this.batchSize), full * this.batchSize);
    return out;
  }

  /** The indices of the next batch, and the position after it. A batch never straddles epochs. */
  next(pos: DataPosition): { indices: Uint32Array; after: DataPosition } {
    const perm = this.permutation(pos.epoch);
    const end = Math.min(this.n, pos.offset + this.batchSize);
    const indices = perm.slice(pos.offset, end);
    const after = end >= this.n ? { epoch: pos.epoch + 1, offset: 0 } : { epoch: pos.epoch, offset: end };
    return { indices, after };
  }
}

/** Fisher-Yates in place. */
function shuffle(a: Uint32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

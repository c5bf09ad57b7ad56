import { PrefixTrie, beamSearch, exactScores, topItems, beamMissRate, randomCatalog, TrieProcessor, resolveBeamSearch } from '../../decoding/index.js';
import type { Candidate, LogitsProcessor, ProcessorStep, StepScorer } from '../../decoding/index.js';
import { toyLogProbs, toyScore, toyScorer, type ToyScorerLog } from './toyScorer.js';

const levels = [4, 3, 5];
// 25 items over 4*3*5 = 60 possible IDs: many prefixes shared, some absent.
const catalog = randomCatalog(25, [4, 3, 5], 3);
const trie = PrefixTrie.build(catalog);
const L = levels.length;
const users = [0, 1, 2, 3, 4, 5].map((user) => ({ user, history: Int32Array.from([user, (user * 7) % 25, 24 - user]) }));

function idsOf(item: number): number[] {
  return Array.from(catalog.codes.subarray(item * L, (item + 1) * L));
}

/** Definition of beam search, written plainly: sort every extension of every kept prefix. */
function referenceBeams(user: number, beam: number, constrained: boolean, blocked: (prefix: number[]) => boolean): { ids: number[]; score: number }[] {
  let kept: { ids: number[]; score: number }[] = [{ ids: [], score: 0 }];
  for (let d = 0; d < L; d += 1) {
    const all: { ids: number[]; score: number }[] = [];
    for (const k of kept) {
      const lp = toyLogProbs(user, k.ids, levels[d]);
      for (let c = 0; c < levels[d]; c += 1) {
        const ids = [...k.ids, c];
        if (constrained && trie.lookup(ids) < 0) continue;
        if (blocked(ids)) continue;
        all.push({ ids, score: k.score + lp[c] });
      }
    }
    all.sort((a, b) => b.score - a.score); // stable: ties keep (parent rank, code) order, as the search does
    kept = all.slice(0, beam);
  }
  return kept;
}

function exhaustiveItems(user: number, allowed: (item: number) => boolean): { item: number; score: number }[] {
  const out: { item: number; score: number }[] = [];
  for (let item = 0; item < trie.items; item += 1) if (allowed(item)) out.push({ item, score: toyScore(user, idsOf(item), levels) });
  return out.sort((a, b) => b.score - a.score || a.item - b.item);
}

function itemsOf(cands: Candidate[]): number[] {
  return cands.map((c) => c.item);
}

describe('beamSearch', () => {
  it('equals exhaustive enumeration of the catalog when the beam holds every prefix', async () => {
    const log: ToyScorerLog = { sessions: 0, closed: 0, rowsPerStep: [] };
    const { candidates, stats } = await beamSearch(toyScorer(levels, log), trie, users, { beamSize: 25, topK: 10 });
    for (const [u, ctx] of users.entries()) {
      const expected = exhaustiveItems(ctx.user, () => true).slice(0, 10);
      expect(itemsOf(candidates[u])).toEqual(expected.map((e) => e.item));
      candidates[u].forEach((c, k) => {
        expect(c.score).toBe(expected[k].score);
        expect(Array.from(c.ids)).toEqual(idsOf(c.item));
      });
    }
    expect(stats.invalid).toBe(0);
    expect(log.sessions).toBe(1);
    expect(log.closed).toBe(1);
    expect(log.rowsPerStep[0]).toBe(users.length); // one row per user at the first position
  });

  it.each([1, 2, 3, 5, 8])('equals the plain definition of beam search with beam %i (constrained)', async (beam) => {
    const topK = Math.min(beam, 4);
    const { candidates } = await beamSearch(toyScorer(levels), trie, users, { beamSize: beam, topK });
    for (const [u, ctx] of users.entries()) {
      const ref = referenceBeams(ctx.user, beam, true, () => false).slice(0, topK);
      expect(candidates[u].map((c) => Array.from(c.ids))).toEqual(ref.map((r) => r.ids));
      expect(candidates[u].map((c) => c.score)).toEqual(ref.map((r) => r.score));
      for (const c of candidates[u]) expect(trie.itemsAt(c.ids)).toContain(c.item); // every result is a catalog item
    }
  });

  it.each([1, 3, 7, 60])('unconstrained, beam %i: equals the definition, reports invalid IDs', async (beam) => {
    const topK = Math.min(beam, 5);
    const { candidates, stats } = await beamSearch(toyScorer(levels), trie, users, { beamSize: beam, topK, constrained: false });
    let invalid = 0;
    for (const [u, ctx] of users.entries()) {
      const ref = referenceBeams(ctx.user, beam, false, () => false);
      invalid += ref.filter((r) => trie.lookup(r.ids) < 0).length;
      const valid = ref.filter((r) => trie.lookup(r.ids) >= 0).slice(0, topK);
      expect(candidates[u].map((c) => Array.from(c.ids))).toEqual(valid.map((r) => r.ids));
    }
    expect(stats.generated).toBe(users.length * Math.min(beam, 60));
    expect(stats.invalid).toBe(invalid);
    expect(stats.invalidRate).toBeCloseTo(invalid / stats.generated, 12);
    if (beam === 60) {
      // the whole ID space: unconstrained top-K over valid IDs = exhaustive over the catalog
      for (const [u, ctx] of users.entries()) expect(itemsOf(candidates[u])).toEqual(exhaustiveItems(ctx.user, () => true).slice(0, topK).map((e) => e.item));
    }
  });

  it('maps invalid IDs through the fallback, deduplicated, in score order', async () => {
    const seen: number[][] = [];
    const { candidates, stats } = await beamSearch(toyScorer(levels), trie, users.slice(0, 2), {
      beamSize: 8,
      topK: 8,
      constrained: false,
      fallback: (ids, n) => {
        for (let k = 0; k < n; k += 1) seen.push(Array.from(ids.subarray(k * L, (k + 1) * L)));
        return Array.from({ length: n }, (_, k) => (k % 2 === 0 ? 7 : -1));
      },
    });
    expect(stats.fallbackMapped).toBe(Math.ceil(stats.invalid / 2));
    for (const ids of seen) expect(trie.lookup(ids)).toBe(-1);
    for (const cands of candidates) {
      expect(new Set(itemsOf(cands)).size).toBe(cands.length);
      for (let k = 1; k < cands.length; k += 1) expect(cands[k].score).toBeLessThanOrEqual(cands[k - 1].score);
    }
  });

  it('excludes history and honours allow/deny lists at every level (exact with a full beam)', async () => {
    const deny = [1, 2, 3];
    const allow = Array.from({ length: 20 }, (_, i) => i); // items 20..24 never
    const { candidates } = await beamSearch(toyScorer(levels), trie, users, { beamSize: 25, topK: 6, excludeHistory: true, denyItems: deny, allowItems: allow });
    for (const [u, ctx] of users.entries()) {
      const blocked = new Set([...ctx.history, ...deny]);
      const expected = exhaustiveItems(ctx.user, (i) => i < 20 && !blocked.has(i)).slice(0, 6);
      expect(itemsOf(candidates[u])).toEqual(expected.map((e) => e.item));
    }
  });

  it('never spends a beam on a prefix whose items are all excluded (small beam = definition with blocked prefixes)', async () => {
    const { candidates } = await beamSearch(toyScorer(levels), trie, users, { beamSize: 3, topK: 3, excludeHistory: true });
    for (const [u, ctx] of users.entries()) {
      const hist = new Set(ctx.history);
      const blocked = (prefix: number[]): boolean => {
        const node = trie.lookup(prefix);
        let free = 0;
        for (let i = 0; i < trie.items; i += 1) {
          const ids = idsOf(i);
          if (!hist.has(i) && prefix.every((c, d) => ids[d] === c)) free += 1;
        }
        return node >= 0 && free === 0;
      };
      const ref = referenceBeams(ctx.user, 3, true, blocked);
      expect(candidates[u].map((c) => Array.from(c.ids))).toEqual(ref.map((r) => r.ids));
      for (const c of candidates[u]) expect(hist.has(c.item)).toBe(false);
    }
  });

  it('returns nothing (not an error) for a user whose every item is denied', async () => {
    const { candidates } = await beamSearch(toyScorer(levels), trie, users.slice(0, 2), { beamSize: 4, topK: 2, allowItems: [] });
    expect(candidates).toEqual([[], []]);
  });

  it('returns every item of a full ID that names several items (no disambiguation code)', async () => {
    const dup = PrefixTrie.build({ levels: [2, 2], codes: Int32Array.from([0, 1, 1, 0, 0, 1, 1, 1]) });
    const { candidates } = await beamSearch(toyScorer([2, 2]), dup, [{ user: 9, history: new Int32Array(0) }], { beamSize: 4, topK: 4 });
    expect(itemsOf(candidates[0]).sort()).toEqual([0, 1, 2, 3]); // 3 distinct IDs, 4 items
    const byItem = new Map(candidates[0].map((c) => [c.item, c.score]));
    expect(byItem.get(0)).toBe(byItem.get(2));
  });

  it('names the bad value of a config field, a wrong scorer width and a NaN', async () => {
    expect(() => resolveBeamSearch({ beamSize: 0 })).toThrow('`beamSize` must be an integer >= 1, got 0');
    expect(() => resolveBeamSearch({ beamSize: 4, topK: 5 })).toThrow(/`topK` \(5\) must be <= `beamSize` \(4\)/);
    const bad = { levels, start: async () => ({ next: async () => new Float32Array(3), close: () => {} }) };
    await expect(beamSearch(bad, trie, users, { beamSize: 2, topK: 1 })).rejects.toThrow(/returned 3 log-probs at position 0, expected 6 rows x 4 codes = 24/);
    const nan = { levels, start: async () => ({ next: async () => new Float32Array(24).fill(NaN), close: () => {} }) };
    await expect(beamSearch(nan, trie, users, { beamSize: 2, topK: 1, constrained: false })).rejects.toThrow(/NaN at position 0, row 0, code 0/);
    await expect(beamSearch(toyScorer([4, 3]), trie, users, {})).rejects.toThrow(/levels \[4, 3\] differ from the catalog's \[4, 3, 5\]/);
  });
});

/** A user-written processor: bans `code` at position `step` for every row, and records what it saw. */
function banCode(step: number, code: number, seen: { step: number; finite: number[]; allowed: number[] }[] = []): LogitsProcessor {
  return {
    apply(at: ProcessorStep, logProbs: Float32Array): void {
      for (let row = 0; row < at.rows; row += 1) {
        const finite: number[] = [];
        for (let c = 0; c < at.width; c += 1) if (logProbs[row * at.width + c] > -Infinity) finite.push(c);
        const allowed = at.nodes[row] >= 0 ? Array.from(trie.allowedCodes(at.step, at.nodes[row])) : [];
        seen.push({ step: at.step, finite, allowed });
        if (at.step === step) logProbs[row * at.width + code] = -Infinity;
      }
    },
  };
}

describe('beamSearch with processors (the trie mask and user processors on one path)', () => {
  it.each([
    [0, 1, 25],
    [1, 0, 25],
    [2, 3, 4],
    [0, 2, 2],
  ])('honours a user processor banning at position %i the code %i (beam %i): equals the definition with that code removed', async (step, code, beam) => {
    const seen: { step: number; finite: number[]; allowed: number[] }[] = [];
    const topK = Math.min(beam, 5);
    const { candidates } = await beamSearch(toyScorer(levels), trie, users, { beamSize: beam, topK, processors: [banCode(step, code, seen)] });
    for (const [u, ctx] of users.entries()) {
      const ref = referenceBeams(ctx.user, beam, true, (prefix) => prefix.length === step + 1 && prefix[step] === code).slice(0, topK);
      expect(candidates[u].map((c) => Array.from(c.ids))).toEqual(ref.map((r) => r.ids));
      expect(candidates[u].map((c) => c.score)).toEqual(ref.map((r) => r.score));
      for (const c of candidates[u]) expect(c.ids[step]).not.toBe(code);
    }
    // The trie processor ran before it, through the same interface: what it saw finite is exactly the
    // catalog's allowed codes of each row (the toy scorer gives every code a finite log-prob).
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.finite).toEqual(s.allowed);
  });

  it('with a full beam and a banned code equals exhaustive search over the items left', async () => {
    const { candidates } = await beamSearch(toyScorer(levels), trie, users, { beamSize: 25, topK: 10, processors: [banCode(1, 0)] });
    for (const [u, ctx] of users.entries()) {
      const expected = exhaustiveItems(ctx.user, (item) => idsOf(item)[1] !== 0).slice(0, 10);
      expect(itemsOf(candidates[u])).toEqual(expected.map((e) => e.item));
      candidates[u].forEach((c, k) => expect(c.score).toBe(expected[k].score));
    }
  });

  it.each([1, 3, 8, 25])('constrained search = unconstrained search with the TrieProcessor passed as a user processor (beam %i)', async (beam) => {
    const topK = Math.min(beam, 6);
    const options = { beamSize: beam, topK, excludeHistory: true, denyItems: [4, 9] };
    const constrained = await beamSearch(toyScorer(levels), trie, users, options);
    const masked = await beamSearch(toyScorer(levels), trie, users, { ...options, constrained: false, processors: [new TrieProcessor(trie)] });
    expect(masked.candidates).toEqual(constrained.candidates);
    expect(masked.stats.invalid).toBe(0);
    expect(masked.stats.generated).toBe(constrained.stats.generated);
  });

  it('splits a batch into sessions of maxUsersPerSession users with the same results; rowUser counts per session', async () => {
    const excludeItems = users.map((ctx) => [ctx.user + 10]);
    const sessionUsers: number[] = [];
    const perSessionUser: LogitsProcessor = {
      apply(step, logProbs) {
        if (step.step === 0) sessionUsers.push(Math.max(...step.rowUser) + 1);
        // a per-user ban read through rowUser: user index 0 of each session may not start with code 0
        for (let row = 0; row < step.rows; row += 1) if (step.step === 0 && step.rowUser[row] === 0) logProbs[row * step.width] = -Infinity;
      },
    };
    const whole = await beamSearch(toyScorer(levels), trie, users.slice(0, 2), { beamSize: 6, topK: 4, excludeItems: excludeItems.slice(0, 2) });
    const log: ToyScorerLog = { sessions: 0, closed: 0, rowsPerStep: [] };
    const capped: StepScorer<{ user: number; history: Int32Array }> = { ...toyScorer(levels, log), maxUsersPerSession: 2 };
    const split = await beamSearch(capped, trie, users, { beamSize: 6, topK: 4, excludeItems, processors: [perSessionUser] });
    expect(log.sessions).toBe(3);
    expect(log.closed).toBe(3);
    expect(sessionUsers).toEqual([2, 2, 2]);
    expect(split.stats.users).toBe(users.length);
    expect(split.candidates).toHaveLength(users.length);
    for (const [u, ctx] of users.entries()) {
      for (const c of split.candidates[u]) expect(c.item).not.toBe(excludeItems[u][0]);
      if (u % 2 === 0) for (const c of split.candidates[u]) expect(c.ids[0]).not.toBe(0);
      const ref = referenceBeams(ctx.user, 6, true, (prefix) => {
        if (u % 2 === 0 && prefix.length === 1 && prefix[0] === 0) return true;
        const node = trie.lookup(prefix);
        return node >= 0 && Array.from({ length: trie.items }, (_, i) => i).every((i) => i === excludeItems[u][0] || !idsOf(i).slice(0, prefix.length).every((c, d) => c === prefix[d]));
      });
      expect(split.candidates[u].map((c) => Array.from(c.ids))).toEqual(ref.slice(0, 4).map((r) => r.ids));
    }
    expect(split.candidates[1]).toEqual(whole.candidates[1]); // user 1 is no session's first user: unaffected by the ban
  });

  it('rejects a scorer whose maxUsersPerSession is no integer >= 1', async () => {
    const bad = { ...toyScorer(levels), maxUsersPerSession: 0 };
    await expect(beamSearch(bad, trie, users, { beamSize: 2, topK: 1 })).rejects.toThrow("the scorer's maxUsersPerSession must be an integer >= 1, got 0");
  });
});

describe('TrieProcessor', () => {
  it('masks codes no catalog item continues with, and names the prefix of an empty allowed set', () => {
    const p = new TrieProcessor(trie);
    const node = trie.lookup(idsOf(0).slice(0, 2));
    const logProbs = new Float32Array(5).fill(-1);
    p.apply({ step: 2, rows: 1, width: 5, prefixes: Int32Array.from(idsOf(0).slice(0, 2)), rowUser: new Int32Array(1), rowParent: new Int32Array(1), nodes: Int32Array.from([node]) }, logProbs);
    const allowed = Array.from(trie.allowedCodes(2, node));
    for (let c = 0; c < 5; c += 1) expect(logProbs[c]).toBe(allowed.includes(c) ? -1 : -Infinity);
    expect(() =>
      p.apply({ step: 2, rows: 1, width: 5, prefixes: Int32Array.from([3, 2]), rowUser: new Int32Array(1), rowParent: new Int32Array(1), nodes: Int32Array.from([-1]) }, new Float32Array(5)),
    ).toThrow("no catalog item's semantic ID starts with (3, 2): the allowed set for position 2 is empty");
  });
});

describe('exactScores', () => {
  it('equals brute-force enumeration, for any row budget, and measures beam misses', async () => {
    const log: ToyScorerLog = { sessions: 0, closed: 0, rowsPerStep: [] };
    for (const maxRows of [1, 30, 100_000]) {
      const scores = await exactScores(toyScorer(levels, log), trie, users, { maxRows });
      for (const [u, ctx] of users.entries()) {
        for (let item = 0; item < trie.items; item += 1) expect(scores[u * trie.items + item]).toBe(toyScore(ctx.user, idsOf(item), levels));
        const exact = topItems(scores.subarray(u * trie.items, (u + 1) * trie.items), 5);
        expect(Array.from(exact)).toEqual(exhaustiveItems(ctx.user, () => true).slice(0, 5).map((e) => e.item));
      }
    }
    expect(log.closed).toBe(log.sessions);
    const exact = topItems(Float64Array.from([0.1, 0.5, -Infinity, 0.5, 0.3]), 3);
    expect(Array.from(exact)).toEqual([1, 3, 4]);
    expect(Array.from(topItems(Float64Array.from([0.1, 0.5, 0.4]), 2, (i) => i === 1))).toEqual([2, 0]);
    expect(beamMissRate([1, 3, 9], [1, 3, 4])).toBeCloseTo(1 / 3, 12);
    expect(beamMissRate([4, 3, 1], [1, 3, 4])).toBe(0);
  });
});

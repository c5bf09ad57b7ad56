// Codes across domains (multi-domain data, GMC): how many codes of each position every domain's items use, and
// how many first-level codes items of different domains share. Few shared first-level codes mean IDs that carry the
// domain (what RQ-VAE's domain-contrastive term aims at); many mean domains mix from the first code on.
import type { SemanticIds } from './types.js';

export interface DomainCodeUsage {
  name: string;
  items: number;
  /** Distinct codes the domain's items use, per position (before disambiguation). */
  usedPerLevel: number[];
}

export interface DomainCodeReport {
  domains: DomainCodeUsage[];
  /** Distinct first-level codes in use (all domains). */
  firstLevelCodes: number;
  /** First-level codes used by items of two or more domains. */
  sharedFirstLevel: number;
  /** Items whose first-level code some other domain's item also has, as a fraction of all items. */
  itemsInSharedFirstLevel: number;
  /** Per pair of domains: first-level codes both use. */
  pairs: { a: string; b: string; shared: number }[];
}

/** The report of `ids`' first `positions` positions over items labelled by `domainOf` (indices into `names`). */
export function domainCodeReport(ids: SemanticIds, positions: number, domainOf: Int32Array, names: readonly string[]): DomainCodeReport {
  const width = ids.levels.length;
  const rows = ids.codes.length / width;
  if (domainOf.length !== rows) throw new Error(`domain labels: ${domainOf.length} for ${rows} items`);
  const D = names.length;
  const used = Array.from({ length: D }, () => Array.from({ length: positions }, () => new Set<number>()));
  const items = new Int32Array(D);
  for (let r = 0; r < rows; r++) {
    const d = domainOf[r];
    if (!Number.isInteger(d) || d < 0 || d >= D) throw new Error(`item ${r} has domain ${d}, outside [0, ${D})`);
    items[d] += 1;
    for (let l = 0; l < positions; l++) used[d][l].add(ids.codes[r * width + l]);
  }
  const owners = new Map<number, number>(); // first-level code -> domains using it
  for (let d = 0; d < D; d++) for (const c of used[d][0] ?? []) owners.set(c, (owners.get(c) ?? 0) + 1);
  let shared = 0;
  for (const n of owners.values()) if (n >= 2) shared += 1;
  let inShared = 0;
  for (let r = 0; r < rows; r++) if ((owners.get(ids.codes[r * width]) ?? 0) >= 2) inShared += 1;
  const pairs: DomainCodeReport['pairs'] = [];
  for (let a = 0; a < D; a++) {
    for (let b = a + 1; b < D; b++) {
      let n = 0;
      for (const c of used[a][0] ?? []) if (used[b][0].has(c)) n += 1;
      pairs.push({ a: names[a], b: names[b], shared: n });
    }
  }
  return {
    domains: names.map((name, d) => ({ name, items: items[d], usedPerLevel: used[d].map((s) => s.size) })),
    firstLevelCodes: owners.size,
    sharedFirstLevel: shared,
    itemsInSharedFirstLevel: rows ? inShared / rows : 0,
    pairs,
  };
}

/** The report as text lines. */
export function formatDomainCodeReport(r: DomainCodeReport): string[] {
  return [
    'codes per domain (distinct codes used, per level)',
    ...r.domains.map((d) => `  ${d.name.padEnd(12)} ${String(d.items).padStart(7)} items   ${d.usedPerLevel.join(' / ')}`),
    `shared first-level codes  ${r.sharedFirstLevel} of ${r.firstLevelCodes} (${(100 * r.itemsInSharedFirstLevel).toFixed(1)}% of items sit in a shared one)`,
    ...r.pairs.map((p) => `  ${p.a} & ${p.b}: ${p.shared}`),
  ];
}

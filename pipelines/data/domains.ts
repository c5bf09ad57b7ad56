// Domains of a multi-domain data set (`semid data merge`): the `domain` columns of items and users as dense
// indices, each domain's items, and the domain of a user context. Training, evaluation and recommendation read
// a data set's domains through `domainIndex` only; a single-domain data set has none (null).
import type { Dataset } from './types.js';

/** Letters, digits, "_" and "-": a domain name is a key prefix (`office:123`) and a file name part. */
export const DOMAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Separates the domain from the raw key in a merged data set's item and user keys. */
export const DOMAIN_SEPARATOR = ':';

export interface DomainIndex {
  /** Domain names, in the order of the merge (index = domain id). */
  names: string[];
  /** Domain id per item. */
  itemDomain: Int32Array; // [items]
  /** Domain id per user. */
  userDomain: Int32Array; // [users]
  /** Each domain's items, ascending. */
  items: Int32Array[]; // [domains][n_d]
}

/** Checks a domain name; `what` names the input in the error (e.g. `--domain office=DIR`). */
export function checkDomainName(name: string, what: string): void {
  if (!DOMAIN_NAME.test(name)) throw new Error(`${what}: a domain name must be letters, digits, "_" or "-" (not starting with "_" or "-"), got "${name}"`);
}

/** The data set's domains (names in the manifest's order when it lists them, else first appearance), or null. */
export function domainIndex(dataset: Pick<Dataset, 'items' | 'sequences' | 'manifest'>): DomainIndex | null {
  const itemNames = dataset.items.domains;
  const userNames = dataset.sequences.domains;
  if (!itemNames || !userNames) return null;
  const listed = Array.isArray(dataset.manifest.domains) ? (dataset.manifest.domains as { name?: unknown }[]).map((d) => String(d.name)) : [];
  const names = [...listed];
  const idOf = new Map(names.map((n, i) => [n, i]));
  const id = (name: string): number => {
    let d = idOf.get(name);
    if (d === undefined) {
      d = names.length;
      names.push(name);
      idOf.set(name, d);
    }
    return d;
  };
  const itemDomain = Int32Array.from(itemNames, id);
  const userDomain = Int32Array.from(userNames, id);
  const counts = new Int32Array(names.length);
  for (const d of itemDomain) counts[d] += 1;
  const items = Array.from(counts, (n) => new Int32Array(n));
  const fill = new Int32Array(names.length);
  itemDomain.forEach((d, item) => { items[d][fill[d]++] = item; });
  return { names, itemDomain, userDomain, items };
}

/** The id of domain `name`; the error lists the data set's domains. */
export function domainId(index: DomainIndex | null, name: string, what = '--domain'): number {
  if (!index) throw new Error(`${what} ${name}: the data set has no domains (make a multi-domain one with "semid data merge")`);
  const d = index.names.indexOf(name);
  if (d < 0) throw new Error(`${what} ${name}: no such domain; the data set has ${index.names.map((n) => `"${n}"`).join(', ')}`);
  return d;
}

/**
 * The domain of a user context: the data set user's domain, or for a user the data set does not know (user -1)
 * the domain of its most recent history item; -1 when neither tells.
 */
export function contextDomain(index: DomainIndex, user: number, history: ArrayLike<number>): number {
  if (user >= 0 && user < index.userDomain.length) return index.userDomain[user];
  return history.length > 0 ? index.itemDomain[history[history.length - 1]] : -1;
}

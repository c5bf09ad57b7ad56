// An item's facets (title, brand, categories) as preferences, queries and steering checks need them. The data set
// keeps an item's text and category path; the brand lives inside the text. With the default import template
// ("{title} | {brand} | {categories}", manifest source.textTemplate) the text splits back at " | ": three parts are
// title, brand, categories; two parts are title and categories when the second equals the item's category path,
// else title and brand. Any other template gives title = the whole text and no brand. A brand "unknown" (Beauty's
// placeholder) counts as none.
import { DEFAULT_TEXT_TEMPLATE, type Dataset } from '../data/index.js';
import { normalizeText, splitWords } from '../embed/index.js';

export interface ItemFacets {
  title: string;
  brand: string | null;
  /** Category path, most general first. */
  categories: string[];
  /** The most specific category, or null. */
  leaf: string | null;
  /** Content words of the title (lower case, no stop words, no pure numbers). */
  titleWords: string[];
}

const STOP_WORDS = new Set(['a', 'an', 'the', 'and', 'or', 'of', 'for', 'with', 'in', 'on', 'to', 'by', 'at', 'from', 'amp', 'oz', 'ml', 'pack', 'set']);

export function titleWords(title: string): string[] {
  return splitWords(normalizeText(title)).filter((w) => !STOP_WORDS.has(w) && !/^\d+$/.test(w) && w.length > 1);
}

/** Facets of every item of a data set (see the splitting rule above). */
export function itemFacets(dataset: Pick<Dataset, 'items' | 'manifest'>): ItemFacets[] {
  const template = (dataset.manifest.source as { textTemplate?: string } | undefined)?.textTemplate;
  const split = template === undefined || template === DEFAULT_TEXT_TEMPLATE;
  const { texts, categories } = dataset.items;
  return texts.map((text, i) => {
    const cats = categories[i] ?? [];
    let title = text;
    let brand: string | null = null;
    if (split) {
      const parts = text.split(' | ');
      if (parts.length >= 3) {
        title = parts[0];
        brand = parts[1];
      } else if (parts.length === 2) {
        title = parts[0];
        if (parts[1] !== cats.join(', ')) brand = parts[1];
      }
    }
    if (brand !== null && (brand.trim() === '' || brand.trim().toLowerCase() === 'unknown')) brand = null;
    return { title, brand, categories: cats, leaf: cats.length > 0 ? cats[cats.length - 1] : null, titleWords: titleWords(title) };
  });
}

/** The items of each brand (by exact brand text), for negative-preference checks. */
export function itemsByBrand(facets: readonly ItemFacets[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  facets.forEach((f, i) => {
    if (f.brand) (out.get(f.brand) ?? out.set(f.brand, []).get(f.brand)!).push(i);
  });
  return out;
}

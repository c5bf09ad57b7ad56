// Item text from an item's fields through a template, e.g. "{title} | {brand} | {categories}".
// - `{a|b|c}` takes the first of the fields a, b, c that is present and non-empty (sources name things
//   differently: Beauty has `title_words`, MovieLens `genres`).
// - A list renders as its elements joined by ", " (nested lists are flattened); numbers as written.
// - A field that is missing or empty is dropped together with the literal text just before it, so
//   "{title} | {brand}" without a brand gives "title", not "title | ". Text before the first field and
//   after the last is kept.
// - `{{` and `}}` are literal braces. When every field is empty the text is the item key.
export const DEFAULT_TEXT_TEMPLATE = '{title|title_words|name} | {brand} | {categories|category|genres}';

type Part = { literal: string } | { fields: string[] };

export type TextTemplate = (fields: Record<string, unknown>, key: string) => string;

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      literal += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new Error(`text template: "{" at position ${i} is not closed: "${template}"`);
      const fields = template.slice(i + 1, end).split('|').map((f) => f.trim());
      if (fields.some((f) => !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(f))) {
        throw new Error(`text template: bad field name in "{${template.slice(i + 1, end)}}" (fields are letters, digits, _ . -; alternatives separated by |)`);
      }
      parts.push({ literal });
      literal = '';
      parts.push({ fields });
      i = end;
    } else if (c === '}') {
      throw new Error(`text template: "}" at position ${i} has no matching "{": "${template}"`);
    } else {
      literal += c;
    }
  }
  parts.push({ literal });
  if (!parts.some((p) => 'fields' in p)) throw new Error(`text template names no field: "${template}" (e.g. "{title} | {brand}")`);
  return parts;
}

/** Renders one field value as text ('' when missing or empty). */
export function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.flat(Infinity).map(fieldText).filter((s) => s.length > 0).join(', ');
  if (typeof value === 'object') return '';
  return String(value).replace(/\s+/g, ' ').trim();
}

/** Compiles a template once (validating it) into a function of an item's fields. */
export function compileTextTemplate(template: string = DEFAULT_TEXT_TEMPLATE): TextTemplate {
  const parts = parse(template);
  return (fields, key) => {
    let out = '';
    let emitted = false;
    let pendingLiteral = '';
    for (const [index, part] of parts.entries()) {
      if ('literal' in part) {
        pendingLiteral = part.literal;
        if (index === 0) out = part.literal; // the prefix stays, whichever field comes first
        continue;
      }
      let text = '';
      for (const name of part.fields) {
        text = fieldText(fields[name]);
        if (text) break;
      }
      if (!text) continue;
      if (emitted) out += pendingLiteral;
      out += text;
      emitted = true;
    }
    if (emitted) out += pendingLiteral;
    return emitted ? out.replace(/\s+/g, ' ').trim() : key;
  };
}

// A small data set written by the tests themselves: 36 items in three categories with distinct wording.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataset } from '../../pipelines/data/index.js';
import type { Items } from '../../pipelines/data/index.js';

const COLORS = ['red', 'blue', 'coral', 'nude', 'pink', 'black', 'gold', 'silver', 'plum', 'teal', 'mint', 'ruby'];
const SKIN = ['hydrating', 'soothing', 'firming', 'brightening', 'night', 'day', 'gentle', 'rich', 'light', 'matte', 'calming', 'repair'];
const HAIR = ['dry', 'curly', 'oily', 'colored', 'fine', 'thick', 'damaged', 'frizzy', 'straight', 'wavy', 'thin', 'normal'];

export function fixtureItems(): Items {
  const keys: string[] = [];
  const texts: string[] = [];
  const categories: string[][] = [];
  for (let i = 0; i < 12; i++) {
    keys.push(`N${String(i).padStart(3, '0')}`);
    texts.push(`essie nail polish lacquer ${COLORS[i]} | Makeup, Nails, Nail Polish`);
    categories.push(['Makeup', 'Nails', 'Nail Polish']);
    keys.push(`S${String(i).padStart(3, '0')}`);
    texts.push(`${SKIN[i]} face cream moisturizer with vitamin e | Skin Care, Face, Moisturizers`);
    categories.push(['Skin Care', 'Face', 'Moisturizers']);
    keys.push(`H${String(i).padStart(3, '0')}`);
    texts.push(`shampoo and conditioner for ${HAIR[i]} hair | Hair Care, Shampoo`);
    categories.push(['Hair Care', 'Shampoo']);
  }
  return { keys, texts, categories };
}

/** Writes the fixture data set into a new temporary directory and returns it. */
export async function writeFixtureDataset(items: Items = fixtureItems()): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'semid-embed-')), 'data');
  const n = items.keys.length;
  await writeDataset(dir, {
    items,
    sequences: {
      userKeys: ['u0', 'u1'],
      items: [Int32Array.from({ length: 6 }, (_, i) => i % n), Int32Array.from({ length: 6 }, (_, i) => (i + 6) % n)],
      timestamps: null,
    },
    source: { format: 'test fixture' },
  });
  return dir;
}

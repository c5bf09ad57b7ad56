// The run report: one self-contained HTML file holding one <svg> per plot, rendered by Vega-Lite in Node.
import { plotsFor, renderReportHtml, type ReportInputs } from '../../pipelines/report/html.js';
import { methodsFromMetrics, publishedRows } from '../../pipelines/report/index.js';
import { PUBLISHED_RESULTS } from '../../pipelines/runConfig.js';

function syntheticInputs(): ReportInputs {
  const training = Array.from({ length: 40 }, (_, i) => ({
    step: (i + 1) * 10,
    loss: 5 * Math.exp(-i / 15) + 1,
    validRecall10: i % 10 === 9 ? 0.05 + i / 1000 : undefined,
  }));
  return {
    title: 'synthetic <run> & co',
    subtitle: 'generated data',
    training,
    codebook: {
      levels: [{ size: 256, used: 250, perplexity: 230.5 }, { size: 256, used: 200 }, { size: 256, used: 120 }],
      distinctIds: 980, collisionRate: 0.02, maxBucket: 3,
      bucketCounts: { 1: 960, 2: 18, 3: 2 },
    },
    methods: [
      { method: 'semid', metrics: { 'recall@5': 0.05, 'ndcg@5': 0.03, 'recall@10': 0.07, 'ndcg@10': 0.04 } },
      { method: 'popularity', metrics: { 'recall@5': 0.01, 'ndcg@5': 0.005, 'recall@10': 0.02, 'ndcg@10': 0.01 } },
      { method: 'dense', metrics: { 'recall@5': 0.03, 'ndcg@5': 0.02, 'recall@10': 0.05, 'ndcg@10': 0.025 } },
    ],
    published: [{ method: 'TIGER', metrics: { 'recall@5': 0.0454, 'ndcg@5': 0.0321, 'recall@10': 0.0648, 'ndcg@10': 0.0384 } }],
    stages: [{ name: 'data', status: 'ran', seconds: 1.5 }],
    recommendations: [{ user: 'u1', history: ['a <b>', 'c'], items: ['d', 'e'] }],
    config: { name: 'x' },
  };
}

function countSvgs(html: string): number {
  return (html.match(/<svg[\s>]/g) ?? []).length;
}

/** A minimal well-formedness check: every element we open is closed, in order (void elements aside). */
function checkBalanced(html: string): void {
  const voids = new Set(['meta', 'br', 'img', 'link', 'hr', 'input']);
  const stack: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>\s*/i, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, rawName, , selfClosing] = m;
    const name = rawName.toLowerCase();
    if (voids.has(name) || selfClosing) continue;
    if (closing) {
      expect(stack.pop()).toBe(name);
    } else {
      stack.push(name);
    }
  }
  expect(stack).toEqual([]);
}

describe('run report', () => {
  it('renders one inline SVG per plot into valid, self-contained HTML', async () => {
    const inputs = syntheticInputs();
    const plots = plotsFor(inputs);
    expect(plots.map((p) => p.id)).toEqual(['loss', 'valid-recall', 'codebook', 'collisions', 'baselines', 'published']);
    const html = await renderReportHtml(inputs);
    expect(html).not.toContain('same protocol');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(countSvgs(html)).toBe(plots.length);
    for (const plot of plots) expect(html).toContain(`<figure id="plot-${plot.id}"><svg`);
    checkBalanced(html);
    // Self-contained: no scripts, no external resources.
    expect(html).not.toMatch(/<script|<link|src="http/);
    // Text is escaped.
    expect(html).toContain('synthetic &lt;run&gt; &amp; co');
    expect(html).toContain('a &lt;b&gt;');
    expect(html).toContain('0.0648');
  });

  it('leaves out plots whose data is absent', async () => {
    const inputs: ReportInputs = { title: 'partial', methods: syntheticInputs().methods };
    expect(plotsFor(inputs).map((p) => p.id)).toEqual(['baselines']);
    const html = await renderReportHtml(inputs);
    expect(countSvgs(html)).toBe(1);
    checkBalanced(html);
  });

  it('sets semid under both protocols beside published rows named with theirs (SASRec/S3-Rec mask history)', async () => {
    const methods = methodsFromMetrics({
      excludeHistory: false, 'recall@10': 0.05,
      protocols: { unmasked: { note: 'x', 'recall@10': 0.05 }, masked: { note: 'y', 'recall@10': 0.06 } },
      baselines: { popularity: { 'recall@10': 0.01 } },
    }, 'semid');
    expect(methods).toEqual([
      { method: 'semid (history not masked)', metrics: { 'recall@10': 0.05 }, ours: true },
      { method: 'semid (history masked)', metrics: { 'recall@10': 0.06 }, ours: true },
      { method: 'popularity', metrics: { 'recall@10': 0.01 } },
    ]);
    const published = publishedRows(PUBLISHED_RESULTS['amazon-beauty']);
    expect(published.map((p) => p.method)).toEqual([
      'SASRec: masks history (S3-Rec full-sort protocol)', 'S3-Rec: masks history (S3-Rec full-sort protocol)', 'TIGER: history not masked (TIGER protocol)',
    ]);
    const html = await renderReportHtml({ title: 't', methods, published });
    const table = html.slice(html.indexOf('Against published results'));
    for (const row of ['semid (history not masked)', 'semid (history masked)', 'SASRec: masks history (S3-Rec full-sort protocol)']) expect(table).toContain(row);
  });
});

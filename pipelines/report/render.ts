// Vega-Lite spec -> SVG text, in Node, with no canvas and no network.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders one Vega-Lite spec to a standalone `<svg>` element. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Vega-lite spec → SVG text, headless (no DOM, no canvas). */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Compiles the spec to vega, runs it in a view without a renderer and returns its SVG. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

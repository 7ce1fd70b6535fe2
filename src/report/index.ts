/** The run report: vega-lite charts, their SVG rendering, and the report folder with its self-contained index.html. */
export { bestEpoch, classDistribution, confusionHeatmap, imageGrid, learningCurves, seedBand, sweepCurves } from './charts.js';
export { renderSvg } from './render.js';
export { duration, escapeHtml, markdownSummary, pointsDifference, QUICK_BANNER, writeReport } from './html.js';

/** The Keras model summary table. */
import { formatShape, type Layer, type Shape } from '../layers/layer.js';

export interface SummaryRow {
  name: string;
  type: string;
  outputShape: Shape;
  params: number;
}

function bytes(count: number): string {
  const b = count * 4;
  if (b >= 1024 * 1024) return `${(b / 1024 / 1024).toFixed(2)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(2)} KB`;
  return `${b.toFixed(2)} B`;
}

export function summaryRows(layers: readonly Layer[], inputShape: Shape): SummaryRow[] {
  let shape = inputShape;
  return layers.map((layer) => {
    const params = layer.params(shape).reduce((total, p) => total + p.shape.reduce((a, b) => a * b, 1), 0);
    shape = layer.outputShape(shape);
    return { name: layer.name, type: layer.typeName, outputShape: shape, params };
  });
}

export function formatSummary(modelName: string, rows: readonly SummaryRow[]): string {
  const headers = ['Layer (type)', 'Output Shape', 'Param #'];
  const cells = rows.map((r) => [`${r.name} (${r.type})`, formatShape(r.outputShape), r.params.toLocaleString('en-US')]);
  const widths = [31, 22, 13].map((min, i) => Math.max(min, headers[i]!.length, ...cells.map((c) => c[i]!.length)));
  const pad = (text: string, width: number, right = false) => (right ? text.padStart(width) : text.padEnd(width));
  const line = (l: string, m: string, r: string, fill: string) => l + widths.map((w) => fill.repeat(w + 2)).join(m) + r;
  const row = (c: string[], edge: string) =>
    edge + c.map((text, i) => ` ${pad(text, widths[i]!, i === 2)} `).join(edge) + edge;
  const total = rows.reduce((t, r) => t + r.params, 0);
  return [
    `Model: "${modelName}"`,
    line('┏', '┳', '┓', '━'),
    row(headers, '┃'),
    line('┡', '╇', '┩', '━'),
    ...cells.map((c, i) => (i ? [line('├', '┼', '┤', '─'), row(c, '│')] : [row(c, '│')])).flat(),
    line('└', '┴', '┘', '─'),
    ` Total params: ${total.toLocaleString('en-US')} (${bytes(total)})`,
    ` Trainable params: ${total.toLocaleString('en-US')} (${bytes(total)})`,
    ` Non-trainable params: 0 (0.00 B)`,
  ].join('\n');
}

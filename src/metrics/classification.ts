/** Classification metrics on the CPU: confusion matrix and sklearn's classification report. */

/** counts[t][p]: samples of true class t predicted as p. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: number): number[][] {
  if (labels.length !== predictions.length) {
    throw new Error(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions.`);
  }
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = predictions[i]!;
    if (t >= classes || p >= classes) throw new Error(`confusionMatrix: class ${Math.max(t, p)} is not below ${classes}.`);
    counts[t]![p]!++;
  }
  return counts;
}

/** Rows divided by their sums (sklearn's normalize='true'); empty rows stay 0. */
export function normalizeRows(matrix: number[][]): number[][] {
  return matrix.map((row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (sum ? v / sum : 0));
  });
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  perClass: ClassScores[];
  accuracy: number;
  macro: ClassScores;
  weighted: ClassScores;
  total: number;
}

/** Precision, recall and F1 per class, with macro and support-weighted averages (0 where undefined, as sklearn). */
export function classificationReport(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: number): ClassificationReport {
  const m = confusionMatrix(labels, predictions, classes);
  const total = labels.length;
  const perClass: ClassScores[] = [];
  let correct = 0;
  for (let c = 0; c < classes; c++) {
    const tp = m[c]![c]!;
    correct += tp;
    const predicted = m.reduce((s, row) => s + row[c]!, 0);
    const support = m[c]!.reduce((a, b) => a + b, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass.push({ precision, recall, f1, support });
  }
  const average = (weight: (s: ClassScores) => number): ClassScores => {
    const w = perClass.map(weight);
    const sum = w.reduce((a, b) => a + b, 0) || 1;
    const mean = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((s, p, i) => s + p[key] * w[i]!, 0) / sum;
    return { precision: mean('precision'), recall: mean('recall'), f1: mean('f1'), support: total };
  };
  return {
    perClass,
    accuracy: total ? correct / total : 0,
    macro: average(() => 1),
    weighted: average((s) => s.support),
    total,
  };
}

/** The report as sklearn prints it. */
export function formatClassificationReport(report: ClassificationReport, names?: readonly string[], digits = 2): string {
  const label = (c: number) => names?.[c] ?? String(c);
  const width = Math.max(12, ...report.perClass.map((_, c) => label(c).length));
  const f = (v: number) => v.toFixed(digits).padStart(9);
  const s = (v: number) => String(v).padStart(9);
  const lines = [`${''.padStart(width)}${'precision'.padStart(9)}${'recall'.padStart(9)}${'f1-score'.padStart(9)}${'support'.padStart(9)}`, ''];
  report.perClass.forEach((p, c) => lines.push(`${label(c).padStart(width)}${f(p.precision)}${f(p.recall)}${f(p.f1)}${s(p.support)}`));
  lines.push('');
  lines.push(`${'accuracy'.padStart(width)}${''.padStart(18)}${f(report.accuracy)}${s(report.total)}`);
  lines.push(`${'macro avg'.padStart(width)}${f(report.macro.precision)}${f(report.macro.recall)}${f(report.macro.f1)}${s(report.total)}`);
  lines.push(`${'weighted avg'.padStart(width)}${f(report.weighted.precision)}${f(report.weighted.recall)}${f(report.weighted.f1)}${s(report.total)}`);
  return lines.join('\n');
}

// One row per measurement: what, the figure, the target, whether it was met.
export type BenchRow = [name: string, measured: string, target: string, ok: boolean];

export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
}

export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function formatTable(rows: BenchRow[]): string {
  const table = [
    ['benchmark', 'measured', 'target', ''],
    ...rows.map(([name, value, target, ok]) => [name, value, target, ok ? 'ok' : 'MISSED']),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  return table
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

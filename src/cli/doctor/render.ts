// How `legion doctor` prints: one line per check (status, name, detail), the fix hint
// under anything not ok, a summary last. Multi-line details and hints stay aligned
// under the detail column. --json prints the same results for scripts.
import type { CheckResult, CheckStatus } from './types.js';

export interface DoctorReport {
  /** False when any check failed; warnings and skips do not count. */
  ok: boolean;
  project_dir: string;
  checks: CheckResult[];
}

export function doctorReport(projectDir: string, checks: CheckResult[]): DoctorReport {
  return { ok: !checks.some((c) => c.status === 'fail'), project_dir: projectDir, checks };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function summarize(checks: CheckResult[]): string {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const parts = [`${count('ok')} ok`, plural(count('warn'), 'warning'), `${count('fail')} failed`];
  if (count('skip') > 0) parts.push(`${count('skip')} skipped`);
  const verdict =
    count('fail') > 0
      ? 'legion will not work until the failures above are fixed'
      : count('warn') > 0
        ? 'legion can run; the warnings above are worth fixing'
        : count('skip') > 0
          ? 'nothing failed; the skipped lines say why they were not checked'
          : 'everything legion needs is in place';
  return `${parts.join(', ')}: ${verdict}`;
}

export function renderDoctor(report: DoctorReport): string {
  const nameWidth = Math.max(...report.checks.map((c) => c.check.length));
  const indent = ' '.repeat(4 + 2 + nameWidth + 2);
  const lines: string[] = [];
  for (const c of report.checks) {
    const [first = '', ...more] = c.detail.split('\n');
    lines.push(`${c.status.padEnd(4)}  ${c.check.padEnd(nameWidth)}  ${first}`);
    for (const line of more) lines.push(`${indent}${line}`);
    if (c.hint !== undefined) {
      const [hintFirst = '', ...hintMore] = c.hint.split('\n');
      lines.push(`${indent}fix: ${hintFirst}`);
      for (const line of hintMore) lines.push(`${indent}     ${line}`);
    }
  }
  lines.push('', summarize(report.checks));
  return `${lines.join('\n')}\n`;
}

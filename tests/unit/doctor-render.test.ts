// How legion doctor prints: one aligned line per check, the fix under anything not ok,
// multi-line details kept in the detail column, and a summary whose verdict follows
// the worst status (only a failure makes the report not ok).
import { describe, expect, it } from 'vitest';
import { doctorReport, renderDoctor, summarize } from '../../src/cli/doctor/render.js';
import { fail, ok, skip, warn } from '../../src/cli/doctor/types.js';

describe('renderDoctor', () => {
  it('prints a table-like list with hints and a summary', () => {
    const report = doctorReport('/p', [
      ok('node', 'Node v20.1.0 (legion needs >=20)'),
      fail('.env', 'mode 644: every user may read or change the keys in it', 'chmod 600 .env'),
      fail(
        'config',
        'config/agents.yaml: agents.a: unknown key "x"\nconfig/mesh.yaml: llm: expected an object',
        'fix what is named above',
      ),
      warn('egress protection', 'no rights', 'add them as root:\n  iptables -N LEGION-HOST'),
    ]);
    expect(report.ok).toBe(false);
    expect(renderDoctor(report)).toBe(
      [
        'ok    node               Node v20.1.0 (legion needs >=20)',
        'fail  .env               mode 644: every user may read or change the keys in it',
        '                         fix: chmod 600 .env',
        'fail  config             config/agents.yaml: agents.a: unknown key "x"',
        '                         config/mesh.yaml: llm: expected an object',
        '                         fix: fix what is named above',
        'warn  egress protection  no rights',
        '                         fix: add them as root:',
        '                                iptables -N LEGION-HOST',
        '',
        '1 ok, 1 warning, 2 failed: legion will not work until the failures above are fixed',
        '',
      ].join('\n'),
    );
  });

  it('counts warnings and skips as passing', () => {
    expect(
      doctorReport('/p', [
        ok('node', 'x'),
        warn('agent image', 'not built', 'legion image build'),
        skip('project', 'not a project'),
      ]).ok,
    ).toBe(true);
    expect(summarize([ok('node', 'x'), warn('a', 'b', 'c'), warn('d', 'e', 'f')])).toBe(
      '1 ok, 2 warnings, 0 failed: legion can run; the warnings above are worth fixing',
    );
    expect(summarize([ok('node', 'x'), skip('project', 'not a project')])).toBe(
      '1 ok, 0 warnings, 0 failed, 1 skipped: nothing failed; the skipped lines say why they were not checked',
    );
    expect(summarize([ok('node', 'x')])).toBe('1 ok, 0 warnings, 0 failed: everything legion needs is in place');
  });
});

// Heartbeat probe decisions as pure functions: which facts fire which probe, what a
// first beat does, what does not count (the agent's own wake-ups and daily logs), when
// HEARTBEAT.md holds rules, the config shapes, and the text the woken agent reads.
import { describe, expect, it } from 'vitest';
import {
  diffWorkspace,
  heartbeatRules,
  isHeartbeatOk,
  needsAgentReport,
  runProbes,
  wakeText,
  workspaceSnapshot,
  type ProbeFacts,
} from '../../src/mesh/triggers/heartbeat/probes.js';
import {
  HeartbeatConfigSchema,
  normalizeProbe,
  parseInterval,
  type AgentProbeReport,
  type Probe,
} from '../../src/shared/wire/heartbeat.js';
import { formatZodIssues } from '../../src/shared/zod-format.js';
import { AgentsFileSchema } from '../../src/shared/config/schema.js';

function report(overrides: Partial<AgentProbeReport> = {}): AgentProbeReport {
  return {
    workspace: { files: [{ path: 'AGENTS.md', mtime_ms: 1000, size: 10 }], truncated: false },
    disk: { total_bytes: 100, available_bytes: 40, used_percent: 60 },
    heartbeat_md: null,
    ...overrides,
  };
}

function facts(overrides: Partial<ProbeFacts> = {}): ProbeFacts {
  return {
    queued: {},
    blackboard: new Map(),
    agent: { report: report() },
    previousWorkspace: { 'AGENTS.md': '1000:10' },
    ...overrides,
  };
}

const fired = (probes: Probe[], f: ProbeFacts) => runProbes(probes, f).map((finding) => finding.fired);

describe('lane probes', () => {
  it('pending_deliveries fires for queued pub/sub events and messages only', () => {
    const probe: Probe[] = [{ probe: 'pending_deliveries' }];
    expect(fired(probe, facts())).toEqual([false]);
    expect(fired(probe, facts({ queued: { cron: 2, heartbeat: 1 } }))).toEqual([false]);
    expect(runProbes(probe, facts({ queued: { event: 1, message: 2 } }))).toEqual([
      { probe: 'pending_deliveries', fired: true, detail: '1 pub/sub event and 2 messages queued for you' },
    ]);
  });

  it("queued_items fires for any queued item except the heartbeat's own wake-ups", () => {
    const probe: Probe[] = [{ probe: 'queued_items' }];
    expect(fired(probe, facts({ queued: { heartbeat: 1 } }))).toEqual([false]);
    expect(runProbes(probe, facts({ queued: { cron: 1, webhook: 2, heartbeat: 1 } }))[0]).toEqual({
      probe: 'queued_items',
      fired: true,
      detail: '3 lane items queued (1 cron, 2 webhook)',
    });
  });
});

describe('blackboard_changed', () => {
  const probe: Probe[] = [{ probe: 'blackboard_changed', prefix: 'tasks/' }];

  it('records a baseline on its first beat without firing', () => {
    expect(runProbes(probe, facts({ blackboard: new Map([['tasks/', null]]) }))[0]).toEqual({
      probe: 'blackboard_changed tasks/',
      fired: false,
      detail: 'first beat: watching keys under "tasks/" from now on',
    });
  });

  it('fires with the keys others changed, and stays quiet without changes', () => {
    expect(fired(probe, facts({ blackboard: new Map([['tasks/', []]]) }))).toEqual([false]);
    const keys = Array.from({ length: 12 }, (_, i) => `tasks/t${i}`);
    expect(runProbes(probe, facts({ blackboard: new Map([['tasks/', keys]]) }))[0]?.detail).toBe(
      '12 keys changed under "tasks/": tasks/t0, tasks/t1, tasks/t2, tasks/t3, tasks/t4, tasks/t5, tasks/t6, tasks/t7, tasks/t8, tasks/t9 (+2 more)',
    );
  });
});

describe('workspace_changed', () => {
  const probe: Probe[] = [{ probe: 'workspace_changed' }];

  it('compares with the previous beat: added, changed and removed files', () => {
    const now = report({
      workspace: {
        files: [
          { path: 'AGENTS.md', mtime_ms: 2000, size: 12 },
          { path: 'inbox/new.txt', mtime_ms: 2000, size: 3 },
        ],
        truncated: false,
      },
    });
    const [finding] = runProbes(
      probe,
      facts({ agent: { report: now }, previousWorkspace: { 'AGENTS.md': '1000:10', 'old.md': '1:1' } }),
    );
    expect(finding).toEqual({
      probe: 'workspace_changed',
      fired: true,
      detail: 'workspace files added inbox/new.txt; changed AGENTS.md; removed old.md',
    });
  });

  it('does not count the daily logs every turn appends to', () => {
    const now = report({
      workspace: {
        files: [
          { path: 'AGENTS.md', mtime_ms: 1000, size: 10 },
          { path: 'memory/2030-01-01.md', mtime_ms: 5, size: 5 },
        ],
        truncated: false,
      },
    });
    expect(workspaceSnapshot(now)).toEqual({ 'AGENTS.md': '1000:10' });
    expect(fired(probe, facts({ agent: { report: now } }))).toEqual([false]);
    expect(diffWorkspace({ a: '1:1' }, { a: '1:1' })).toEqual({ added: [], changed: [], removed: [] });
  });

  it('waits for a baseline, and does not fire when the agent did not answer', () => {
    expect(runProbes(probe, facts({ previousWorkspace: null }))[0]?.detail).toBe(
      'first beat: watching the workspace from now on',
    );
    expect(runProbes(probe, facts({ agent: { error: 'agent scout did not answer' } }))[0]).toEqual({
      probe: 'workspace_changed',
      fired: false,
      detail: 'workspace not checked: agent scout did not answer',
    });
  });
});

describe('disk_usage', () => {
  it('fires only over the threshold', () => {
    expect(runProbes([{ probe: 'disk_usage', over_percent: 50 }], facts())[0]).toEqual({
      probe: 'disk_usage over 50%',
      fired: true,
      detail: '/data is 60% full (over the 50% limit)',
    });
    expect(fired([{ probe: 'disk_usage', over_percent: 60 }], facts())).toEqual([false]);
    expect(
      fired([{ probe: 'disk_usage', over_percent: 0 }], facts({ agent: { report: report({ disk: null }) } })),
    ).toEqual([false]);
  });
});

describe('heartbeat_rules', () => {
  const probe: Probe[] = [{ probe: 'heartbeat_rules' }];

  it('sees rules, not a template of headings and comments', () => {
    const template =
      '# HEARTBEAT.md\n\n<!-- Write rules here, for example:\n- check tasks/ for work assigned to you -->\n\n## Rules\n';
    expect(heartbeatRules(template)).toEqual([]);
    expect(fired(probe, facts({ agent: { report: report({ heartbeat_md: template }) } }))).toEqual([false]);
    const withRules = `${template}- If tasks/urgent exists, handle it first.\n`;
    expect(heartbeatRules(withRules)).toEqual(['- If tasks/urgent exists, handle it first.']);
    expect(runProbes(probe, facts({ agent: { report: report({ heartbeat_md: withRules }) } }))[0]).toEqual({
      probe: 'heartbeat_rules',
      fired: true,
      detail: 'HEARTBEAT.md holds 1 rule line',
    });
  });

  it('does not fire without a HEARTBEAT.md', () => {
    expect(runProbes(probe, facts())[0]).toEqual({
      probe: 'heartbeat_rules',
      fired: false,
      detail: 'there is no HEARTBEAT.md',
    });
  });
});

describe('the wake-up', () => {
  it('lists what fired, then HEARTBEAT.md, then how to answer', () => {
    const findings = runProbes(
      [{ probe: 'pending_deliveries' }, { probe: 'queued_items' }],
      facts({ queued: { event: 1 } }),
    );
    const text = wakeText(findings, '# HEARTBEAT.md\n- reply to events');
    expect(text).toBe(
      [
        'Heartbeat: these checks found something that may need you:',
        '- pending_deliveries: 1 pub/sub event queued for you',
        '- queued_items: 1 lane item queued (1 event)',
        '',
        'Your HEARTBEAT.md:\n# HEARTBEAT.md\n- reply to events',
        '',
        'Act on what needs acting on. If nothing needs your attention, reply with exactly HEARTBEAT_OK.',
      ].join('\n'),
    );
  });

  it('treats exactly HEARTBEAT_OK, trimmed, as nothing to report', () => {
    expect(isHeartbeatOk('HEARTBEAT_OK')).toBe(true);
    expect(isHeartbeatOk('  HEARTBEAT_OK\n')).toBe(true);
    expect(isHeartbeatOk('HEARTBEAT_OK, but tasks/x needs you')).toBe(false);
    expect(isHeartbeatOk('heartbeat_ok')).toBe(false);
  });

  it('asks the agent server only for probes that look inside the container', () => {
    expect(needsAgentReport([{ probe: 'pending_deliveries' }, { probe: 'blackboard_changed', prefix: '' }])).toBe(
      false,
    );
    expect(needsAgentReport([{ probe: 'disk_usage', over_percent: 90 }])).toBe(true);
  });
});

describe('agents.<name>.heartbeat', () => {
  it('reads probes as names or one-key objects and normalizes them', () => {
    const config = HeartbeatConfigSchema.parse({
      every: '15m',
      probes: ['queued_items', { blackboard_changed: { prefix: 'tasks/' } }, { disk_usage: { over_percent: 90 } }],
    });
    expect(config.probes?.map(normalizeProbe)).toEqual([
      { probe: 'queued_items' },
      { probe: 'blackboard_changed', prefix: 'tasks/' },
      { probe: 'disk_usage', over_percent: 90 },
    ]);
    expect(parseInterval(config.every)).toBe(900_000);
  });

  it('refuses unknown keys, probes and intervals with messages that say what was expected', () => {
    const lines = (value: unknown) => {
      const result = HeartbeatConfigSchema.safeParse(value);
      return result.success ? [] : formatZodIssues('heartbeat', result.error);
    };
    expect(lines({ every: '15m', probe: [] })).toEqual(['heartbeat: unknown key "probe"']);
    expect(lines({ every: 'often' })).toEqual([
      'heartbeat: every: expected an interval such as 30s, 15m, 2h or 1d (at least 1s, at most 366d)',
    ]);
    expect(lines({ every: '1m', probes: ['inbox'] })[0]).toMatch(
      /^heartbeat: probes\.0: expected a probe: pending_deliveries, queued_items, workspace_changed, heartbeat_rules/,
    );
    expect(lines({ every: '1m', probes: [{ disk_usage: { over_percent: 120 } }] })[0]).toMatch(
      /^heartbeat: probes\.0\.disk_usage\.over_percent: /,
    );
  });

  it("is part of an agent's entry in agents.yaml, strict like the rest", () => {
    const ok = AgentsFileSchema.parse({
      agents: { dev: { role: 'dev', heartbeat: { every: '15m', probes: ['queued_items'] } } },
    });
    expect(ok.agents.dev?.heartbeat).toEqual({ every: '15m', probes: ['queued_items'] });
    const bad = AgentsFileSchema.safeParse({
      agents: { dev: { role: 'dev', heartbeat: { every: '15m', probs: [] } } },
    });
    expect(bad.success ? [] : formatZodIssues('config/agents.yaml', bad.error)).toEqual([
      'config/agents.yaml: agents.dev.heartbeat: unknown key "probs"',
    ]);
  });
});

// Budget and time-zone keys of mesh.yaml and agents.yaml: strict, and errors that name
// the file and key path.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadProject, type Project } from '../../../../src/shared/config/project.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const LLM = 'llm:\n  default_model: openai/gpt-4o-mini\n';

function load(mesh: string, agents: string): Project | string[] {
  const dir = mkdtempSync(join(tmpdir(), 'legion-budget-config-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  writeFileSync(join(dir, 'config', 'mesh.yaml'), LLM + mesh);
  writeFileSync(join(dir, 'config', 'agents.yaml'), agents);
  try {
    return loadProject(dir, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
}

describe('budget and timezone', () => {
  it('reads fleet and agent budgets and the time zone, UTC by default', () => {
    const project = load(
      'budget: { daily_usd: 20, monthly_usd: 300 }\ntimezone: Europe/Berlin\n',
      'agents:\n  a:\n    role: r\n    budget: { daily_usd: 0 }\n  b: { role: r }\n',
    );
    expect(project).toMatchObject({ mesh: { budget: { daily_usd: 20, monthly_usd: 300 }, timezone: 'Europe/Berlin' } });
    if (Array.isArray(project)) return;
    expect(project.agents.a?.budget).toEqual({ daily_usd: 0 });
    expect(project.agents.b?.budget).toBeUndefined();
    const plain = load('', 'agents: {}\n');
    expect(Array.isArray(plain) ? plain : plain.mesh.timezone).toBe('UTC');
  });

  it('names the key of a mistake', () => {
    expect(load('timezone: Mars/Olympus\n', 'agents: {}\n')).toEqual([
      'config/mesh.yaml: timezone: expected an IANA time zone such as UTC or Europe/Berlin',
    ]);
    expect(load('budget: { daily: 5 }\n', 'agents: {}\n')).toEqual(['config/mesh.yaml: budget: unknown key "daily"']);
    expect(load('', 'agents:\n  a:\n    role: r\n    budget: { monthly_usd: -1 }\n')).toEqual([
      expect.stringMatching(/^config\/agents\.yaml: agents\.a\.budget\.monthly_usd: /),
    ]);
    expect(load('', 'agents:\n  a:\n    role: r\n    budget: { daily_usd: "5" }\n')).toEqual([
      'config/agents.yaml: agents.a.budget.daily_usd: expected a number',
    ]);
  });
});

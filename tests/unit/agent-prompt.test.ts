// The system prompt: what goes in, in which order, and how long files are capped.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROMPT_FILE_CAP_CHARS, buildSystemPrompt, capText, readWorkspacePromptFiles } from '../../src/agent/prompt.js';
import type { AgentRuntimeConfig } from '../../src/shared/wire/agent.js';

const config: AgentRuntimeConfig = {
  agent: 'researcher',
  role: 'finds and summarises sources',
  model: 'openai/gpt-4o-mini',
  system_prompt: 'Cite every source.',
  project_md: '# Project Atlas\nMap the market.',
  max_tool_rounds: 10,
  context_window: 128_000,
  embedding_model: null,
  memory: { vector_weight: 0.3, recency_half_life_days: null },
};

const NO_LEARNINGS = { corrections: { shown: [], hidden: 0 }, errors: { shown: [], hidden: 0 } };

describe('buildSystemPrompt', () => {
  it('includes the role, the system prompt, PROJECT.md, workspace files in order, and the tools line', () => {
    const prompt = buildSystemPrompt({
      config,
      workspaceFiles: [
        { name: 'AGENTS.md', content: 'agents-body' },
        { name: 'MEMORY.md', content: 'memory-body' },
      ],
      toolNames: ['exec', 'read_file'],
      dataDir: '/data',
      learnings: NO_LEARNINGS,
    });
    expect(prompt).toContain('researcher');
    expect(prompt).toContain('finds and summarises sources');
    expect(prompt).toContain('Cite every source.');
    expect(prompt).toContain('# Project Atlas\nMap the market.');
    expect(prompt.indexOf('Project Atlas')).toBeLessThan(prompt.indexOf('agents-body'));
    expect(prompt.indexOf('agents-body')).toBeLessThan(prompt.indexOf('memory-body'));
    expect(prompt).toContain(
      'Tools: exec, read_file. File paths are confined to /data; relative paths resolve against /data/workspace',
    );
  });

  it('leaves out empty files and an empty PROJECT.md', () => {
    const prompt = buildSystemPrompt({
      config: { ...config, project_md: '  \n', system_prompt: '' },
      workspaceFiles: [{ name: 'USER.md', content: '' }],
      toolNames: [],
      dataDir: '/data',
      learnings: NO_LEARNINGS,
    });
    expect(prompt).not.toContain('PROJECT.md');
    expect(prompt).not.toContain('USER.md');
  });

  it('caps each file with a visible truncation marker', () => {
    const long = 'a'.repeat(PROMPT_FILE_CAP_CHARS + 250);
    const prompt = buildSystemPrompt({
      config: { ...config, project_md: `P${long}` },
      workspaceFiles: [{ name: 'MEMORY.md', content: `M${long}` }],
      toolNames: [],
      dataDir: '/data',
      learnings: NO_LEARNINGS,
    });
    expect(prompt).toContain('[truncated: 251 more characters of PROJECT.md not shown]');
    expect(prompt).toContain('[truncated: 251 more characters of MEMORY.md not shown]');
    expect(prompt.length).toBeLessThan(2 * PROMPT_FILE_CAP_CHARS + 1_000);
  });
});

describe('learnings in the system prompt', () => {
  const base = {
    config,
    workspaceFiles: [{ name: 'MEMORY.md', content: 'memory-body' }],
    toolNames: ['exec'],
    dataDir: '/data',
  };

  it('shows corrections, then tool errors, after the workspace files, each entry a level below its section', () => {
    const prompt = buildSystemPrompt({
      ...base,
      learnings: {
        corrections: {
          shown: [
            '## t2 · from the user (/correct)\n> newest correction',
            '## t1 · from the user (/correct)\n> older correction',
          ],
          hidden: 0,
        },
        errors: { shown: ['## t3 · exec failed\nArguments:\n    {}\nError:\n    boom'], hidden: 7 },
      },
    });
    const corrections = prompt.indexOf('## Corrections you have been given (learnings/corrections.md, newest first)');
    const errors = prompt.indexOf('## Your recent tool errors (learnings/errors.md, newest first)');
    expect(prompt.indexOf('memory-body')).toBeLessThan(corrections);
    expect(corrections).toBeLessThan(errors);
    expect(errors).toBeLessThan(prompt.indexOf('Tools: exec'));
    expect(prompt.indexOf('newest correction')).toBeLessThan(prompt.indexOf('older correction'));
    expect(prompt).toContain('### t2 · from the user (/correct)');
    expect(prompt).toContain('[7 older entries in learnings/errors.md are not shown]');
    expect(prompt).not.toContain('older entries in learnings/corrections.md');
  });

  it('leaves out a section without entries', () => {
    const prompt = buildSystemPrompt({ ...base, learnings: NO_LEARNINGS });
    expect(prompt).not.toContain('learnings/');
  });
});

describe('capText', () => {
  it('returns short text unchanged', () => {
    expect(capText('short', 10, 'x')).toBe('short');
    expect(capText('0123456789', 10, 'x')).toBe('0123456789');
  });
});

describe('readWorkspacePromptFiles', () => {
  it('reads the four files that exist, in a fixed order, and skips missing ones', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'legion-prompt-'));
    try {
      await writeFile(path.join(dir, 'MEMORY.md'), 'remember');
      await writeFile(path.join(dir, 'AGENTS.md'), 'operate');
      await writeFile(path.join(dir, 'OTHER.md'), 'ignored');
      await expect(readWorkspacePromptFiles(dir)).resolves.toEqual([
        { name: 'AGENTS.md', content: 'operate' },
        { name: 'MEMORY.md', content: 'remember' },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

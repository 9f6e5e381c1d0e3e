// Workspace seeds end to end, through the real mesh and real agent server processes: a
// SOUL.md kept in config/agents/<agent>/ becomes the agent's workspace SOUL.md at its
// first start and is in the system prompt the provider sees; a later start never
// overwrites the file the agent (or a person) has since edited.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/mesh-harness.js';
import { waitFor } from '../helpers/wait.js';
import { DEFAULT_WORKSPACE_TEMPLATES } from '../../src/agent/workspace/scaffold.js';

const SEEDED_SOUL = '# SOUL.md: who you are\n\n- You speak like a lighthouse keeper: calm, brief, weather-minded.\n';
const SEEDED_HEARTBEAT = '# Heartbeat\n\n- If the lamp log has gaps, note them in MEMORY.md.\n';

describe('workspace seeds', () => {
  let h: Harness;
  const workspace = (file: string) => join(h.runtime.dataDir('keeper'), 'workspace', file);
  const systemPromptOf = (pattern: RegExp) =>
    h.waitForCall('keeper', pattern).then((call) => call.messages.find((m) => m.role === 'system')?.content ?? '');

  beforeAll(async () => {
    h = await startHarness({
      agentsYaml: 'agents:\n  keeper:\n    role: keeps the light\n  plain:\n    role: no seeds\n',
      files: {
        'config/agents/keeper/SOUL.md': SEEDED_SOUL,
        'config/agents/keeper/HEARTBEAT.md': SEEDED_HEARTBEAT,
        // Not a seed name: never sent, never written.
        'config/agents/keeper/MEMORY.md': 'planted memory\n',
      },
      meshYaml: (port) =>
        `mesh:\n  host: 127.0.0.1\n  port: ${port}\n  health: { interval_ms: 200, failed_checks: 2, max_restarts_per_hour: 5 }\nllm:\n  default_model: openai/gpt-4o-mini\n  providers:\n    openai: {}\n`,
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('writes the seeds at the first start, and the model sees the seeded SOUL.md', async () => {
    expect(await h.say('keeper', 'first light')).toBe('echo: first light');
    expect(await readFile(workspace('SOUL.md'), 'utf8')).toBe(SEEDED_SOUL);
    expect(await readFile(workspace('HEARTBEAT.md'), 'utf8')).toBe(SEEDED_HEARTBEAT);
    // Files without a seed get the image's defaults.
    expect(await readFile(workspace('AGENTS.md'), 'utf8')).toBe(
      await readFile(join(DEFAULT_WORKSPACE_TEMPLATES, 'AGENTS.md'), 'utf8'),
    );
    expect(await readFile(workspace('MEMORY.md'), 'utf8')).toBe(
      await readFile(join(DEFAULT_WORKSPACE_TEMPLATES, 'MEMORY.md'), 'utf8'),
    );
    expect(await systemPromptOf(/^first light$/)).toContain('You speak like a lighthouse keeper');

    // An agent without seeds is scaffolded from the defaults as before.
    expect(await h.say('plain', 'hello')).toBe('echo: hello');
    expect(await readFile(join(h.runtime.dataDir('plain'), 'workspace', 'SOUL.md'), 'utf8')).toBe(
      await readFile(join(DEFAULT_WORKSPACE_TEMPLATES, 'SOUL.md'), 'utf8'),
    );
  });

  it('keeps an edited workspace file when the agent starts again, even with a changed seed', async () => {
    const edited = '# SOUL.md: who you are\n\n- You answer in the manner of a ship captain.\n';
    await writeFile(workspace('SOUL.md'), edited);
    await writeFile(join(h.project.dir, 'config/agents/keeper/SOUL.md'), `${SEEDED_SOUL}- A newer seed line.\n`);
    const before = (await h.client.status()).agents.find((a) => a.name === 'keeper');

    await h.runtime.kill('keeper');
    await waitFor(
      async () => {
        const now = (await h.client.status()).agents.find((a) => a.name === 'keeper');
        return now?.health === 'healthy' && now.container?.id !== before?.container?.id ? now : null;
      },
      'keeper to be restarted and healthy',
      20_000,
    );

    expect(await h.say('keeper', 'second light')).toBe('echo: second light');
    expect(await readFile(workspace('SOUL.md'), 'utf8')).toBe(edited);
    const prompt = await systemPromptOf(/^second light$/);
    expect(prompt).toContain('in the manner of a ship captain');
    expect(prompt).not.toContain('lighthouse keeper');
    expect(prompt).not.toContain('A newer seed line');
  });
});

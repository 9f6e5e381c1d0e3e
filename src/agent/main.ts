// Entry point of the agent server (`node dist/agent/main.js`; in the image its one-file
// bundle dist/agent-bundle/main.js), in a container or as a plain local process.
// Invariants: a missing or malformed environment variable, or tokens missing from
// stdin, exit 1 with a message naming it before anything starts; the two tokens come
// on stdin and never through the environment, and SIGUSR1 cannot open the inspector,
// so no process a tool starts can read them (secrets.ts); SIGTERM/SIGINT close the
// server and exit 0 within FORCE_EXIT_MS at the latest. The server listens while the
// workspace is prepared (the project's seeds fetched from the mesh, then scaffolded),
// and holds every request but /health until that is done.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LegionError } from '../shared/errors.js';
import { createLogger } from '../shared/logging.js';
import { checkAgentProcessName } from '../shared/subagents.js';
import { AGENT_ENV, AGENT_SERVER_PORT } from '../shared/wire/agent.js';
import { MeshClient } from './mesh-client.js';
import type { WorkspaceSeeds } from '../shared/config/workspace-seeds.js';
import type { Logger } from '../shared/logging.js';
import { noteCorrectionTool } from './learnings/tool.js';
import { createAgentServer } from './server.js';
import { BUILTIN_TOOLS } from './tools/builtin.js';
import { createMeshTools } from './tools/mesh-tools.js';
import { createMemoryTools } from './tools/memory-tools.js';
import { createBrowserTools } from './tools/browser-tools.js';
import { BrowserSession } from './browser/session.js';
import type { McpToolset } from './mcp/toolset.js';
import type { Tool } from './tools/registry.js';
import { browserProxy } from './browser/proxy.js';
import { MemoryIndex } from './memory/index.js';
import { MeshEmbedder } from './memory/mesh-embedder.js';
import { WorkspaceMemory } from './memory/workspace-memory.js';
import { WorkspaceWatcher } from './memory/watcher.js';
import { scaffoldWorkspace, type ScaffoldResult } from './workspace/scaffold.js';
import { readSecretsFromStdin, refuseInspectorSignal } from './secrets.js';
import { SkillCatalog } from './skills/catalog.js';
import { createSkillTools } from './skills/tools.js';

// Docker sends SIGKILL 10 s after SIGTERM by default; the agent must be gone long before.
const FORCE_EXIT_MS = 500;
/** An open browser needs longer to write its profile (cookies) before it exits; within Docker's stop grace of 2 s. */
const FORCE_EXIT_WITH_BROWSER_MS = 1_500;
/** The mesh answers at once when it started this agent; past this the image's defaults do. */
const SEEDS_FETCH_TIMEOUT_MS = 5_000;
/** Found from this entry, two levels below the package root both as dist/agent/main.js and
 *  as the image's bundle dist/agent-bundle/main.js (where every module has the bundle's URL). */
const PACKAGE_ROOT_URL = new URL('../../', import.meta.url);
const WORKSPACE_TEMPLATES = fileURLToPath(new URL('agent-image/workspace/', PACKAGE_ROOT_URL));

interface Settings {
  agent: string;
  skillDirs: string[];
  meshUrl: string;
  meshToken: string;
  serverToken: string;
  dataDir: string;
  port: number;
  host: string;
}

const REQUIRED: Record<'name' | 'meshUrl', string> = {
  name: 'the agent name',
  meshUrl: "the URL of the mesh's agent API",
};

function readSettings(env: NodeJS.ProcessEnv): Omit<Settings, 'meshToken' | 'serverToken'> | string[] {
  const problems: string[] = [];
  const required = (key: keyof typeof REQUIRED): string => {
    const value = env[AGENT_ENV[key]]?.trim() ?? '';
    if (!value) problems.push(`${AGENT_ENV[key]} is not set (${REQUIRED[key]})`);
    return value;
  };
  const agent = required('name');
  const meshUrl = required('meshUrl');
  const nameProblem = agent ? checkAgentProcessName(agent) : null;
  if (nameProblem) problems.push(`${AGENT_ENV.name}: ${nameProblem}`);
  if (meshUrl && !URL.canParse(meshUrl)) problems.push(`${AGENT_ENV.meshUrl}: "${meshUrl}" is not a URL`);
  const portText = env[AGENT_ENV.port]?.trim() || String(AGENT_SERVER_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`${AGENT_ENV.port}: "${portText}" is not a port number`);
  const skillDirs = readSkillDirs(env[AGENT_ENV.skillDirs]);
  if (typeof skillDirs === 'string') problems.push(`${AGENT_ENV.skillDirs}: ${skillDirs}`);
  if (problems.length > 0 || typeof skillDirs === 'string') return problems;
  return {
    agent,
    skillDirs,
    meshUrl,
    dataDir: path.resolve(env[AGENT_ENV.dataDir]?.trim() || '/data'),
    port,
    host: env[AGENT_ENV.host]?.trim() || '0.0.0.0',
  };
}

/** A JSON array of absolute folder paths; unset or empty means none. */
function readSkillDirs(text: string | undefined): string[] | string {
  if (!text?.trim()) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((dir) => typeof dir === 'string' && path.isAbsolute(dir))) return parsed;
  } catch {
    // Reported below like any other shape.
  }
  return 'expected a JSON array of absolute folder paths';
}

async function readVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('package.json', PACKAGE_ROOT_URL), 'utf8');
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
      return parsed.version;
    }
  } catch {
    // A missing or unreadable package.json only costs the version shown in /status.
  }
  return 'unknown';
}

async function readBootSettings(): Promise<Settings> {
  const settings = readSettings(process.env);
  const secrets = await readSecretsFromStdin();
  const problems = [...(Array.isArray(settings) ? settings : []), ...(typeof secrets === 'string' ? [secrets] : [])];
  if (Array.isArray(settings) || typeof secrets === 'string') {
    process.stderr.write(`legion agent: cannot start:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`);
    process.exit(1);
  }
  return { ...settings, meshToken: secrets.mesh_token, serverToken: secrets.server_token };
}

async function main(): Promise<void> {
  refuseInspectorSignal(() => process.stderr.write('legion agent: SIGUSR1 ignored (the inspector stays closed)\n'));
  const settings = await readBootSettings();

  const logger = createLogger({ agent: settings.agent });
  try {
    const mesh = new MeshClient({ meshUrl: settings.meshUrl, token: settings.meshToken });
    // Started before listening so the two overlap. A failure ends the process where it is
    // awaited below; the catch keeps one during listen() from counting as unhandled.
    const workspace = prepareWorkspace(settings.dataDir, mesh, logger);
    workspace.catch(() => undefined);
    const index = MemoryIndex.open(settings.dataDir);
    // Watching the stored view's directories starts before the sync below, so a change
    // made while it runs raises an event; no directory is walked for it.
    const watcher = new WorkspaceWatcher(index, logger);
    watcher.start();
    // Embeddings are attached at the first session, from the config the mesh sends then:
    // the sync below is BM25 only.
    const memory = new WorkspaceMemory(
      index,
      path.join(settings.dataDir, 'workspace'),
      logger,
      (model) => new MeshEmbedder(mesh, model),
      watcher,
    );
    const browser = browserSession(settings.dataDir, logger);
    const version = await readVersion();
    // A live list: the MCP toolset puts its servers' tools in as they start (mcp/toolset.ts), and
    // the skill catalog its skills' tools as they load (skills/catalog.ts).
    const tools: Tool[] = [
      ...BUILTIN_TOOLS,
      ...createMemoryTools(memory),
      ...createMeshTools(mesh),
      noteCorrectionTool,
      ...(browser ? createBrowserTools(browser, mesh, browserProxy(process.env)) : []),
    ];
    const skills = new SkillCatalog({
      operatorDirs: settings.skillDirs,
      customRoot: path.join(settings.dataDir, 'skills'),
      workspaceDir: path.join(settings.dataDir, 'workspace'),
      tools,
    });
    tools.push(...createSkillTools(skills, mesh));
    const app = createAgentServer({
      agent: settings.agent,
      serverToken: settings.serverToken,
      dataDir: settings.dataDir,
      mesh,
      tools,
      skills,
      version,
      logger,
      memory,
      ready: workspace,
    });

    // Created once the workspace exists (below); its module, the MCP SDK with its schemas,
    // is loaded then, so it does not lengthen the time to the first /health.
    let mcp: McpToolset | null = null;
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'agent_stopping', signal }, 'stopping');
      setTimeout(() => process.exit(0), browser?.running ? FORCE_EXIT_WITH_BROWSER_MS : FORCE_EXIT_MS).unref();
      Promise.all([app.close(), browser?.close(), mcp?.close()]).then(
        () => {
          watcher.close();
          index.close();
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ event: 'agent_stop_failed', err }, 'error while stopping');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    await app.listen({ port: settings.port, host: settings.host });
    const address = app.server.address();
    // With port 0 (tests) the system picks the port; the log line is how callers learn it.
    const port = typeof address === 'object' && address !== null ? address.port : settings.port;
    logger.info(
      { event: 'agent_listening', host: settings.host, port },
      `agent server listening on ${settings.host}:${port}`,
    );
    // The mesh waits for this word rather than asking /health in a loop; without it
    // (the mesh unreachable) the mesh's slower asking still finds the server.
    mesh
      .announceReady(AbortSignal.timeout(SEEDS_FETCH_TIMEOUT_MS))
      .catch((err: unknown) =>
        logger.warn(
          { event: 'ready_not_announced', reason: err instanceof Error ? err.message : String(err) },
          'could not tell the mesh this server listens; it finds out from GET /health',
        ),
      );
    const scaffold = await workspace;
    // After the workspace exists: stdio servers run in it.
    const { McpToolset } = await import('./mcp/toolset.js');
    if (!stopping) {
      mcp = new McpToolset({ mesh, workspaceDir: path.join(settings.dataDir, 'workspace'), version, logger, tools });
      mcp.start();
    }
    // After the workspace exists (modules run there); the first session's prompt waits for it.
    skills.reload().then(
      (loaded) =>
        logger.info(
          {
            event: 'skills_loaded',
            skills: loaded.skills.map((skill) => skill.name),
            problems: loaded.problems,
          },
          `${loaded.skills.length} skills loaded${loaded.problems.length > 0 ? `, ${loaded.problems.length} left out` : ''}`,
        ),
      (err: unknown) => logger.error({ event: 'skills_load_failed', err }, 'skills could not be loaded'),
    );
    logger.info(
      { event: 'workspace_ready', dir: scaffold.workspaceDir, created: scaffold.created, seeded: scaffold.seeded },
      'workspace ready',
    );
    // Synced after listening, so a start is not held up by it, and without walking the tree
    // (see memory/index.ts): first the directories whose mtime moved, then, in the
    // background, a stat of every indexed file for edits made in place while stopped. A save
    // queues behind each step; a search meanwhile sees the index as agent.db kept it.
    syncMemory(index, watcher, logger);
  } catch (err) {
    logger.error({ event: 'agent_start_failed', err }, err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}

function syncMemory(index: MemoryIndex, watcher: WorkspaceWatcher, logger: Logger): void {
  const failed = (err: unknown) =>
    logger.error(
      { event: 'memory_sync_failed', err },
      'memory index sync failed; search covers what was indexed before',
    );
  index.syncDirectories().then((synced) => {
    logger.info(
      {
        event: 'memory_ready',
        mode: index.mode,
        added: synced.added.length,
        updated: synced.updated.length,
        removed: synced.removed.length,
        watched_dirs: watcher.watchedCount,
      },
      'memory index ready',
    );
    return index
      .verifyFiles()
      .then(
        (verified) =>
          logger.info(
            { event: 'memory_verified', updated: verified.updated.length, removed: verified.removed.length },
            'memory index checked every file',
          ),
        failed,
      );
  }, failed);
}

/** The agent's browser when the mesh started it with the browser image (LEGION_BROWSER_IDLE_S set), else null: no browser tools. */
function browserSession(dataDir: string, logger: Logger): BrowserSession | null {
  const idle = process.env[AGENT_ENV.browserIdleS]?.trim();
  if (!idle) return null;
  const seconds = Number(idle);
  return new BrowserSession({
    dataDir,
    proxy: browserProxy(process.env),
    idleMs: (Number.isFinite(seconds) && seconds > 0 ? seconds : 300) * 1000,
    logger,
  });
}

/** The project's seeds for this agent (config/agents/<agent>/*.md, from the mesh), then
 *  the workspace scaffolded with them. Without an answer from the mesh the image's
 *  defaults are used: the agent must start even so, and says why in its log. */
async function prepareWorkspace(dataDir: string, mesh: MeshClient, logger: Logger): Promise<ScaffoldResult> {
  let seeds: WorkspaceSeeds = {};
  try {
    seeds = (await mesh.getRuntimeConfig(AbortSignal.timeout(SEEDS_FETCH_TIMEOUT_MS))).workspace_seeds ?? {};
  } catch (err) {
    const reason =
      err instanceof LegionError && err.code === 'aborted'
        ? `no answer within ${SEEDS_FETCH_TIMEOUT_MS} ms`
        : err instanceof Error
          ? err.message
          : String(err);
    logger.warn(
      { event: 'workspace_seeds_unavailable', reason },
      `could not fetch workspace seeds from the mesh (${reason}); new workspace files get the image's defaults`,
    );
  }
  return scaffoldWorkspace(dataDir, WORKSPACE_TEMPLATES, seeds);
}

await main();

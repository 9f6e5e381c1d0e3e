// The mesh: one process, two listeners. The admin API on mesh.host:mesh.port (CLI,
// admin token) and the agent API on the legion network's gateway (agents, per-agent
// tokens, every operation checked against the permission matrix). Webhook ingress
// (/webhook/*, per-hook secrets) sits on the admin listener outside the admin-token
// scope, and alone on a public listener when mesh.yaml has `webhooks`. State files in
// .legion/ exist exactly while the mesh listens; durable state lives in mesh.db.
import { existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from '../shared/logging.js';
import { LegionError } from '../shared/errors.js';
import { LEGION_VERSION } from '../shared/paths.js';
import { readMeshInfo, statePaths, type MeshInfo } from '../shared/state.js';
import type { HostIsolation, MeshStatus } from '../shared/wire/admin.js';
import { egressPort } from '../shared/config/schema.js';
import { agentLlmSettings, agentModel, agentRuntime, type Project } from '../shared/config/project.js';
import { unsandboxedWarning } from '../shared/sandbox.js';
import { installErrorHandler } from './http/errors.js';
import { AgentTokens, requireAgentToken } from './http/agent-auth.js';
import { requireAdminToken, writeAdminToken } from './http/admin-auth.js';
import { Fleet } from './runtime/fleet.js';
import { HealthMonitor, observeAgent } from './runtime/health.js';
import { adoptRunningAgents } from './runtime/adoption.js';
import { sweepOrphans } from './subagents/orphans.js';
import { budgetOwner } from '../shared/subagents.js';
import type { AgentRuntime, ProgressFn } from './runtime/types.js';
import { ProjectStore } from './project-store.js';
import { agentAdminRoutes } from './agents/admin-routes.js';
import { agentSelfRoutes } from './agents/agent-routes.js';
import { llmRoutes } from './llm/routes.js';
import { createLlmProxy } from './llm/proxy.js';
import { createEmbeddingsProxy, type EmbeddingsProxy } from './llm/embeddings.js';
import { embeddingsRoutes } from './llm/embeddings-routes.js';
import { resolveProviders } from '../shared/config/providers.js';
import { openDomains, type Domains } from './domains.js';
import type { OpenDomains } from './assembly.js';
import { assertAllowed } from './permissions/types.js';
import { artifactRoutes } from './agents/artifact-routes.js';
import { httpAgentRoutes } from './credentials/routes.js';
import { CredentialStore } from './credentials/store.js';
import { searchAgentRoutes } from './search/routes.js';
import { browserAgentRoutes } from './browser/routes.js';
import { SearchRateLimiter } from './search/rate-limit.js';
import { EgressProxy } from './egress/proxy.js';
import { meshDestinations } from './egress/context.js';
import { startPublicWebhookListener, type PublicWebhookListener } from './triggers/webhooks/listener.js';
import { ConfigReloader } from './config/reloader.js';
import { DashboardAccess } from './dashboard/access.js';
import { DashboardAssets } from './dashboard/assets.js';
import { dashboardOrigin } from './dashboard/guard.js';
import { dashboardRoutes, type DashboardRoutesOptions } from './dashboard/routes.js';
import { dashboardAdminRoutes } from './dashboard/admin-routes.js';

/** How each agent came up at mesh start; adopted: its container from an earlier run still ran. */
export interface AgentStartResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
  adopted?: boolean;
}

export interface MeshOptions {
  project: Project;
  runtime: AgentRuntime;
  logger: Logger;
  progress: ProgressFn;
  /** Called when a client asks the mesh to stop (legion stop, /quit). */
  onShutdownRequested: () => void;
  env?: NodeJS.ProcessEnv;
  /** How long a dashboard login code lives (at most, and by default, 60 s); shorter in tests. */
  dashboardCodeTtlMs?: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Mesh {
  private readonly options: MeshOptions;
  private readonly store: ProjectStore;
  private readonly tokens = new AgentTokens();
  // Egress tokens are separate from mesh tokens: they sit in the proxy variables that
  // every command an agent runs inherits, and must open nothing but the egress proxy.
  private readonly egressTokens = new AgentTokens();
  private egress: EgressProxy | null = null;
  /** One view of DNS, host addresses and model endpoints for every destination check. */
  private readonly destinations = meshDestinations(() => this.store.get());
  private hostIsolation: HostIsolation | null = null;
  readonly fleet: Fleet;
  private readonly health: HealthMonitor;
  private assembly: OpenDomains<Domains> | null = null;
  private reloader: ConfigReloader | null = null;
  private admin: FastifyInstance | null = null;
  private publicWebhooks: PublicWebhookListener | null = null;
  private agentApi: FastifyInstance | null = null;
  private readonly startedAt = new Date().toISOString();
  private readonly dashboard: DashboardAccess;
  private readonly dashboardAssets = new DashboardAssets();
  /** The admin listener's configured host and bound port, once it listens. */
  private adminAddress = { host: '127.0.0.1', port: 0 };
  private ready = false;
  adminUrl = '';
  agentApiUrl = '';
  egressUrl = '';

  constructor(options: MeshOptions) {
    this.options = options;
    this.store = new ProjectStore(options.project, options.env);
    this.dashboard = new DashboardAccess(
      options.dashboardCodeTtlMs === undefined ? {} : { codeTtlMs: options.dashboardCodeTtlMs },
    );
    this.fleet = new Fleet({
      project: () => this.store.get(),
      runtime: options.runtime,
      tokens: this.tokens,
      logger: options.logger,
      meshUrl: () => this.agentApiUrl,
      egress: { tokens: this.egressTokens, url: () => this.egressUrl },
      onHealthy: (agent) => this.assembly?.api.lanes.kick(agent),
      onDown: (agent, reason) => {
        this.assembly?.api.lanes.chats.abandon(agent, reason);
        this.assembly?.api.subagents.endFor(agent, `went down (${reason})`);
      },
      laneStatus: (agent) => this.domains.lanes.store.status(agent),
      browserAllowed: (agent) => this.domains.permissions.flag(agent, 'can_use_browser'),
      subAgent: (name) => this.assembly?.api.subagents.launchSpec(name) ?? null,
      containers: {
        save: (record) => this.domains.containers.save(record),
        forget: (agent) => this.assembly?.api.containers.forget(agent),
      },
    });
    this.health = new HealthMonitor({
      fleet: this.fleet,
      observe: (agent, url) => observeAgent(options.runtime, agent, url),
      config: () => this.store.get().mesh.mesh.health,
      events: { record: (event) => this.assembly?.api.events.record(event) },
      logger: options.logger,
    });
  }

  private get openDomains(): OpenDomains<Domains> {
    if (!this.assembly) throw new LegionError('mesh_not_started', 'the mesh has not started');
    return this.assembly;
  }

  private get domains(): Domains {
    return this.openDomains.api;
  }

  private knownAgents(): string[] {
    return Object.keys(this.store.get().agents);
  }

  /** Config subscriptions follow agents.yaml; one the matrix denies is skipped and recorded. */
  private syncSubscriptions(): void {
    const { pubsub, permissions, events } = this.domains;
    const wanted: Record<string, string[]> = {};
    for (const [agent, entry] of Object.entries(this.store.get().agents)) {
      wanted[agent] = entry.subscriptions.filter((topic) => {
        const decision = permissions.check(agent, 'can_subscribe', topic);
        if (!decision.allowed) {
          events.record({
            agent,
            kind: 'denied',
            subject: topic,
            detail: { permission: 'can_subscribe', reason: decision.reason, source: 'config/agents.yaml' },
          });
          this.options.logger.warn(
            { agent, event: 'subscription_denied', topic, reason: decision.reason },
            'config subscription denied',
          );
        }
        return decision.allowed;
      });
    }
    pubsub.syncConfig(wanted);
  }

  /** Listens, prepares the runtime, starts every agent. Resolves with each agent's outcome. */
  async start(): Promise<AgentStartResult[]> {
    const paths = statePaths(this.store.get().dir);
    const running = readMeshInfo(this.store.get().dir);
    if (running && isAlive(running.pid) && running.pid !== process.pid) {
      throw new LegionError(
        'mesh_running',
        `a legion mesh is already running for this project (pid ${running.pid}, ${running.admin_url}); stop it with \`legion stop\``,
      );
    }
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    writeFileSync(paths.pid, `${process.pid}\n`);
    this.assembly = openDomains(paths.dir, {
      projectDir: this.store.get().dir,
      logger: this.options.logger,
      knownAgents: () => this.knownAgents(),
      runtime: {
        project: () => this.store.get(),
        fleet: this.fleet,
        stillReady: (agent) => this.health.checkNow(agent),
        webhookBaseUrl: () => this.webhookBaseUrl(),
      },
    });
    this.syncSubscriptions();
    // Before the listeners (the channels' routes need their adapters). What arrives waits on its lane for the dispatcher.
    await this.assembly.start();
    const providers = resolveProviders(this.store.get());
    const proxy = createLlmProxy(providers, this.options.logger, () => this.store.get().mesh.llm.image_models);
    const embeddings = createEmbeddingsProxy(providers, this.options.logger);

    const { host, port } = this.store.get().mesh.mesh;
    const adminToken = writeAdminToken(paths.adminToken);
    this.admin = this.buildAdmin(adminToken);
    this.adminUrl = await listen(this.admin, host, port, 'admin API');
    this.adminAddress = { host, port: Number(new URL(this.adminUrl).port) };
    const webhookListener = this.store.get().mesh.webhooks;
    if (webhookListener) {
      this.publicWebhooks = await startPublicWebhookListener(
        webhookListener.host,
        webhookListener.port,
        this.domains.webhooks.ingress,
      );
      this.options.logger.info(
        { event: 'webhooks_listening', url: this.publicWebhooks.url },
        'public webhook listener',
      );
    }

    const binding = await this.options.runtime.prepare(this.options.progress, port);
    await this.checkRuntimes();
    this.agentApi = this.buildAgentApi(proxy, embeddings);
    this.agentApiUrl = await listen(this.agentApi, binding.host, binding.port, 'agent API');
    this.egress = new EgressProxy({
      permissions: this.domains.permissions,
      events: this.domains.events,
      tokens: this.egressTokens,
      logger: this.options.logger,
      hostAddresses: this.destinations.hostAddresses,
      modelEndpoints: this.destinations.modelEndpoints,
    });
    // A runtime that lets the system pick the agent API's port (tests) gets the same for the proxy.
    this.egressUrl = await this.egress.listen(
      binding.host,
      binding.port === 0 ? 0 : egressPort(this.store.get().mesh.mesh),
    );
    await this.isolateHost();

    const info: MeshInfo = {
      pid: process.pid,
      admin_url: this.adminUrl,
      agent_api_url: this.agentApiUrl,
      started_at: this.startedAt,
    };
    writeFileSync(paths.meshInfo, `${JSON.stringify(info, null, 2)}\n`);
    this.options.logger.info(
      { event: 'mesh_listening', admin: this.adminUrl, agent_api: this.agentApiUrl, egress: this.egressUrl },
      'mesh listening',
    );

    // Before adoption: a sub-agent's container is never an agent to adopt or replace.
    await sweepOrphans({
      runtime: this.options.runtime,
      liveRuns: this.domains.subagents.liveIds(),
      forget: (agent) => this.domains.containers.forget(agent),
      progress: this.options.progress,
      logger: this.options.logger,
    });
    // Before the lanes run: an adopted agent takes its queued items at once.
    const adopted = await adoptRunningAgents({
      runtime: this.options.runtime,
      records: this.domains.containers,
      fleet: this.fleet,
      configured: (agent) => this.knownAgents().includes(agent),
      wantedRuntime: (agent) => agentRuntime(this.store.get(), agent),
      meshUrl: this.agentApiUrl,
      egressUrl: this.egressUrl,
      progress: this.options.progress,
      logger: this.options.logger,
    });
    // The dispatcher re-queues what was in flight, then workflow runs pick up from their rows.
    this.openDomains.resume();
    const started = await this.fleet.startAll(adopted);
    await this.warnUnsandboxed();
    this.health.start();
    this.watchConfig();
    this.ready = true;
    return [...[...adopted].map((name) => ({ name, ok: true, ms: 0, adopted: true })), ...started];
  }

  /** Edits of agents.yaml and mesh.yaml apply while the fleet runs, or are refused and say why. */
  private watchConfig(): void {
    this.reloader = new ConfigReloader({
      store: this.store,
      fleet: this.fleet,
      events: this.domains.events,
      logger: this.options.logger,
      progress: this.options.progress,
      onApplied: ({ removed }) => {
        for (const agent of removed) this.domains.pubsub.forget(agent);
        // Rules saved together with agents.yaml may not have reached the permissions watcher yet.
        this.domains.permissions.reloadNow();
        this.syncSubscriptions();
      },
    });
    this.reloader.start();
  }

  /** A runtime name the engine does not know is a configuration error: refused at start, listing the known ones. */
  private async checkRuntimes(): Promise<void> {
    const wanted = new Set(Object.keys(this.store.get().agents).map((agent) => agentRuntime(this.store.get(), agent)));
    for (const name of wanted) await this.options.runtime.resolveSandbox?.(name);
  }

  /** Says once, after the fleet started, which agents share the host's kernel. */
  private async warnUnsandboxed(): Promise<void> {
    const exposed = (await this.fleet.status()).flatMap((a) =>
      a.container && !a.container.sandboxed ? [{ name: a.name, runtime: a.container.runtime }] : [],
    );
    const warning = unsandboxedWarning(exposed);
    if (!warning) return;
    this.options.progress(warning);
    this.options.logger.warn({ event: 'agents_unsandboxed', agents: exposed.map((a) => a.name) }, warning);
  }

  /** Firewalls the host where the runtime can, and says plainly when it cannot. */
  private async isolateHost(): Promise<void> {
    const ports = [this.agentApiUrl, this.egressUrl].map((url) => Number(new URL(url).port));
    this.hostIsolation = (await this.options.runtime.isolateHost?.(ports)) ?? null;
    if (!this.hostIsolation) return;
    const { enforced, detail } = this.hostIsolation;
    if (enforced) {
      this.options.progress(`host isolation: ${detail}`);
      this.options.logger.info({ event: 'host_isolated', detail }, 'host isolated');
    } else {
      this.options.progress(`warning: ${detail}`);
      this.options.logger.warn({ event: 'host_isolation_missing', detail }, 'host ports are reachable from agents');
    }
  }

  /** Removes the host firewall rules of this mesh; a failure is logged, never thrown, so stop always finishes. */
  private async releaseHost(): Promise<void> {
    try {
      await this.options.runtime.releaseHost?.();
    } catch (err) {
      this.options.logger.error(
        { event: 'host_release_failed', err },
        'could not remove the host firewall rules; see `iptables -S LEGION-HOST`',
      );
    }
  }

  private buildAdmin(adminToken: string): FastifyInstance {
    const loggerInstance: FastifyBaseLogger = this.options.logger.child({ api: 'admin' });
    const app = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }) });
    installErrorHandler(app);
    // Webhooks answer to their own secrets, never to the admin token: outside the admin scope.
    void app.register(this.openDomains.registerIngressRoutes);
    // The dashboard has its own sessions; the admin token stays inside the mesh.
    void app.register(dashboardRoutes, this.dashboardOptions(app, adminToken));
    void app.register(async (scope) => this.registerAdminRoutes(scope, adminToken));
    return app;
  }

  /** Everything on the admin listener but ingress and the dashboard, behind the admin token. */
  private registerAdminRoutes(app: FastifyInstance, adminToken: string): void {
    requireAdminToken(app, adminToken);
    app.get('/api/status', async (): Promise<MeshStatus> => this.status());
    app.post('/api/shutdown', async (_request, reply) => {
      setImmediate(() => this.options.onShutdownRequested());
      return reply.status(202).send({ stopping: true });
    });
    const { events, pubsub } = this.domains;
    void app.register(agentAdminRoutes, {
      fleet: this.fleet,
      chats: this.domains.lanes.chats,
      store: this.store,
      events,
      onRemoved: (name) => {
        pubsub.forget(name);
        this.syncSubscriptions();
      },
      onAdded: () => {
        // Rules written just before the add (legion agent add --template) may not have
        // reached the debounced file watcher yet; the new agent's subscriptions need them.
        this.domains.permissions.reloadNow();
        this.syncSubscriptions();
      },
    });
    void app.register(this.openDomains.registerAdminRoutes);
    void app.register(dashboardAdminRoutes, {
      access: this.dashboard,
      events,
      origin: () => dashboardOrigin(this.adminAddress.host, this.adminAddress.port),
    });
  }

  private dashboardOptions(app: FastifyInstance, adminToken: string): DashboardRoutesOptions {
    return {
      access: this.dashboard,
      assets: this.dashboardAssets,
      address: () => this.adminAddress,
      forward: async (method, url, body) => {
        const json = body !== undefined && body !== null;
        const headers = {
          authorization: `Bearer ${adminToken}`,
          ...(json ? { 'content-type': 'application/json' } : {}),
        };
        const answer = await app.inject({ method, url, headers, ...(json ? { payload: JSON.stringify(body) } : {}) });
        return {
          status: answer.statusCode,
          contentType: String(answer.headers['content-type'] ?? 'application/json; charset=utf-8'),
          body: answer.body,
        };
      },
      stream: async (url, body, signal) =>
        fetch(`${dashboardOrigin(this.adminAddress.host, this.adminAddress.port)}${url}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body ?? {}),
          signal,
        }),
      live: {
        events: this.domains.events,
        snapshot: async () => ({
          agents: await this.fleet.status(),
          costs: this.domains.costs.report({ period: 'today' }),
        }),
      },
    };
  }

  /** Where senders reach hooks: webhooks.public_url, else the public webhook listener, else the admin API. */
  private webhookBaseUrl(): string {
    const configured = this.store.get().mesh.webhooks?.public_url;
    return configured ? configured.replace(/\/+$/, '') : (this.publicWebhooks?.url ?? this.adminUrl);
  }

  private buildAgentApi(proxy: ReturnType<typeof createLlmProxy>, embeddings: EmbeddingsProxy): FastifyInstance {
    const loggerInstance: FastifyBaseLogger = this.options.logger.child({ api: 'agent' });
    const app = Fastify({
      loggerInstance,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: 8 * 1024 * 1024,
    });
    installErrorHandler(app);
    const { events, permissions, blackboard } = this.domains;
    void app.register(async (scope) => {
      requireAgentToken(scope, this.tokens);
      await scope.register(agentSelfRoutes, {
        store: this.store,
        fleet: this.fleet,
        subAgent: (name) => this.domains.subagents.launchSpec(name),
      });
      await scope.register(async (llmScope) => {
        llmScope.addHook('preHandler', async (request) =>
          assertAllowed(permissions, events, { agent: request.agentName, trace: request.trace }, 'allowed_apis', 'llm'),
        );
        await llmScope.register(llmRoutes, {
          proxy,
          metering: this.domains.costs,
          defaultModelFor: (agent: string) =>
            this.domains.subagents.launchSpec(agent)?.entry.model ?? agentModel(this.store.get(), agent),
          // A sub-agent calls with its parent's settings.
          settingsFor: (agent: string) => agentLlmSettings(this.store.get(), budgetOwner(agent)),
          observe: (agent, messages, response) => this.domains.subagents.observeLlm(agent, messages, response),
        });
        await llmScope.register(embeddingsRoutes, {
          embeddings,
          metering: this.domains.costs,
          embeddingModel: () => this.store.get().mesh.llm.embedding_model,
        });
      });
      await scope.register(artifactRoutes, { store: blackboard, events });
      const credentials = new CredentialStore(() => this.store.get().env);
      await scope.register(httpAgentRoutes, { credentials, permissions, events, destinations: this.destinations });
      await scope.register(searchAgentRoutes, {
        config: () => this.store.get().mesh.search,
        permissions,
        events,
        costs: this.domains.costs,
        limiter: new SearchRateLimiter(),
        secret: (name) => credentials.secret(name),
        scrubber: () => credentials.scrubber(),
      });
      await scope.register(browserAgentRoutes, { permissions, events });
      await scope.register(this.openDomains.registerAgentRoutes);
    });
    return app;
  }

  async status(): Promise<MeshStatus> {
    return {
      mesh: {
        pid: process.pid,
        version: LEGION_VERSION,
        started_at: this.startedAt,
        project_dir: this.store.get().dir,
        admin_url: this.adminUrl,
        agent_api_url: this.agentApiUrl,
      },
      ready: this.ready,
      permissions: this.domains.permissions.status(),
      config: this.reloader?.status() ?? { last_error: null, pending_restart: [], loaded_at: this.startedAt },
      egress: { proxy_url: this.egressUrl, host_isolation: this.hostIsolation },
      agents: (await this.fleet.status()).map((agent) => {
        const subagents = this.domains.subagents.statusOf(agent.name);
        return subagents.length > 0 ? { ...agent, subagents } : agent;
      }),
      mcp: this.domains.mcp.status(),
    };
  }

  /** Stops every agent, closes both listeners, removes the state files. Idempotent. */
  async stop(): Promise<void> {
    this.ready = false;
    this.reloader?.close();
    this.reloader = null;
    this.health.stop();
    // Sub-agents first: each run removes its own container and volume as it ends.
    await this.assembly?.api.subagents.endAll('the mesh is stopping');
    await this.fleet.stopAll();
    // With every container gone the firewall rules guard nothing: removed while the listeners close.
    await Promise.all([
      this.agentApi?.close(),
      this.admin?.close(),
      this.egress?.close(),
      this.publicWebhooks?.close(),
      this.releaseHost(),
    ]);
    this.egress = null;
    this.publicWebhooks = null;
    this.agentApi = null;
    this.admin = null;
    await this.assembly?.close();
    this.assembly = null;
    const paths = statePaths(this.store.get().dir);
    for (const file of [paths.meshInfo, paths.adminToken, paths.pid]) {
      if (existsSync(file)) rmSync(file);
    }
    this.options.logger.info({ event: 'mesh_stopped' }, 'mesh stopped');
  }
}

async function listen(app: FastifyInstance, host: string, port: number, what: string): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
    if (code === 'EADDRINUSE') {
      throw new LegionError(
        'port_in_use',
        `port ${port} on ${host} is taken (another legion mesh or another program); stop that, or set mesh.port in config/mesh.yaml`,
      );
    }
    if (code === 'EADDRNOTAVAIL') {
      throw new LegionError(
        'address_unavailable',
        `cannot listen for the ${what} on ${host}: no such address on this machine`,
      );
    }
    throw err;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host}:${actualPort}`;
}

// The CLI's only way to reach a running mesh: the admin API, with the token from
// .legion/admin.token. Every failure is a LegionError a person can act on.
import { isProjectDir, PROJECT_FILES } from '../shared/config/project-files.js';
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { LegionError, ErrorResponseSchema, receivedError } from '../shared/errors.js';
import { readMeshInfo, statePaths } from '../shared/state.js';
import { readSse } from '../shared/sse.js';
import { ChatEventSchema, ResetResponseSchema, type ChatEvent, type ResetResponse } from '../shared/wire/chat.js';
import { MeshStatusSchema, type AddAgentRequest, type MeshStatus } from '../shared/wire/admin.js';
import { CorrectionResponseSchema, type CorrectionResponse } from '../shared/wire/learnings.js';
import { HistoryPageSchema, type HistoryPage } from '../shared/wire/history.js';
import {
  RunListSchema,
  RunViewSchema,
  TransitionListSchema,
  WorkflowListSchema,
  type RunView,
} from '../shared/wire/workflow.js';

export function notRunning(projectDir: string): LegionError {
  if (!isProjectDir(projectDir)) {
    return new LegionError(
      'not_a_project',
      `${projectDir} is not a legion project (no ${PROJECT_FILES.mesh}): run this in a project directory, or make this one a project with \`legion setup\``,
    );
  }
  return new LegionError(
    'mesh_not_running',
    `the legion mesh is not running in ${projectDir}; start it with \`legion start\` (or \`legion start -d\` in the background)`,
  );
}

export class MeshClient {
  readonly baseUrl: string;
  private readonly token: string;
  /** The project whose mesh this is. */
  readonly projectDir: string;

  constructor(baseUrl: string, token: string, projectDir: string) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.projectDir = projectDir;
  }

  /** A client for the mesh of `projectDir`, or null when its state files are absent. */
  static find(projectDir: string): MeshClient | null {
    const info = readMeshInfo(projectDir);
    const tokenPath = statePaths(projectDir).adminToken;
    if (!info || !existsSync(tokenPath)) return null;
    return new MeshClient(info.admin_url, readFileSync(tokenPath, 'utf8').trim(), projectDir);
  }

  static connect(projectDir: string): MeshClient {
    const client = MeshClient.find(projectDir);
    if (!client) throw notRunning(projectDir);
    return client;
  }

  /** One admin API call whose JSON answer is validated with `schema`. */
  async requestJson<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    const response = await this.request(method, path, body, signal);
    return schema.parse(await response.json());
  }

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw notRunning(this.projectDir);
    }
    if (!response.ok) {
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: reported below as text
      }
      const error = ErrorResponseSchema.safeParse(parsed);
      if (error.success) throw receivedError(error.data.error, 'mesh_error');
      throw new LegionError('mesh_error', `the mesh answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return response;
  }

  async status(): Promise<MeshStatus> {
    return MeshStatusSchema.parse(await (await this.request('GET', '/api/status')).json());
  }

  /** True when the mesh answers at all. */
  async alive(): Promise<boolean> {
    try {
      await this.status();
      return true;
    } catch {
      return false;
    }
  }

  /** Streams a chat turn; `onEvent` sees every event; resolves with the last one (done or error). */
  async chat(
    agent: string,
    message: string,
    onEvent: (event: ChatEvent) => void,
    signal?: AbortSignal,
  ): Promise<ChatEvent> {
    const response = await this.request('POST', `/api/agents/${encodeURIComponent(agent)}/chat`, { message }, signal);
    if (!response.body) throw new LegionError('mesh_error', 'the mesh sent no chat stream');
    let last: ChatEvent | null = null;
    let delivered = 0;
    try {
      for await (const raw of readSse(response.body)) {
        const event = ChatEventSchema.safeParse(raw);
        if (!event.success) continue;
        onEvent(event.data);
        if (event.data.type === 'token') delivered += event.data.text.length;
        if (event.data.type === 'done' || event.data.type === 'error') last = event.data;
      }
    } catch (err) {
      // The person's own abort (Ctrl-C) is not news to them.
      if (signal?.aborted) throw err;
      // The connection broke (undici says only "terminated"): the mesh went away mid-reply.
    }
    if (last) return last;
    const partial =
      delivered > 0
        ? `the ${delivered} characters of the reply printed above were delivered, the rest was not: the reply was not finished`
        : 'nothing of the reply was delivered';
    return {
      type: 'error',
      error: {
        code: 'mesh_stopped',
        message: `the mesh stopped during ${agent}'s reply: ${partial}. Start it again with \`legion start\` (the agent's session and memory are kept) and send the message again`,
      },
    };
  }

  /** A page of `agent`'s turns, newest first; `before` is the previous page's next_before. */
  async history(agent: string, limit: number, before?: number): Promise<HistoryPage> {
    const query = `limit=${limit}${before === undefined ? '' : `&before=${before}`}`;
    return this.requestJson('GET', `/api/agents/${encodeURIComponent(agent)}/history?${query}`, HistoryPageSchema);
  }

  async reset(agent: string): Promise<ResetResponse> {
    return ResetResponseSchema.parse(
      await (await this.request('POST', `/api/agents/${encodeURIComponent(agent)}/reset`)).json(),
    );
  }

  async correct(agent: string, text: string): Promise<CorrectionResponse> {
    return this.requestJson('POST', `/api/agents/${encodeURIComponent(agent)}/correct`, CorrectionResponseSchema, {
      text,
    });
  }

  async addAgent(agent: AddAgentRequest): Promise<void> {
    await this.request('POST', '/api/agents', agent);
  }

  async removeAgent(name: string): Promise<void> {
    await this.request('DELETE', `/api/agents/${encodeURIComponent(name)}`);
  }

  async shutdown(): Promise<void> {
    await this.request('POST', '/api/shutdown');
  }

  async listWorkflows(): Promise<z.output<typeof WorkflowListSchema>> {
    return this.requestJson('GET', '/api/workflows', WorkflowListSchema);
  }

  /** Starts a run of workflow `name`; `input` is its trigger.payload. */
  async startWorkflowRun(name: string, input: unknown): Promise<RunView> {
    return this.requestJson(
      'POST',
      `/api/workflows/${encodeURIComponent(name)}/runs`,
      RunViewSchema,
      input === undefined ? {} : { input },
    );
  }

  /** Recent runs, newest first. */
  async listWorkflowRuns(limit: number): Promise<z.output<typeof RunListSchema>> {
    return this.requestJson('GET', `/api/workflow-runs?limit=${limit}`, RunListSchema);
  }

  async workflowRun(id: string): Promise<RunView> {
    return this.requestJson('GET', `/api/workflow-runs/${encodeURIComponent(id)}`, RunViewSchema);
  }

  /** The run's transitions with seq > `after`, in order, and the run's status now. */
  async workflowTransitions(
    id: string,
    after: number,
    signal?: AbortSignal,
  ): Promise<z.output<typeof TransitionListSchema>> {
    return this.requestJson(
      'GET',
      `/api/workflow-runs/${encodeURIComponent(id)}/transitions?after=${after}`,
      TransitionListSchema,
      undefined,
      signal,
    );
  }

  async cancelWorkflowRun(id: string): Promise<RunView> {
    return this.requestJson('POST', `/api/workflow-runs/${encodeURIComponent(id)}/cancel`, RunViewSchema);
  }
}

// The CLI's only way to reach a running mesh: the admin API, with the token from
// .legion/admin.token. Every failure is a LegionError a person can act on. Answer
// schemas load when their call is made, so `legion chat -m` loads no zod (about
// 100 ms); its events are read by chat-event.ts.
import { isProjectDir, PROJECT_FILES } from '../shared/config/project-files.js';
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';
import { LegionError, receivedError } from '../shared/errors.js';
import { readMeshInfo, statePaths } from '../shared/state.js';
import { readSse } from '../shared/sse.js';
import type { ChatEvent, ResetResponse } from '../shared/wire/chat.js';
import type { AddAgentRequest, MeshStatus } from '../shared/wire/admin.js';
import type { CorrectionResponse } from '../shared/wire/learnings.js';
import type { HistoryPage } from '../shared/wire/history.js';
import type { RunList, RunView, TransitionList, WorkflowList } from '../shared/wire/workflow.js';
import { readChatEvent } from './chat-event.js';
import { send, type HttpAnswer } from './http.js';

const workflowWire = () => import('../shared/wire/workflow.js');

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

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<HttpAnswer> {
    let response: HttpAnswer;
    try {
      response = await send(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
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
      const { ErrorResponseSchema } = await import('../shared/wire/error.js');
      const error = ErrorResponseSchema.safeParse(parsed);
      if (error.success) throw receivedError(error.data.error, 'mesh_error');
      throw new LegionError('mesh_error', `the mesh answered ${response.status}: ${text.slice(0, 300)}`);
    }
    return response;
  }

  /** A call whose answer only matters for its status. The body is read all the same: an
   *  answer left unread holds its connection open, and the CLI would never exit. */
  private async requestDone(method: string, path: string, body?: unknown): Promise<void> {
    await (await this.request(method, path, body)).text();
  }

  async status(): Promise<MeshStatus> {
    const { MeshStatusSchema } = await import('../shared/wire/admin.js');
    return this.requestJson('GET', '/api/status', MeshStatusSchema);
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
    let last: ChatEvent | null = null;
    let delivered = 0;
    try {
      for await (const raw of readSse(response.body)) {
        const event = readChatEvent(raw);
        if (!event) continue;
        onEvent(event);
        if (event.type === 'token') delivered += event.text.length;
        if (event.type === 'done' || event.type === 'error') last = event;
      }
    } catch (err) {
      // The person's own abort (Ctrl-C) is not news to them.
      if (signal?.aborted) throw err;
      // The connection broke: the mesh went away mid-reply.
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
    const { HistoryPageSchema } = await import('../shared/wire/history.js');
    return this.requestJson('GET', `/api/agents/${encodeURIComponent(agent)}/history?${query}`, HistoryPageSchema);
  }

  async reset(agent: string): Promise<ResetResponse> {
    const { ResetResponseSchema } = await import('../shared/wire/chat.js');
    return this.requestJson('POST', `/api/agents/${encodeURIComponent(agent)}/reset`, ResetResponseSchema);
  }

  async correct(agent: string, text: string): Promise<CorrectionResponse> {
    const { CorrectionResponseSchema } = await import('../shared/wire/learnings.js');
    return this.requestJson('POST', `/api/agents/${encodeURIComponent(agent)}/correct`, CorrectionResponseSchema, {
      text,
    });
  }

  async addAgent(agent: AddAgentRequest): Promise<void> {
    await this.requestDone('POST', '/api/agents', agent);
  }

  async removeAgent(name: string): Promise<void> {
    await this.requestDone('DELETE', `/api/agents/${encodeURIComponent(name)}`);
  }

  async shutdown(): Promise<void> {
    await this.requestDone('POST', '/api/shutdown');
  }

  async listWorkflows(): Promise<WorkflowList> {
    return this.requestJson('GET', '/api/workflows', (await workflowWire()).WorkflowListSchema);
  }

  /** Starts a run of workflow `name`; `input` is its trigger.payload. */
  async startWorkflowRun(name: string, input: unknown): Promise<RunView> {
    return this.requestJson(
      'POST',
      `/api/workflows/${encodeURIComponent(name)}/runs`,
      (await workflowWire()).RunViewSchema,
      input === undefined ? {} : { input },
    );
  }

  /** Recent runs, newest first. */
  async listWorkflowRuns(limit: number): Promise<RunList> {
    return this.requestJson('GET', `/api/workflow-runs?limit=${limit}`, (await workflowWire()).RunListSchema);
  }

  async workflowRun(id: string): Promise<RunView> {
    return this.requestJson(
      'GET',
      `/api/workflow-runs/${encodeURIComponent(id)}`,
      (await workflowWire()).RunViewSchema,
    );
  }

  /** The run's transitions with seq > `after`, in order, and the run's status now. */
  async workflowTransitions(id: string, after: number, signal?: AbortSignal): Promise<TransitionList> {
    return this.requestJson(
      'GET',
      `/api/workflow-runs/${encodeURIComponent(id)}/transitions?after=${after}`,
      (await workflowWire()).TransitionListSchema,
      undefined,
      signal,
    );
  }

  async cancelWorkflowRun(id: string): Promise<RunView> {
    return this.requestJson(
      'POST',
      `/api/workflow-runs/${encodeURIComponent(id)}/cancel`,
      (await workflowWire()).RunViewSchema,
    );
  }
}

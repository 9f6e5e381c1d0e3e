// The orchestrator over a real mesh.db in a temp dir, with the test in the task
// delivery's place (it claims the lane items and reports hand-overs and results through
// the same TaskSteps calls the delivery makes): failed hand-overs, stale results, full
// lanes, and what a restart (a new orchestrator on the same database) resumes from the
// rows: retry backoffs, step timeouts, run deadlines, lost hand-overs and an on_complete
// publish that did not go out.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMeshDb, type Db } from '../../../src/mesh/db.js';
import { EventLog, eventsMigrations } from '../../../src/mesh/events/log.js';
import { LaneStore, lanesMigrations, type LaneItem } from '../../../src/mesh/lanes/store.js';
import { BlackboardStore, blackboardMigrations } from '../../../src/mesh/blackboard/store.js';
import { PermissionMatrix } from '../../../src/mesh/permissions/matrix.js';
import { WorkflowDefinitions } from '../../../src/mesh/workflows/definitions.js';
import { loadWorkflows } from '../../../src/shared/config/workflows/load.js';
import { Orchestrator } from '../../../src/mesh/workflows/orchestrator.js';
import { WorkflowStore, workflowsMigrations } from '../../../src/mesh/workflows/store.js';
import { TaskItemBodySchema, type TaskItemBody } from '../../../src/mesh/workflows/task-delivery.js';
import { createLogger } from '../../../src/shared/logging.js';
import type { JsonValue } from '../../../src/shared/wire/blackboard.js';
import type { TaskResult } from '../../../src/shared/wire/task.js';
import type { RunView } from '../../../src/shared/wire/workflow.js';

const logger = createLogger({}, { write: () => undefined });
const AGENTS = { alpha: { role: 'worker' } };

const FILES: Record<string, string> = {
  'retrying.yaml':
    'name: retrying\nsteps:\n  - { id: s, agent: alpha, task_type: t, retry: { max: 1, backoff_s: 0.2 } }\n',
  'single.yaml':
    'name: single\non_complete: { publish: single_done }\nsteps:\n  - { id: s, agent: alpha, task_type: t }\n',
  'brief.yaml': 'name: brief\ntimeout: 0.5\nsteps:\n  - { id: s, agent: alpha, task_type: t }\n',
  'timed.yaml': 'name: timed\nsteps:\n  - { id: s, agent: alpha, task_type: t, timeout: 0.5, on_failure: continue }\n',
};

let dir: string;
let db: Db;
let lanes: LaneStore;
let permissions: PermissionMatrix;
let orchestrator: Orchestrator;
let published: { publisher: string; topic: string; payload: JsonValue }[];
let cancelled: string[];
let failPublish: boolean;

function startOrchestrator(laneCap = 20): Orchestrator {
  const events = new EventLog(db, logger);
  lanes = new LaneStore(db, () => laneCap);
  const definitions = new WorkflowDefinitions({
    initial: loadWorkflows(dir, AGENTS),
    projectDir: dir,
    agents: () => AGENTS,
    events,
    logger,
  });
  return new Orchestrator({
    db,
    store: new WorkflowStore(db, events),
    definitions,
    lanes,
    blackboard: new BlackboardStore(db),
    permissions,
    events,
    logger,
    agents: () => AGENTS,
    publish: (publisher, topic, payload) => {
      if (failPublish) throw new Error('the pub/sub is down');
      published.push({ publisher, topic, payload });
    },
    onEnqueued: () => undefined,
    cancelTask: async (_agent, taskId) => void cancelled.push(taskId),
    random: () => 0.5,
  });
}

/** A mesh restart: the old orchestrator's timers stop, a new one resumes from the rows. */
function restart(): void {
  orchestrator.stop();
  orchestrator = startOrchestrator();
  orchestrator.resume();
}

function claim(): { item: LaneItem; body: TaskItemBody } {
  const item = lanes.claimNext('alpha');
  if (!item) throw new Error('nothing on the lane of alpha');
  return { item, body: TaskItemBodySchema.parse(item.body) };
}

function result(body: TaskItemBody, status: TaskResult['status'], output: JsonValue = null): TaskResult {
  return {
    task_id: body.request.task_id,
    status,
    output,
    ...(status === 'done' ? {} : { error: { code: status, message: `the task ${status}` } }),
    usage: { prompt_tokens: 1, completion_tokens: 1 },
    started_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
  };
}

/** What the delivery does for a task that finishes: hand over, report, free the lane. */
function deliver(
  claimed: { item: LaneItem; body: TaskItemBody },
  status: TaskResult['status'],
  output: JsonValue = null,
): void {
  orchestrator.handedOver(claimed.body);
  orchestrator.finished(claimed.body, result(claimed.body, status, output));
  lanes.complete(claimed.item.id, status);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (run: RunView) => run.steps[0];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legion-orchestrator-'));
  mkdirSync(join(dir, 'config', 'workflows'), { recursive: true });
  for (const [file, yaml] of Object.entries(FILES)) writeFileSync(join(dir, 'config', 'workflows', file), yaml);
  db = openMeshDb(join(dir, 'mesh.db'), [
    ...eventsMigrations,
    ...lanesMigrations,
    ...blackboardMigrations,
    ...workflowsMigrations,
  ]);
  permissions = new PermissionMatrix({ projectDir: dir, events: new EventLog(db, logger), logger });
  permissions.load();
  published = [];
  cancelled = [];
  failPublish = false;
  orchestrator = startOrchestrator();
});

afterEach(() => {
  orchestrator.stop();
  permissions.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Orchestrator', () => {
  it('counts a hand-over the dispatcher gave up on as a failed attempt, and retries it from the stored backoff after a restart', async () => {
    const run = orchestrator.startManual('retrying', null);
    const first = claim();
    // As the dispatcher does once its hand-overs are spent: the item fails, then the hook.
    lanes.fail(first.item.id, 'agent alpha did not answer');
    orchestrator.handOverFailed(first.item, 'agent alpha did not answer');
    expect(step(orchestrator.view(run.id))).toMatchObject({
      status: 'retrying',
      attempt: 1,
      error: `could not hand task ${run.id}.s.1 to alpha: agent alpha did not answer`,
    });
    restart();
    expect(lanes.claimNext('alpha')).toBeNull();
    await sleep(350);
    const second = claim();
    expect(second.body).toMatchObject({ attempt: 2, request: { task_id: `${run.id}.s.2` } });
    deliver(second, 'done', 'fine');
    expect(orchestrator.view(run.id)).toMatchObject({
      status: 'done',
      steps: [{ status: 'done', attempt: 2, result: 'fine' }],
    });
  });

  it('ignores a result that belongs to an attempt no longer current', () => {
    const run = orchestrator.startManual('retrying', null);
    const first = claim();
    deliver(first, 'failed');
    expect(step(orchestrator.view(run.id))?.status).toBe('retrying');
    orchestrator.finished(first.body, result(first.body, 'done', 'late'));
    expect(step(orchestrator.view(run.id))).toMatchObject({ status: 'retrying', result: null });
  });

  it('fails an attempt that cannot be queued because the lane is full, with the lane’s reason', () => {
    orchestrator.stop();
    orchestrator = startOrchestrator(1);
    lanes.enqueue('alpha', 'message', { message_id: 'm', from: 'operator', message: 'busy' }, null);
    const run = orchestrator.startManual('single', null);
    expect(orchestrator.view(run.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^step s failed: the lane of agent alpha is full/),
    });
  });

  it('fails, at restart, an attempt whose lane item was failed while the mesh was down', () => {
    const run = orchestrator.startManual('single', null);
    const { item } = claim();
    lanes.fail(item.id, 'gave up after 5 hand-overs');
    restart();
    expect(orchestrator.view(run.id)).toMatchObject({
      status: 'failed',
      steps: [{ status: 'failed', error: expect.stringContaining('gave up after 5 hand-overs') }],
    });
  });

  it('times out, at restart, a run whose deadline passed while the mesh was down; its queued item never goes out', async () => {
    const run = orchestrator.startManual('brief', null);
    orchestrator.stop();
    await sleep(600);
    restart();
    expect(orchestrator.view(run.id)).toMatchObject({
      status: 'timeout',
      error: 'the run took longer than its timeout (0.5 s)',
      steps: [{ status: 'cancelled' }],
    });
    expect(lanes.claimNext('alpha')).toBeNull();
  });

  it("re-arms a running step's timeout from when its attempt started, and cancels the agent's task", async () => {
    const run = orchestrator.startManual('timed', null);
    const claimed = claim();
    orchestrator.handedOver(claimed.body);
    restart();
    await sleep(700);
    expect(orchestrator.view(run.id)).toMatchObject({
      status: 'done',
      steps: [{ status: 'failed', error: 'timed out after 0.5 s' }],
    });
    expect(cancelled).toEqual([`${run.id}.s.1`]);
  });

  it('publishes on_complete once; a publish that failed goes out at the next start', () => {
    failPublish = true;
    const run = orchestrator.startManual('single', null);
    deliver(claim(), 'done', '{"n": 1}');
    expect(orchestrator.view(run.id).status).toBe('done');
    expect(published).toEqual([]);
    failPublish = false;
    restart();
    expect(published).toEqual([
      {
        publisher: 'workflow:single',
        topic: 'single_done',
        payload: { run_id: run.id, workflow: 'single', status: 'done', results: { s: { n: 1 } } },
      },
    ]);
    restart();
    expect(published).toHaveLength(1);
  });
});

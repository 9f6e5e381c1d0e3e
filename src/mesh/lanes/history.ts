// A lane item as a turn of its agent's history: where it came from, what the agent was
// asked, how it ended. Pure, so every kind's reading is unit-tested. Invariants: a body
// that does not fit its kind's shape (an item stored by an older mesh) gives a null
// input and source rather than an error, so one odd row never hides the others; a
// failure whose code says the turn was cut short reads as interrupted.
import { z } from 'zod';
import { ChannelItemBodySchema } from '../../shared/wire/channels.js';
import type { HistoryTurn, TurnState } from '../../shared/wire/history.js';
import { CHAT_CANCELLED_CODE } from './chat-turns.js';
import { EventBodySchema, MessageBodySchema, TriggerBodySchema } from './format.js';
import { MESH_STOPPED_CODE, type LaneHistoryRow, type LaneStatus } from './store.js';

const ChatBodySchema = z.object({ message: z.string() });
/** The part of a workflow task item the history shows (the full shape is the workflows domain's). */
const TaskBodySchema = z.object({
  run_id: z.string(),
  step_id: z.string(),
  request: z.object({ task_type: z.string(), input: z.unknown() }),
});

const INTERRUPTED_CODES = new Set([CHAT_CANCELLED_CODE, MESH_STOPPED_CODE, 'chat_abandoned']);

interface Asked {
  source: string | null;
  input: string | null;
}

const UNREADABLE: Asked = { source: null, input: null };

function json(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A trigger's source without its kind repeated ("webhook github" is a webhook from "github"). */
function triggerSource(kind: string, source: string): string {
  return source.startsWith(`${kind} `) ? source.slice(kind.length + 1) : source;
}

function asked(row: LaneHistoryRow): Asked {
  switch (row.kind) {
    case 'chat': {
      const body = ChatBodySchema.safeParse(row.body);
      return { source: null, input: body.success ? body.data.message : null };
    }
    case 'channel': {
      const body = ChannelItemBodySchema.safeParse(row.body);
      return body.success
        ? { source: `${body.data.platform} user ${body.data.user_id}`, input: body.data.text }
        : UNREADABLE;
    }
    case 'event': {
      const body = EventBodySchema.safeParse(row.body);
      return body.success
        ? { source: `${body.data.topic} from ${body.data.publisher}`, input: json(body.data.payload) }
        : UNREADABLE;
    }
    case 'message': {
      const body = MessageBodySchema.safeParse(row.body);
      return body.success ? { source: `from ${body.data.from}`, input: body.data.message } : UNREADABLE;
    }
    case 'task': {
      const body = TaskBodySchema.safeParse(row.body);
      if (!body.success) return UNREADABLE;
      const { run_id, step_id, request } = body.data;
      return { source: `run ${run_id} step ${step_id} (${request.task_type})`, input: json(request.input) };
    }
    case 'cron': {
      // A cron job's title names it: "job cron_… (every 5m)".
      const body = TriggerBodySchema.safeParse(row.body);
      return body.success ? { source: body.data.title, input: body.data.text } : UNREADABLE;
    }
    case 'watcher': {
      const body = TriggerBodySchema.safeParse(row.body);
      return body.success
        ? { source: `${triggerSource(row.kind, body.data.source)}: ${body.data.title}`, input: body.data.text }
        : UNREADABLE;
    }
    case 'heartbeat':
    case 'webhook': {
      const body = TriggerBodySchema.safeParse(row.body);
      return body.success ? { source: triggerSource(row.kind, body.data.source), input: body.data.text } : UNREADABLE;
    }
  }
}

export function turnState(status: LaneStatus, errorCode: string | null): TurnState {
  if (status === 'queued') return 'queued';
  if (status === 'inflight') return 'running';
  if (status === 'done') return 'done';
  return errorCode !== null && INTERRUPTED_CODES.has(errorCode) ? 'interrupted' : 'failed';
}

export function historyTurn(row: LaneHistoryRow): HistoryTurn {
  const { source, input } = asked(row);
  return {
    id: row.id,
    origin: { kind: row.kind, source },
    input,
    reply: row.reply,
    state: turnState(row.status, row.error_code),
    error: row.last_error,
    attempts: row.attempts,
    created_at: row.created_at,
    finished_at: row.finished_at,
  };
}

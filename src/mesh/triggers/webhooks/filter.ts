// A hook's filters: its event types (`--events`) and its condition (`--filter`), written
// in the workflows' condition language over the paths `payload…`, `event` and
// `delivery`. Invariants: a filter is parsed when the hook is added, so a stored one
// always parses; a call passes when its event is listed (or no events are) and the
// condition holds (or there is none); the decision is pure.
import { LegionError } from '../../../shared/errors.js';
import {
  parseConditionOver,
  ConditionError,
  type Condition,
  type ConditionPaths,
} from '../../../shared/config/workflows/condition.js';
import { descend, type JsonValue } from '../../../shared/config/workflows/scope.js';
import type { CallIdentity } from './sender.js';

export interface FilteredCall extends CallIdentity {
  payload: JsonValue;
}

const FILTER_PATHS: ConditionPaths<FilteredCall> = {
  problem: (path) => {
    const [root] = path;
    if (root === 'payload') return null;
    if (root === 'event' || root === 'delivery')
      return path.length === 1 ? null : `${root} is the sender's ${root} (a string) and has no fields`;
    return `unknown name "${root ?? ''}" (a webhook filter reads payload, payload.<field>…, event and delivery)`;
  },
  resolve: (call, path) => {
    const [root, ...rest] = path;
    if (root === 'payload') return descend(call.payload, rest);
    return root === 'event' ? call.event : root === 'delivery' ? call.delivery : null;
  },
};

/** Throws LegionError filter_invalid naming the problem and its column. */
export function parseWebhookFilter(text: string): Condition<FilteredCall> {
  try {
    return parseConditionOver(text, FILTER_PATHS);
  } catch (err) {
    if (err instanceof ConditionError)
      throw new LegionError('filter_invalid', `filter ${JSON.stringify(text)}: ${err.message}`);
    throw err;
  }
}

export type FilterDecision = { pass: true } | { pass: false; reason: string };

export function filterCall(
  hook: { events: string[] | null; filter: string | null },
  call: FilteredCall,
): FilterDecision {
  if (hook.events !== null && (call.event === null || !hook.events.includes(call.event))) {
    return { pass: false, reason: `event ${call.event ?? '(none)'} is not one of ${hook.events.join(', ')}` };
  }
  if (hook.filter !== null && !parseWebhookFilter(hook.filter).evaluate(call))
    return { pass: false, reason: `the filter ${hook.filter} is false` };
  return { pass: true };
}

// The `promote` tool, offered only in task runs: the model asks for a value to be put
// on the blackboard, and the task's result reports it. Invariants: nothing is written
// by the agent (the mesh decides, and writes under its own permission check); a key
// and a value are checked with the blackboard's own rules, so a reported promotion is
// one the mesh can store; promoting a key again replaces its earlier value, keeping
// the first position, so the list never holds two values for one key.
import { z } from 'zod';
import { BlackboardKeySchema, measureBlackboardValue } from '../../shared/wire/blackboard.js';
import type { TaskPromotion } from '../../shared/wire/task.js';
import { defineTool, type Tool } from '../tools/registry.js';
import type { Json } from './output.js';

export const PROMOTE_TOOL = 'promote';

export class Promotions {
  private readonly values = new Map<string, Json>();

  readonly tool: Tool = defineTool({
    name: PROMOTE_TOOL,
    description:
      'Ask for a JSON value to be put on the shared blackboard under a key (for example context/acme) when this task succeeds. ' +
      'The task result reports it; the mesh decides whether to write it. Promoting a key again replaces the value.',
    schema: z.strictObject({ key: BlackboardKeySchema, value: z.unknown().describe('any JSON value') }),
    run: async ({ key, value }) => {
      // Tool arguments come from JSON.parse, so a present value is JSON.
      const json: Json = value === undefined ? null : (value as Json);
      const measured = measureBlackboardValue(json);
      if ('problem' in measured) return { ok: false, output: `cannot promote ${key}: ${measured.problem}` };
      const replaced = this.values.has(key);
      this.values.set(key, json);
      return {
        ok: true,
        output: `${replaced ? 'replaced' : 'recorded'} the promotion of ${key} (${measured.bytes} bytes); it is reported with the task result`,
      };
    },
  });

  list(): TaskPromotion[] {
    return [...this.values].map(([key, value]) => ({ key, value }));
  }
}

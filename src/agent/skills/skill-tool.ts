// A skill's tool module as a tool the model calls like any other: its own name,
// description and JSON Schema; the arguments are checked against the schema (ajv), then
// the module runs in a child process per call (skill-runner.ts). Invariants: run never
// throws; a failing module is an { ok: false } result naming the tool and the reason.
import { z } from 'zod';
import type { Json } from '../task/output.js';
import type { Tool } from '../tools/registry.js';
import type { SkillToolSpec } from './module-exports.js';
import { callModuleHost, capOutput } from './skill-runner.js';

const ArgsSchema = z.record(z.string(), z.unknown());

export function skillTool(skill: string, modulePath: string, spec: SkillToolSpec): Tool<typeof ArgsSchema> {
  return {
    name: spec.name,
    description: `${spec.description} (tool of skill ${skill})`,
    parameters: spec.parameters,
    schema: ArgsSchema,
    run: async (args, ctx) => {
      const problems = spec.validator.validate(args as Record<string, Json>);
      if (problems.length > 0) {
        return { ok: false, output: [`arguments for ${spec.name} do not match its schema:`, ...problems].join('\n') };
      }
      const outcome = await callModuleHost({
        request: { mode: 'run', module: modulePath, args },
        workspaceDir: ctx.workspaceDir,
        timeoutMs: spec.timeoutMs,
        signal: ctx.signal,
      });
      if (!outcome.ok) return { ok: false, output: capOutput(`${spec.name} failed: ${outcome.reason}`) };
      const output = 'output' in outcome.answer ? outcome.answer.output : '';
      return { ok: true, output: capOutput(output) };
    },
  };
}

// What the agent and module-host.ts (a skill tool module's child process) say to each
// other: one request on the child's stdin, one answer on its fd 3. What a module
// exports comes back unchecked (module-exports.ts checks it), since it is the
// module's own, possibly wrong, values.
import { z } from 'zod';

export interface HostRequest {
  mode: 'describe' | 'run';
  /** Absolute path of the tool module. */
  module: string;
  args?: Record<string, unknown>;
}

export const HostAnswerSchema = z.union([
  z.strictObject({
    ok: z.literal(true),
    /** name, description, parameters, timeout_s as exported, and `run` as typeof the export (JSON drops what is undefined). */
    exports: z.record(z.string(), z.unknown()),
  }),
  z.strictObject({ ok: z.literal(true), output: z.string() }),
  z.strictObject({ ok: z.literal(false), error: z.string() }),
]);
export type HostAnswer = z.infer<typeof HostAnswerSchema>;

// note_correction: the model's own way to record that the user corrected it, so later
// sessions start with the correction in their system prompt. Invariant: the entry is
// on disk (fsync'd) before the tool reports success.
import { z } from 'zod';
import { CORRECTION_MAX_CHARS } from '../../shared/wire/learnings.js';
import { defineTool } from '../tools/registry.js';
import { recordCorrection } from './store.js';

export const noteCorrectionTool = defineTool({
  name: 'note_correction',
  description:
    'Record a correction the user gave you (something you got wrong, a preference, a rule to follow) in learnings/corrections.md. ' +
    'Your later sessions see recent corrections in their system prompt. Write it as a short, self-contained instruction.',
  schema: z.strictObject({
    text: z.string().trim().min(1, 'expected the correction as text').max(CORRECTION_MAX_CHARS),
  }),
  run: async (args, ctx) => {
    const result = await recordCorrection(ctx.workspaceDir, { time: new Date(), text: args.text, source: 'agent' });
    return {
      ok: true,
      output: `noted in ${result.file} (${result.entries} corrections on file); later sessions will see it`,
    };
  },
});

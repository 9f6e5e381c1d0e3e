// POST /mesh/skills/create on the agent API: the gate create_skill passes before it
// writes anything. Only can_create_skills grants it; a denial is a 403 naming the flag.
import { z } from 'zod';
import { SkillNameSchema } from '../skills/manifest.js';

export const SkillCreateRequestSchema = z.strictObject({
  name: SkillNameSchema,
  /** Whether the skill comes with a tool module (recorded in the event). */
  with_tool: z.boolean(),
});

export const SkillCreateGrantSchema = z.strictObject({ granted: z.literal(true) });

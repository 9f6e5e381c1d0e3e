// Heartbeat over the wire and in agents.yaml: how often an agent's probes run, which
// probes, what a beat recorded, and the agent server's probe report (workspace
// listing, disk use, HEARTBEAT.md) that the mesh reads without an LLM call. Probes are
// written as a bare name or, with parameters, as a one-key object, and come out
// normalized as { probe, ...parameters } so code never parses the YAML shapes again.
import { z } from 'zod';
import { BlackboardPrefixSchema } from './blackboard.js';

const INTERVAL_PATTERN = /^(\d{1,6})\s*(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Intervals run from one second to a little over a year. */
export const INTERVAL_MAX_MS = 366 * UNIT_MS.d;

/** Milliseconds of "30s", "5m", "2h" or "1d"; null for anything else, zero or over a year. */
export function parseInterval(text: string): number | null {
  const match = INTERVAL_PATTERN.exec(text.trim());
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= INTERVAL_MAX_MS ? ms : null;
}

export const IntervalSchema = z
  .string()
  .refine(
    (text) => parseInterval(text) !== null,
    'expected an interval such as 30s, 15m, 2h or 1d (at least 1s, at most 366d)',
  );

export const SIMPLE_PROBES = ['pending_deliveries', 'queued_items', 'workspace_changed', 'heartbeat_rules'] as const;
export type SimpleProbe = (typeof SIMPLE_PROBES)[number];

const PROBE_FORMS = `${SIMPLE_PROBES.join(', ')}, {blackboard_changed: {prefix}} or {disk_usage: {over_percent}}`;

export const ProbeSpecSchema = z.union(
  [
    z.enum(SIMPLE_PROBES),
    z.strictObject({ blackboard_changed: z.strictObject({ prefix: BlackboardPrefixSchema }) }),
    z.strictObject({ disk_usage: z.strictObject({ over_percent: z.number().min(0).max(100) }) }),
  ],
  { error: `expected a probe: ${PROBE_FORMS}` },
);
export type ProbeSpec = z.infer<typeof ProbeSpecSchema>;

export type Probe =
  | { probe: SimpleProbe }
  | { probe: 'blackboard_changed'; prefix: string }
  | { probe: 'disk_usage'; over_percent: number };

export function normalizeProbe(spec: ProbeSpec): Probe {
  if (typeof spec === 'string') return { probe: spec };
  if ('blackboard_changed' in spec) return { probe: 'blackboard_changed', prefix: spec.blackboard_changed.prefix };
  return { probe: 'disk_usage', over_percent: spec.disk_usage.over_percent };
}

/** The YAML form of a probe, for listings and for set_heartbeat's answer. */
export function probeSpec(probe: Probe): ProbeSpec {
  if (probe.probe === 'blackboard_changed') return { blackboard_changed: { prefix: probe.prefix } };
  if (probe.probe === 'disk_usage') return { disk_usage: { over_percent: probe.over_percent } };
  return probe.probe;
}

/** What a heartbeat without `probes` checks: the cheap ones that need no parameter. */
export const DEFAULT_PROBES: readonly Probe[] = [
  { probe: 'pending_deliveries' },
  { probe: 'queued_items' },
  { probe: 'heartbeat_rules' },
];

/** agents.<name>.heartbeat in agents.yaml. */
export const HeartbeatConfigSchema = z.strictObject({
  every: IntervalSchema,
  probes: z
    .array(ProbeSpecSchema)
    .min(1, 'expected at least one probe (or leave probes out for the defaults)')
    .optional(),
});
export type HeartbeatConfig = z.infer<typeof HeartbeatConfigSchema>;

/** Agent tool set_heartbeat: `every: "off"` stops the agent's heartbeat. */
export const HeartbeatSetRequestSchema = z.strictObject({
  every: z.union([z.literal('off'), IntervalSchema], {
    error: 'expected an interval such as 30s, 15m, 2h or 1d, or "off"',
  }),
  probes: z.array(ProbeSpecSchema).min(1).optional(),
});

export const HeartbeatSettingSchema = z.object({
  agent: z.string(),
  /** Interval text, or null when the heartbeat is off. */
  every: z.string().nullable(),
  probes: z.array(ProbeSpecSchema),
  /** Where the setting comes from: agents.yaml, or set_heartbeat (which overrides it). */
  source: z.enum(['config', 'set_heartbeat']),
  next_beat: z.string().nullable(),
});
export type HeartbeatSetting = z.infer<typeof HeartbeatSettingSchema>;

export const ProbeFindingSchema = z.object({ probe: z.string(), fired: z.boolean(), detail: z.string() });
export type ProbeFinding = z.infer<typeof ProbeFindingSchema>;

/**
 * quiet: no probe fired, nobody woken; skipped: not run (reason says why); woken: the
 * agent's wake-up is queued or running; ok: it answered HEARTBEAT_OK (not shown);
 * reported: it answered something else (recorded in the event log); error: the
 * wake-up failed.
 */
export const BeatOutcomeSchema = z.enum(['quiet', 'skipped', 'woken', 'ok', 'reported', 'error']);
export type BeatOutcome = z.infer<typeof BeatOutcomeSchema>;

export const BeatSchema = z.object({
  id: z.string(),
  agent: z.string(),
  at: z.string(),
  findings: z.array(ProbeFindingSchema),
  outcome: BeatOutcomeSchema,
  reason: z.string().nullable(),
  lane_item: z.string().nullable(),
  reply: z.string().nullable(),
  /** LLM calls and cost of the wake-up; null while it runs or when nobody was woken. */
  calls: z.number().int().nullable(),
  cost_usd: z.number().nullable(),
});
export type Beat = z.infer<typeof BeatSchema>;

export const HeartbeatStatusSchema = z.object({
  settings: z.array(HeartbeatSettingSchema),
  beats: z.array(BeatSchema),
});
export type HeartbeatStatus = z.infer<typeof HeartbeatStatusSchema>;

/** Agent server GET /heartbeat/probe: the facts probes need from inside the container. */
export const AgentProbeReportSchema = z.object({
  workspace: z.object({
    files: z.array(z.object({ path: z.string(), mtime_ms: z.number(), size: z.number() })),
    /** True when the listing stopped at its cap; the files beyond it are not compared. */
    truncated: z.boolean(),
  }),
  /** Of the filesystem holding the agent's data directory; null where statfs is unavailable. */
  disk: z.object({ total_bytes: z.number(), available_bytes: z.number(), used_percent: z.number() }).nullable(),
  /** HEARTBEAT.md of the workspace (capped), or null when there is none. */
  heartbeat_md: z.string().nullable(),
});
export type AgentProbeReport = z.infer<typeof AgentProbeReportSchema>;

export const HEARTBEAT_OK = 'HEARTBEAT_OK';

// The starter policy: what a project without config/permissions.yaml gets, so a new
// fleet works out of the box while agents stay out of each other's state. Each agent
// may call the LLM, read and write its own `agents/<name>/` namespace and read
// `context/`; it may not publish, subscribe or message. renderStarterPolicyYaml() is
// the same policy as an editable file and must parse back to exactly STARTER_POLICY.
import { PERMISSIONS, type Permission } from './types.js';
import type { PermissionRules } from './policy.js';
import type { PermissionEntry, PermissionsFile } from './schema.js';

export const STARTER_DEFAULT_ENTRY: PermissionEntry = {
  allowed_apis: ['llm'],
  blackboard_read: ['agents/{agent}/**', 'context/**'],
  blackboard_write: ['agents/{agent}/**'],
  can_publish: [],
  can_subscribe: [],
  can_message: [],
  allowed_credentials: [],
  allowed_domains: [],
  can_read_history: [],
  allowed_mcp_tools: [],
  can_use_internet: false,
  can_manage_cron: false,
  can_search: false,
  can_use_browser: false,
  can_browser_evaluate: false,
  can_notify_user: false,
  can_create_skills: false,
};

export const STARTER_POLICY: PermissionsFile = { default: STARTER_DEFAULT_ENTRY, agents: {} };

export const STARTER_RULES: PermissionRules = { policy: STARTER_POLICY, source: { kind: 'starter' } };

const SUBJECTS: Record<Permission, string> = {
  blackboard_read: 'blackboard keys it may read',
  blackboard_write: 'blackboard keys it may write',
  can_publish: 'topics it may publish to',
  can_subscribe: 'topics it may subscribe to',
  can_message: 'agents it may send messages to',
  allowed_apis: 'mesh APIs it may use (llm: model calls)',
  allowed_credentials: 'credential handles it may use in http_request',
  allowed_domains: 'egress proxy: host (ports 80, 443), host:port, host:*',
  can_read_history: 'agents whose daily logs it may read (read_agent_history)',
  allowed_mcp_tools: 'MCP tools it may use, as <server>__<tool>',
};

const EXAMPLE_AGENT: PermissionEntry = {
  allowed_apis: ['llm'],
  blackboard_read: ['agents/{agent}/**', 'context/**', 'tasks/*'],
  blackboard_write: ['agents/{agent}/**', 'context/prospect_*'],
  can_publish: ['research_complete'],
  can_subscribe: ['new_lead'],
  can_message: ['qualifier'],
  allowed_credentials: ['crm_*'],
  allowed_domains: ['*.github.com'],
  can_read_history: ['qualifier'],
  allowed_mcp_tools: ['github__*'],
  can_use_internet: false,
  can_manage_cron: true,
  can_search: true,
  can_use_browser: false,
  can_browser_evaluate: false,
  can_notify_user: true,
  can_create_skills: false,
};

function flowList(globs: readonly string[]): string {
  return `[${globs.map((glob) => JSON.stringify(glob)).join(', ')}]`;
}

function entryLines(entry: PermissionEntry, indent: string, withComments: boolean): string[] {
  const comment = (line: string, text: string) => (withComments ? `${line.padEnd(54)} # ${text}` : line);
  return [
    ...PERMISSIONS.map((permission) =>
      comment(`${indent}${permission}: ${flowList(entry[permission])}`, SUBJECTS[permission]),
    ),
    comment(`${indent}can_use_internet: ${entry.can_use_internet}`, 'any public address (private ones only if listed)'),
    comment(
      `${indent}can_manage_cron: ${entry.can_manage_cron}`,
      'its own cron jobs and heartbeat (set_cron, set_heartbeat)',
    ),
    comment(`${indent}can_search: ${entry.can_search}`, 'web_search through the mesh'),
    comment(
      `${indent}can_use_browser: ${entry.can_use_browser}`,
      'the browser image (with browser: true in agents.yaml)',
    ),
    comment(`${indent}can_browser_evaluate: ${entry.can_browser_evaluate}`, 'browser_evaluate: scripts in pages'),
    comment(
      `${indent}can_notify_user: ${entry.can_notify_user}`,
      'message its paired Telegram/Discord users first (notify_user)',
    ),
    comment(
      `${indent}can_create_skills: ${entry.can_create_skills}`,
      'write its own skills and their tools (create_skill)',
    ),
  ];
}

export function renderStarterPolicyYaml(): string {
  const example = ['agents:', '  researcher:', ...entryLines(EXAMPLE_AGENT, '    ', false)].map((line) => `# ${line}`);
  return [
    '# Permission matrix: what each agent may do through the mesh. Anything not granted',
    '# here is denied, and every denial is recorded in the event log (legion logs).',
    '#',
    '# Globs: in blackboard keys "*" matches within one path segment and "**" across',
    '# segments ("context/*" matches context/a; "context/**" also matches context/a/b).',
    '# "{agent}" stands for the agent\'s own name. A glob may not start with "!".',
    '# Edits take effect while the mesh runs; an invalid edit is refused and the',
    '# previous rules stay in force.',
    '',
    '# Agents not listed under `agents` get this entry. Delete it to deny them everything.',
    'default:',
    ...entryLines(STARTER_DEFAULT_ENTRY, '  ', true),
    '',
    '# An agent listed here gets its own entry instead of `default` (the two are not',
    '# merged); a permission left out grants nothing.',
    ...example,
    '',
  ].join('\n');
}

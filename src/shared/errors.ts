// Errors that cross a process boundary carry a stable code and a message a user can
// act on. LegionError is thrown inside legion; ErrorBody is what goes on the wire.
// Invariants: every code legion produces is an ErrorCode, and the HTTP status that goes
// with a code is decided here (ERROR_STATUS) and nowhere else; a code that arrives over
// the wire is a plain string until isErrorCode narrows it (another process, or Fastify,
// may send one legion does not know).

export type ErrorCode =
  // requests, bodies, arguments
  | 'bad_request'
  | 'bad_selector'
  | 'confirmation_needed'
  | 'filter_invalid'
  | 'invalid_agents'
  | 'invalid_flag'
  | 'invalid_input'
  | 'invalid_json'
  | 'invalid_key'
  | 'invalid_message'
  | 'invalid_model'
  | 'invalid_name'
  | 'invalid_option'
  | 'invalid_path'
  | 'invalid_request'
  | 'invalid_schedule'
  | 'missing_name'
  | 'no_terminal'
  | 'subscription_denied'
  | 'unsupported_media_type'
  | 'value_too_large'
  // lookups
  | 'agent_unknown'
  | 'element_not_found'
  | 'mcp_server_unknown'
  | 'not_found'
  | 'tab_not_found'
  | 'unknown_agent'
  | 'unknown_code'
  | 'unknown_template'
  | 'unknown_user'
  | 'unknown_volume'
  | 'workflow_unknown'
  // conflicts with what exists
  | 'agent_exists'
  | 'agent_running'
  | 'ambiguous_user'
  | 'file_exists'
  | 'firewall_locked'
  | 'mesh_running'
  | 'permissions_conflict'
  | 'port_in_use'
  | 'run_finished'
  | 'too_many_jobs'
  | 'spawn_limit'
  | 'version_conflict'
  | 'volume_not_ours'
  | 'webhook_exists'
  // access
  | 'destination_refused'
  | 'egress_refused'
  | 'forbidden'
  | 'subagent_failed'
  | 'subagent_timeout'
  | 'subagent_ended'
  | 'permission_denied'
  | 'proxy_auth_required'
  | 'unauthorized'
  // webhook calls
  | 'delivery_missing'
  | 'delivery_replayed'
  | 'signature_invalid'
  | 'signature_missing'
  | 'signature_replayed'
  | 'timestamp_invalid'
  | 'timestamp_missing'
  | 'timestamp_out_of_window'
  // limits
  | 'budget_exceeded'
  | 'egress_busy'
  | 'lane_full'
  | 'rate_limited'
  // project, config, CLI
  | 'agent_add_cancelled'
  | 'config_invalid'
  | 'credential_handle_invalid'
  | 'credential_handle_misplaced'
  | 'credential_missing'
  | 'credential_too_short'
  | 'embeddings_unsupported'
  | 'is_a_directory'
  | 'no_embedding_model'
  | 'not_a_directory'
  | 'not_a_project'
  | 'path_outside_data'
  | 'provider_check_failed'
  | 'same_volume'
  | 'setup_cancelled'
  | 'setup_incomplete'
  | 'unknown_provider'
  | 'unknown_runtime'
  | 'unknown_template_agent'
  | 'yaml_edit_failed'
  // cancelled, gone, timed out
  | 'aborted'
  | 'cancelled'
  | 'chat_abandoned'
  | 'chat_cancelled'
  | 'delivery_pending'
  | 'http_timeout'
  | 'navigation_timeout'
  | 'timeout'
  | 'wait_timeout'
  // something legion depends on is not there (yet)
  | 'agent_not_running'
  | 'agent_unavailable'
  | 'channel_unavailable'
  | 'docker_unreachable'
  | 'interrupted'
  | 'mesh_not_running'
  | 'mcp_server_unavailable'
  | 'mesh_not_started'
  | 'mesh_stopped'
  | 'dashboard_not_built'
  | 'no_api_key'
  | 'search_not_configured'
  | 'workflow_unavailable'
  // another process or service failed
  | 'agent_error'
  | 'agent_unreachable'
  | 'bad_event'
  | 'channel_auth_failed'
  | 'delivery_failed'
  | 'egress_connect_failed'
  | 'egress_upstream_failed'
  | 'http_request_failed'
  | 'http_unsupported_encoding'
  | 'invalid_output'
  | 'mcp_call_failed'
  | 'mesh_bad_response'
  | 'mesh_error'
  | 'mesh_unreachable'
  | 'navigation_failed'
  | 'provider_error'
  | 'provider_unreachable'
  | 'search_failed'
  | 'task_lost'
  | 'template_incomplete'
  | 'webhook_refused'
  | 'webhook_unreachable'
  // legion itself, the host or the runtime failed
  | 'address_unavailable'
  | 'adopt_failed'
  | 'agent_exited'
  | 'agent_unhealthy'
  | 'agents_failed'
  | 'bad_token'
  | 'browser_launch_failed'
  | 'browser_no_proxy'
  | 'container_no_address'
  | 'egress_internal'
  | 'firewall_failed'
  | 'image_build_failed'
  | 'internal'
  | 'iptables_missing'
  | 'iteration_limit'
  | 'loop_guard'
  | 'mesh_failed'
  | 'missing_workspace_template'
  | 'network_no_gateway'
  | 'network_not_internal'
  | 'not_built'
  | 'runtime_misconfigured'
  | 'runtime_not_prepared'
  | 'webhook_scheme_unknown'
  | 'webhook_target_unknown'
  | 'workflow_not_started';

/** The HTTP status each code answers with. 499 is a request its client gave up on. */
const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  bad_selector: 400,
  confirmation_needed: 400,
  filter_invalid: 400,
  invalid_agents: 400,
  invalid_flag: 400,
  invalid_input: 400,
  invalid_json: 400,
  invalid_key: 400,
  invalid_message: 400,
  invalid_model: 400,
  invalid_name: 400,
  invalid_option: 400,
  invalid_path: 400,
  invalid_request: 400,
  invalid_schedule: 400,
  missing_name: 400,
  no_terminal: 400,
  subscription_denied: 400,
  unsupported_media_type: 415,
  value_too_large: 413,

  agent_unknown: 404,
  element_not_found: 404,
  mcp_server_unknown: 404,
  not_found: 404,
  tab_not_found: 404,
  unknown_agent: 404,
  unknown_code: 404,
  unknown_template: 404,
  unknown_user: 404,
  unknown_volume: 404,
  workflow_unknown: 404,

  agent_exists: 409,
  agent_running: 409,
  ambiguous_user: 409,
  file_exists: 409,
  firewall_locked: 409,
  mesh_running: 409,
  permissions_conflict: 409,
  port_in_use: 409,
  run_finished: 409,
  too_many_jobs: 409,
  version_conflict: 409,
  volume_not_ours: 409,
  webhook_exists: 409,

  destination_refused: 403,
  egress_refused: 403,
  forbidden: 403,
  permission_denied: 403,
  proxy_auth_required: 407,
  unauthorized: 401,

  delivery_missing: 400,
  delivery_replayed: 409,
  signature_invalid: 401,
  signature_missing: 401,
  signature_replayed: 409,
  timestamp_invalid: 400,
  timestamp_missing: 401,
  timestamp_out_of_window: 401,

  budget_exceeded: 402,
  egress_busy: 429,
  lane_full: 429,
  spawn_limit: 429,
  subagent_failed: 502,
  subagent_timeout: 504,
  subagent_ended: 409,
  rate_limited: 429,

  agent_add_cancelled: 400,
  config_invalid: 400,
  credential_handle_invalid: 400,
  credential_handle_misplaced: 400,
  credential_missing: 400,
  credential_too_short: 400,
  embeddings_unsupported: 400,
  is_a_directory: 400,
  no_embedding_model: 400,
  not_a_directory: 400,
  not_a_project: 400,
  path_outside_data: 400,
  provider_check_failed: 400,
  same_volume: 400,
  setup_cancelled: 400,
  setup_incomplete: 400,
  unknown_provider: 400,
  unknown_runtime: 400,
  unknown_template_agent: 400,
  yaml_edit_failed: 400,

  aborted: 499,
  cancelled: 499,
  chat_abandoned: 410,
  chat_cancelled: 499,
  delivery_pending: 504,
  http_timeout: 504,
  navigation_timeout: 504,
  timeout: 504,
  wait_timeout: 504,

  agent_not_running: 503,
  agent_unavailable: 503,
  channel_unavailable: 503,
  docker_unreachable: 503,
  interrupted: 503,
  mesh_not_running: 503,
  mcp_server_unavailable: 503,
  mesh_not_started: 503,
  mesh_stopped: 503,
  dashboard_not_built: 500,
  no_api_key: 503,
  search_not_configured: 503,
  workflow_unavailable: 503,

  agent_error: 502,
  agent_unreachable: 502,
  bad_event: 502,
  channel_auth_failed: 502,
  delivery_failed: 502,
  egress_connect_failed: 502,
  egress_upstream_failed: 502,
  http_request_failed: 502,
  http_unsupported_encoding: 502,
  invalid_output: 502,
  mcp_call_failed: 502,
  mesh_bad_response: 502,
  mesh_error: 502,
  mesh_unreachable: 502,
  navigation_failed: 502,
  provider_error: 502,
  provider_unreachable: 502,
  search_failed: 502,
  task_lost: 502,
  template_incomplete: 502,
  webhook_refused: 502,
  webhook_unreachable: 502,

  address_unavailable: 500,
  adopt_failed: 500,
  agent_exited: 500,
  agent_unhealthy: 500,
  agents_failed: 500,
  bad_token: 500,
  browser_launch_failed: 500,
  browser_no_proxy: 500,
  container_no_address: 500,
  egress_internal: 500,
  firewall_failed: 500,
  image_build_failed: 500,
  internal: 500,
  iptables_missing: 500,
  iteration_limit: 500,
  loop_guard: 500,
  mesh_failed: 500,
  missing_workspace_template: 500,
  network_no_gateway: 500,
  network_not_internal: 500,
  not_built: 500,
  runtime_misconfigured: 500,
  runtime_not_prepared: 500,
  webhook_scheme_unknown: 500,
  webhook_target_unknown: 500,
  workflow_not_started: 500,
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_STATUS, code);
}

export function errorStatus(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** An error as it travels: its code may come from anywhere. Its schema is in
 *  wire/error.ts, apart from here so the CLI's hot path loads no zod. */
export interface ErrorBody {
  code: string;
  message: string;
  provider?: string | undefined;
  status?: number | undefined;
  path?: string | undefined;
}
/** An error body legion builds itself. */
export type LegionErrorBody = ErrorBody & { code: ErrorCode };
type ErrorDetails = Omit<ErrorBody, 'code' | 'message'>;

export class LegionError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'LegionError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
  }

  toBody(): LegionErrorBody {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** An error another legion process sent (its code, message and details) as a LegionError
 *  here: its own code when legion knows it, else `fallback`, naming the code it came with. */
export function receivedError(body: ErrorBody, fallback: ErrorCode, message = body.message): LegionError {
  const { code, message: _sent, ...details } = body;
  if (isErrorCode(code)) return new LegionError(code, message, details);
  return new LegionError(fallback, `${message} (${code})`, details);
}

export function errorBody(err: unknown): LegionErrorBody {
  if (err instanceof LegionError) return err.toBody();
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}

// The mesh's domains over one mesh.db, as one list in dependency order: each domain is
// built from the ones above it (its module's types say which), so nothing refers to a
// domain further down. Where a domain above must reach one below, the one below
// subscribes to a signal of the one above (a lane item delivered or failed for good, a
// publish) or registers with it (how its lane items are delivered). Adding a domain
// means adding its folder's module here, below what it needs. Migrations are collected
// from the list; domains close in reverse order (src/mesh/assembly.ts says why).
import { DomainList, type OpenDomains } from './assembly.js';
import type { LoadContext } from './domain.js';
import { eventsDomain } from './events/domain.js';
import { permissionsDomain } from './permissions/domain.js';
import { blackboardDomain } from './blackboard/domain.js';
import { lanesDomain } from './lanes/domain.js';
import { containersDomain } from './runtime/domain.js';
import { pubsubDomain } from './pubsub/domain.js';
import { routerDomain } from './router/domain.js';
import { costsDomain } from './costs/domain.js';
import { workflowsDomain } from './workflows/domain.js';
import { webhooksDomain } from './triggers/webhooks/domain.js';
import { watchersDomain } from './triggers/watchers/domain.js';
import { cronDomain } from './triggers/cron/domain.js';
import { heartbeatDomain } from './triggers/heartbeat/domain.js';
import { channelsDomain } from './channels/domain.js';
import { retentionDomain } from './retention/domain.js';
import { historyDomain } from './history/domain.js';
import { mcpDomain } from './mcp/domain.js';
import { skillsDomain } from './skills/domain.js';
import { subagentsDomain } from './subagents/domain.js';

export const meshDomains = DomainList.empty()
  .add(eventsDomain)
  .add(permissionsDomain)
  .add(blackboardDomain)
  .add(lanesDomain)
  .add(containersDomain)
  .add(pubsubDomain)
  .add(routerDomain)
  .add(costsDomain)
  .add(workflowsDomain)
  .add(webhooksDomain)
  .add(watchersDomain)
  .add(cronDomain)
  .add(heartbeatDomain)
  .add(channelsDomain)
  .add(mcpDomain)
  .add(retentionDomain)
  .add(historyDomain)
  .add(skillsDomain)
  .add(subagentsDomain);

type BuiltOf<List> = List extends { open: (stateDir: string, ctx: LoadContext) => OpenDomains<infer Built> }
  ? Built
  : never;

/** Every domain's API under its name. */
export type Domains = BuiltOf<typeof meshDomains>;

/** Reads the domains' config, opens mesh.db and builds every domain (see the file comment). */
export function openDomains(stateDir: string, ctx: LoadContext): OpenDomains<Domains> {
  return meshDomains.open(stateDir, ctx);
}

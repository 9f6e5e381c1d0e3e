// The permission matrix as a mesh domain: config/permissions.yaml, loaded at start (an
// invalid file fails the start) and watched while the mesh runs. No tables of its own.
import type { DomainModule } from '../domain.js';
import type { EventLog } from '../events/log.js';
import { PermissionMatrix } from './matrix.js';

export const permissionsDomain: DomainModule<'permissions', { events: EventLog }, PermissionMatrix> = {
  name: 'permissions',
  migrations: [],
  create: ({ projectDir, logger }, { events }) => {
    const permissions = new PermissionMatrix({ projectDir, events, logger });
    permissions.load();
    return { api: permissions, close: () => permissions.close() };
  },
};

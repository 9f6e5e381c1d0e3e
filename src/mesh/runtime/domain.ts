// The container records as a mesh domain: which container ran which agent, kept so the
// next mesh start can adopt containers that still run (adoption.ts).
import type { DomainModule } from '../domain.js';
import { ContainerRecords, runtimeMigrations } from './adoption.js';

export const containersDomain: DomainModule<'containers', object, ContainerRecords> = {
  name: 'containers',
  migrations: runtimeMigrations,
  create: ({ db }) => ({ api: new ContainerRecords(db) }),
};

// The one shape every mesh domain has. A domain module names itself, declares its
// tables (migrations), may read its config files before mesh.db opens (load), and
// builds itself from explicit dependencies (create): the mesh's context and the APIs
// of the domains listed before it, typed, so a domain can only use what is already
// built. What it builds is its API plus optional route plugins (admin, agent, ingress)
// and lifecycle steps; src/mesh/assembly.ts runs those for the whole list.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../shared/logging.js';
import type { Project } from '../shared/config/project.js';
import type { Db, Migration } from './db.js';
import type { Fleet } from './runtime/fleet.js';

/** What the mesh's runtime (the project's config and the agents' containers) gives every domain. */
export interface MeshRuntime {
  /** The project as configured now (config/*.yaml, .env); every config accessor reads through it, so applied edits are seen at once. */
  project: () => Project;
  /** The agents' containers: readiness, and the way into them (a turn holds the agent busy). */
  fleet: Pick<Fleet, 'isHealthy' | 'endpoint' | 'whileBusy' | 'status' | 'start' | 'remove'>;
  /** After a failed hand-over: is the agent still up, checked now (the health monitor)? */
  stillReady: (agent: string) => Promise<boolean>;
  /** Where senders reach webhooks; the listeners are the runtime's. */
  webhookBaseUrl: () => string;
}

/** What a domain may read before mesh.db opens. */
export interface LoadContext {
  projectDir: string;
  logger: Logger;
  runtime: MeshRuntime;
  /** The agents configured now. */
  knownAgents: () => string[];
}

/** What every domain is built with, besides the domains before it. */
export interface DomainContext extends LoadContext {
  db: Db;
}

/** A Fastify plugin registered on the listener its slot names; the slot sets the auth. */
export type RoutePlugin = (app: FastifyInstance) => Promise<void>;

export interface DomainParts<Api> {
  /** What the domains after it and the mesh see. */
  api: Api;
  /** On the admin listener, behind the admin token. */
  adminRoutes?: RoutePlugin;
  /** On the agent listener, behind the per-agent token. */
  agentRoutes?: RoutePlugin;
  /** On the admin listener outside the admin token: callers answer to their own secrets. */
  ingressRoutes?: RoutePlugin;
  /** Once the whole list is built, before the listeners open (e.g. connecting to chat platforms). */
  start?: () => Promise<void>;
  /** Once agents from an earlier run are adopted: work left from the last run starts moving. */
  resume?: () => void;
  /** Stops its timers and watchers; the domains it depends on and mesh.db are still open. */
  close?: () => void | Promise<void>;
}

interface ModuleBase<Name extends string> {
  readonly name: Name;
  /** Its tables; a shipped migration never changes (mesh.db of an install must open unchanged). */
  readonly migrations: readonly Migration[];
}

/** A domain without config files to read. */
export interface PlainDomainModule<Name extends string, Needs, Api> extends ModuleBase<Name> {
  readonly load?: undefined;
  readonly create: (ctx: DomainContext, needs: Needs) => DomainParts<Api>;
}

/** A domain whose config files are read and checked before mesh.db opens, so a bad one fails the start with nothing to close. */
export interface ConfiguredDomainModule<Name extends string, Needs, Api, Config> extends ModuleBase<Name> {
  readonly load: (ctx: LoadContext) => Config;
  readonly create: (ctx: DomainContext, needs: Needs, config: Config) => DomainParts<Api>;
}

export type DomainModule<Name extends string, Needs, Api, Config = never> =
  | PlainDomainModule<Name, Needs, Api>
  | ConfiguredDomainModule<Name, Needs, Api, Config>;

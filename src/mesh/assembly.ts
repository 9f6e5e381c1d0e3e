// Builds the mesh's domains from one list in dependency order. add() types each module's
// needs against the APIs added before it, so a forward reference does not compile.
// open() reads every domain's config files first (a bad one fails the start before
// mesh.db opens), opens mesh.db with every domain's migrations, then builds each domain
// in list order; if one fails, those already built are closed in reverse and the
// database too. close() runs in reverse list order: each domain stops while everything
// it depends on is still open (the dispatcher still has its lanes, every domain its
// database), and nothing built later can still call into a domain already stopped.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openMeshDb, type Db, type Migration } from './db.js';
import type { DomainContext, DomainModule, DomainParts, LoadContext, RoutePlugin } from './domain.js';

type Build = (ctx: DomainContext, built: Record<string, unknown>) => DomainParts<unknown>;

interface Step {
  name: string;
  migrations: readonly Migration[];
  prepare: (ctx: LoadContext) => Build;
}

export interface OpenDomains<Built> {
  readonly db: Db;
  /** Each domain's API under its name. */
  readonly api: Built;
  registerAdminRoutes: (app: FastifyInstance) => Promise<void>;
  registerAgentRoutes: (app: FastifyInstance) => Promise<void>;
  registerIngressRoutes: (app: FastifyInstance) => Promise<void>;
  start: () => Promise<void>;
  resume: () => void;
  close: () => Promise<void>;
}

export class DomainList<Built> {
  private readonly steps: readonly Step[];

  private constructor(steps: readonly Step[]) {
    this.steps = steps;
  }

  static empty(): DomainList<object> {
    return new DomainList([]);
  }

  /** A name already in the list does not compile (its module would take the other's `duplicate`). */
  add<Name extends string, Api, Config>(
    module: DomainModule<Name, Built, Api, Config> & (Name extends keyof Built ? { duplicate: never } : unknown),
  ): DomainList<Built & { readonly [K in Name]: Api }> {
    // add() is the only way into the list and puts each API under its module's name, so
    // the record holds every key Built names by the time this module is built.
    const needs = (built: Record<string, unknown>): Built => built as Built;
    const prepare = (ctx: LoadContext): Build => {
      if (module.load === undefined) return (domainCtx, built) => module.create(domainCtx, needs(built));
      const config = module.load(ctx);
      return (domainCtx, built) => module.create(domainCtx, needs(built), config);
    };
    return new DomainList([...this.steps, { name: module.name, migrations: module.migrations, prepare }]);
  }

  get migrations(): Migration[] {
    return this.steps.flatMap((step) => step.migrations);
  }

  open(stateDir: string, ctx: LoadContext): OpenDomains<Built> {
    const builds = this.steps.map((step) => ({ name: step.name, build: step.prepare(ctx) }));
    const db = openMeshDb(join(stateDir, 'mesh.db'), this.migrations);
    const domainCtx: DomainContext = { ...ctx, db };
    const built: Record<string, unknown> = {};
    const parts: DomainParts<unknown>[] = [];
    try {
      for (const { name, build } of builds) {
        const domain = build(domainCtx, built);
        built[name] = domain.api;
        parts.push(domain);
      }
    } catch (err) {
      closeInReverse(parts, db).catch((closeErr: unknown) =>
        ctx.logger.error(
          { err: closeErr, event: 'domain_close_failed' },
          'could not close the mesh domains after a failed start',
        ),
      );
      throw err;
    }
    const routes =
      (pick: (domain: DomainParts<unknown>) => RoutePlugin | undefined) => async (app: FastifyInstance) => {
        for (const domain of parts) {
          const plugin = pick(domain);
          if (plugin) await app.register(plugin);
        }
      };
    return {
      db,
      api: built as Built,
      registerAdminRoutes: routes((domain) => domain.adminRoutes),
      registerAgentRoutes: routes((domain) => domain.agentRoutes),
      registerIngressRoutes: routes((domain) => domain.ingressRoutes),
      start: async () => {
        for (const domain of parts) await domain.start?.();
      },
      resume: () => {
        for (const domain of parts) domain.resume?.();
      },
      close: () => closeInReverse(parts, db),
    };
  }
}

async function closeInReverse(parts: readonly DomainParts<unknown>[], db: Db): Promise<void> {
  for (const domain of [...parts].reverse()) await domain.close?.();
  db.close();
}

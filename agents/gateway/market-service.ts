/**
 * The marketplace's use cases in the service layer (service.ts): each one first makes the
 * caller a user (ForbiddenError otherwise), then calls the marketplace (market.ts), so chat,
 * IQ, HTTP and the CLI share one set of rules and the model's CG_* errors.
 *
 * Deploying a cluster entry uses the caller's copy of it: cloned on first use, reused while
 * it is the same definition, and never replacing a different cluster of the same name.
 * A pairing code from a context entry pairs the published version: publishing shared that
 * version with every user, so the caller need not be able to read the context otherwise.
 */
import {
  ConflictError,
  InvalidError,
  NotFoundError,
  type ClusterRecord,
  type ContextInfo,
  type Deployment,
  type GatewayModel,
} from './model/index.js';
import { StanzaError } from '../../protocols/index.js';
import type { Market, MarketEntry, MarketPage } from './market.js';

export interface PublishRequest {
  context?: string;
  cluster?: string;
  summary: string;
  description?: string;
  tags?: readonly string[];
}
export type VoteValue = 'up' | 'down' | 'clear';
export type CloneResult = { kind: 'context'; context: ContextInfo } | { kind: 'cluster'; cluster: ClusterRecord };
export interface EntryDeployRequest {
  counts?: Record<string, number>;
  passphrase?: string;
}
export interface EntryDeployment {
  /** The caller's cluster the deployment runs, and whether this request cloned it. */
  cluster: ClusterRecord;
  cloned: boolean;
  deployment: Deployment;
}
export interface EntryPairing {
  code: string;
  /** Seconds since the epoch. */
  expires: number;
  context: string;
  version: number;
}

/** What deploying and pairing from an entry need from the rest of the gateway. */
export interface MarketUseDeps {
  model: GatewayModel;
  deploy: (user: string, req: { cluster: string } & EntryDeployRequest) => Promise<Deployment>;
  /** Absent when pairing is not configured. */
  pair?: (
    owner: string,
    contextId: string,
    version: number,
    ttlS: number | undefined,
  ) => { code: string; expires: number };
}

const VOTES: Record<VoteValue, 1 | -1 | 0> = { up: 1, down: -1, clear: 0 };

export function marketUseCases(market: Market, authorize: (caller: string) => string, use: MarketUseDeps) {
  const entry = (id: string): MarketEntry => {
    const e = market.get(id);
    if (!e) throw new NotFoundError('market entry', id);
    return e;
  };
  return {
    /** One of the caller's contexts (its newest version) or, with `cluster`, one of their cluster definitions. */
    publish(caller: string, req: PublishRequest): MarketEntry {
      const me = authorize(caller);
      if ((req.context === undefined) === (req.cluster === undefined))
        throw new InvalidError(
          'name one of your contexts or one of your clusters (not both)',
          req.context === undefined ? 'context' : 'cluster',
        );
      return market.publish(me, req);
    },
    unpublish: (caller: string, id: string): void => market.unpublish(authorize(caller), id),
    /** Words, +tag and -tag in `q`; `page` counts from 1 (10 entries each). */
    search(caller: string, req: { q?: string; page?: number }): MarketPage {
      authorize(caller);
      if (req.page !== undefined && (!Number.isSafeInteger(req.page) || req.page < 1))
        throw new InvalidError(`page: a whole number from 1, not ${req.page}`, 'page');
      return market.search(req.q ?? '', { page: req.page ?? 1 });
    },
    vote(caller: string, id: string, value: VoteValue): MarketEntry {
      const me = authorize(caller);
      const v = VOTES[value];
      if (v === undefined)
        throw new InvalidError(`value: up, down or clear, not '${String(value).slice(0, 16)}'`, 'value');
      return market.vote(me, id, v);
    },
    clone: (caller: string, id: string, name?: string): CloneResult => market.clone(authorize(caller), id, name),

    /** Deploys a cluster entry as the caller's cluster of the same name (cloned if they have none). */
    async deploy(caller: string, id: string, req: EntryDeployRequest = {}): Promise<EntryDeployment> {
      const me = authorize(caller);
      const e = entry(id);
      if (e.kind !== 'cluster')
        throw new InvalidError(
          `market entry ${id} is a context: clone it into a cluster of yours, or make a pairing code from it`,
          'id',
        );
      const mine = use.model.clusters.get(me, e.name);
      if (mine && mine.ini !== market.definition(id))
        throw new ConflictError(
          `you already have a different cluster '${e.name}': deploy yours by name, or rename it to deploy ${id}`,
        );
      const cluster = mine ?? (market.clone(me, id) as { kind: 'cluster'; cluster: ClusterRecord }).cluster;
      try {
        const deployment = await use.deploy(me, { cluster: cluster.name, ...req });
        return { cluster, cloned: !mine, deployment };
      } catch (err) {
        // A refused deployment leaves no copy behind: the user did not ask for one.
        if (!mine && use.model.clusters.get(me, cluster.name)?.ini === cluster.ini)
          use.model.clusters.remove(me, cluster.name);
        throw err;
      }
    },

    /** A single-use pairing code for the version a context entry published. */
    pair(caller: string, id: string, ttlS?: number): EntryPairing {
      const me = authorize(caller);
      const e = entry(id);
      if (e.kind !== 'context')
        throw new InvalidError(`market entry ${id} is a cluster: deploy it, or pair one of its contexts`, 'id');
      if (e.encrypted)
        throw new InvalidError(
          `market entry ${id} is encrypted: the gateway never holds its passphrase, so it cannot be paired; clone it and deploy with your passphrase`,
          'id',
        );
      if (ttlS !== undefined && (!Number.isSafeInteger(ttlS) || ttlS < 30 || ttlS > 86400))
        throw new InvalidError(`ttl_s: whole seconds from 30 to 86400, not ${ttlS}`, 'ttl_s');
      if (!use.pair) throw new StanzaError('item-not-found', 'pairing is not enabled on this gateway', 'not-found');
      const c = use.pair(me, e.contextId!, e.contextVersion!, ttlS);
      return { ...c, context: e.name, version: e.contextVersion! };
    },
  };
}

export type MarketUseCases = ReturnType<typeof marketUseCases>;

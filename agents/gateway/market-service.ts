/**
 * The marketplace's use cases in the service layer (service.ts): each one first makes the
 * caller a user (ForbiddenError otherwise), then calls the marketplace (market.ts), so chat,
 * IQ, HTTP and the CLI share one set of rules and the model's CG_* errors.
 */
import { InvalidError, type ClusterRecord, type ContextInfo } from './model/index.js';
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

const VOTES: Record<VoteValue, 1 | -1 | 0> = { up: 1, down: -1, clear: 0 };

export function marketUseCases(market: Market, authorize: (caller: string) => string) {
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
  };
}

export type MarketUseCases = ReturnType<typeof marketUseCases>;

/**
 * The marketplace page under /web/market (registered by web-routes.ts, with its session,
 * CSRF and error handling): search with words, +tag and -tag, paged; vote; clone into
 * one's own contexts or clusters; deploy a cluster entry; make a pairing code from a
 * context entry; publish and unpublish. Every form posts with the page's CSRF token and
 * comes back to the search it was sent from; all of it goes through the service layer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidError } from './model/index.js';
import type { App } from './http.js';
import type { Service } from './service.js';
import type { Html } from './web-html.js';
import { marketHref, marketPage, type MarketPageInput } from './web-market-page.js';
import type { WebSession } from './web-session.js';

type Form = Record<string, string>;
export interface WebMarketDeps {
  service: Service;
  send: (reply: FastifyReply, title: string, body: Html, s?: WebSession, status?: number) => FastifyReply;
  need: (req: FastifyRequest, reply: FastifyReply) => WebSession | undefined;
  needPost: (req: FastifyRequest, reply: FastifyReply) => { s: WebSession; f: Form } | undefined;
  /** A use case's error as a message and status for the page; rethrows anything else. */
  failure: (err: unknown) => { status: number; message: string };
  /** `worker=2, web=3` as counts (web-routes.ts). */
  parseCounts: (text: string) => Record<string, number>;
}

const field = (f: Form, k: string) => (typeof f[k] === 'string' ? f[k]! : '');
/** The page number of a query or form: 1 unless a whole number from 1 was given. */
const pageOf = (v: unknown) => (typeof v === 'string' && /^[1-9]\d{0,5}$/.test(v) ? Number(v) : 1);

export function addMarketPages(web: App, d: WebMarketDeps): void {
  const { service, send, need, needPost, failure, parseCounts } = d;
  const market = service.market;

  /** The page for a search, with what the last form did; a bad search shows its error and no entries. */
  const show = (
    reply: FastifyReply,
    s: WebSession,
    q: string,
    page: number,
    o: Pick<MarketPageInput, 'notice' | 'error' | 'code'> = {},
    status = 200,
  ) => {
    let result;
    let error = o.error;
    try {
      result = market.search(s.user, { q, page });
    } catch (err) {
      const e = failure(err);
      error = error ?? e.message;
      status = status === 200 ? e.status : status;
      result = { entries: [], total: 0, page: 1, pages: 1 };
    }
    const own = {
      contexts: service.contexts
        .list(s.user)
        .filter((c) => c.owner === s.user)
        .map((c) => c.name),
      clusters: service.clusters
        .list(s.user)
        .filter((c) => c.owner === s.user)
        .map((c) => c.name),
    };
    return send(
      reply,
      'Marketplace',
      marketPage({ result, q, me: s.user, csrf: s.csrf, own, ...o, ...(error ? { error } : {}) }),
      s,
      status,
    );
  };

  web.get('/market', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    const query = (req.query ?? {}) as Record<string, unknown>;
    const q = typeof query.q === 'string' ? query.q.slice(0, 1024) : '';
    return show(reply, s, q, pageOf(query.page));
  });

  /** A form post on an entry: runs `act`, then shows the search it came from with its outcome. */
  const post = (
    path: string,
    act: (s: WebSession, id: string, f: Form) => Promise<Pick<MarketPageInput, 'notice' | 'code'> | string>,
  ) =>
    web.post(path, async (req, reply) => {
      const ok = needPost(req, reply);
      if (!ok) return reply;
      const id = (req.params as { id?: string }).id ?? '';
      const q = field(ok.f, 'q').slice(0, 1024);
      const page = pageOf(ok.f.page);
      try {
        const r = await act(ok.s, id, ok.f);
        if (typeof r === 'string') return reply.redirect(r, 303);
        return show(reply, ok.s, q, page, r);
      } catch (err) {
        const e = failure(err);
        return show(reply, ok.s, q, page, { error: e.message }, e.status);
      }
    });

  post('/market/:id/vote', async (s, id, f) => {
    const value = field(f, 'value');
    if (value !== 'up' && value !== 'down' && value !== 'clear')
      throw new InvalidError(`vote: up, down or clear, not '${value.slice(0, 16)}'`, 'value');
    market.vote(s.user, id, value);
    return marketHref(field(f, 'q'), pageOf(f.page));
  });
  post('/market/:id/clone', async (s, id, f) => {
    const name = field(f, 'name').trim();
    const c = market.clone(s.user, id, name || undefined);
    return {
      notice:
        c.kind === 'cluster'
          ? `Cloned ${id} into your cluster ${c.cluster.name}.`
          : `Cloned ${id} into your context ${c.context.name}.`,
    };
  });
  post('/market/:id/deploy', async (s, id, f) => {
    const pass = field(f, 'passphrase');
    const r = await market.deploy(s.user, id, {
      counts: parseCounts(field(f, 'counts')),
      ...(pass ? { passphrase: pass } : {}),
    });
    return `/web/deployments/${encodeURIComponent(r.deployment.id)}`;
  });
  post('/market/:id/pair', async (s, id) => ({ code: market.pair(s.user, id) }));
  post('/market/:id/unpublish', async (s, id) => {
    market.unpublish(s.user, id);
    return { notice: `Unpublished ${id}; the context or cluster itself stays.` };
  });
  post('/market', async (s, _id, f) => {
    const m = /^(context|cluster):(.+)$/.exec(field(f, 'what'));
    if (!m) throw new InvalidError('choose one of your contexts or clusters to publish', 'what');
    const description = field(f, 'description').replace(/\r\n/g, '\n');
    const e = market.publish(s.user, {
      [m[1]!]: m[2]!,
      summary: field(f, 'summary'),
      ...(description.trim() ? { description } : {}),
      tags: field(f, 'tags').split(','),
    });
    return { notice: `Published ${e.name} as ${e.id}.` };
  });
}

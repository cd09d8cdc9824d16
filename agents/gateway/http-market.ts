/** The marketplace resources (/market…) over the service's use cases. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { HttpProblem } from './http-problems.js';
import * as S from './http-schemas.js';
import type { App, RouteDeps } from './http.js';
import { clusterView, contextView, deploymentView, marketEntryView } from './views.js';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, S.ProblemT]));
const closed = { additionalProperties: false } as const;
const EntryDeployBody = Type.Object(
  {
    counts: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.Integer({ minimum: 0, maximum: 100000 }))),
    passphrase: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  closed,
);
const EntryDeployAnswer = Type.Object({ deployment: S.DeploymentT, cluster: S.ClusterT, cloned: Type.Boolean() });
const EntryPairBody = Type.Object({ ttl_s: Type.Optional(Type.Integer({ minimum: 30, maximum: 86400 })) }, closed);
const EntryPairAnswer = Type.Object({
  code: Type.String(),
  expires: Type.Integer(),
  context: Type.String(),
  version: Type.Integer(),
});
/** http-routes.ts's Idempotency-Key handling: a retried POST gets the first answer. */
type Idempotent = (
  req: FastifyRequest,
  reply: FastifyReply,
  who: string,
  run: () => Promise<{ status: number; body: unknown; location?: string }>,
) => Promise<FastifyReply>;
/** A cursor is the next page's number, opaque to clients. */
const cursorOf = (page: number) => Buffer.from(`p${page}`).toString('base64url');
function pageOf(cursor: string | undefined): number {
  if (cursor === undefined) return 1;
  const m = /^p([1-9]\d{0,5})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new HttpProblem(400, 'invalid-field', 'cursor: not a cursor of this list', { field: 'cursor' });
  return Number(m[1]);
}

export function addMarketRoutes(
  api: App,
  d: RouteDeps,
  user: (req: FastifyRequest) => Promise<string>,
  idempotent: Idempotent,
): void {
  const { service, model } = d;
  const market = service.market;
  api.get(
    '/market',
    {
      schema: {
        summary:
          'Search the marketplace: words in `q` match names, summaries and descriptions, +tag is required, -tag excluded; by rank, then newest; `next` is the cursor of the following page',
        querystring: S.MarketQuery,
        response: { 200: S.MarketPageT, ...problems(400, 401, 403, 422) },
      },
    },
    async (req) => {
      const me = await user(req);
      const r = market.search(me, {
        ...(req.query.q !== undefined ? { q: req.query.q } : {}),
        page: pageOf(req.query.cursor),
      });
      return {
        entries: r.entries.map(marketEntryView),
        total: r.total,
        ...(r.page < r.pages ? { next: cursorOf(r.page + 1) } : {}),
      };
    },
  );
  api.post(
    '/market',
    {
      schema: {
        summary:
          'Publish one of your contexts (its newest version) or, with `cluster`, one of your cluster definitions',
        body: S.PublishBody,
        response: { 201: S.MarketEntryT, ...problems(400, 401, 403, 404, 422) },
      },
    },
    async (req, reply) => {
      const e = market.publish(await user(req), req.body);
      return reply.code(201).header('location', `/api/v1/market/${e.id}`).send(marketEntryView(e));
    },
  );
  api.delete(
    '/market/:id',
    {
      schema: {
        summary: 'Take your entry out of the marketplace (the context itself stays)',
        params: S.IdParam,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
    },
    async (req, reply) => {
      market.unpublish(await user(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
  api.put(
    '/market/:id/vote',
    {
      schema: {
        summary: "Your vote on someone else's entry: up, down, or clear to take it back",
        params: S.IdParam,
        body: S.VoteBody,
        response: { 200: S.MarketEntryT, ...problems(400, 401, 403, 404) },
      },
    },
    async (req) => marketEntryView(market.vote(await user(req), req.params.id, req.body.value)),
  );
  api.post(
    '/market/:id/clone',
    {
      schema: {
        summary: 'Copy an entry into a context (or cluster definition) of yours',
        params: S.IdParam,
        body: S.CloneBody,
        response: { 201: S.CloneAnswer, ...problems(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const c = market.clone(await user(req), req.params.id, req.body.name);
      if (c.kind === 'cluster')
        return reply
          .code(201)
          .header('location', `/api/v1/clusters/${c.cluster.name}`)
          .send({ cluster: { ...clusterView(c.cluster), definition: c.cluster.ini } });
      return reply
        .code(201)
        .header('location', `/api/v1/contexts/${c.context.id}`)
        .send({ context: contextView(model, c.context) });
    },
  );
  api.post(
    '/market/:id/deploy',
    {
      schema: {
        summary:
          'Deploy a cluster entry: as your cluster of its name, cloned on first use; 202 with the Location of the deployment (Idempotency-Key: a retry gets the first answer)',
        params: S.IdParam,
        body: EntryDeployBody,
        response: { 202: EntryDeployAnswer, ...problems(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const me = await user(req);
      return idempotent(req, reply, me, async () => {
        const r = await market.deploy(me, req.params.id, req.body);
        return {
          status: 202,
          body: { deployment: deploymentView(model, r.deployment), cluster: clusterView(r.cluster), cloned: r.cloned },
          location: `/api/v1/deployments/${r.deployment.id}`,
        };
      });
    },
  );
  api.post(
    '/market/:id/pairing-code',
    {
      schema: {
        summary:
          'A single-use code that gives a running machine the context version a context entry published (not for encrypted entries)',
        params: S.IdParam,
        body: EntryPairBody,
        response: { 201: EntryPairAnswer, ...problems(400, 401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => reply.code(201).send(market.pair(await user(req), req.params.id, req.body.ttl_s)),
  );
}

/** The /api/v1 resources: each handler authenticates, calls one service use case and shapes its answer. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { addAutoscaleRoutes } from './http-autoscale.js';
import { addMarketRoutes } from './http-market.js';
import { addImageRoutes } from './http-images.js';
import { HttpProblem } from './http-problems.js';
import * as S from './http-schemas.js';
import { authenticate, type App, type RouteDeps } from './http.js';
import type { Deployment, DeploymentEvent, Job } from './model/index.js';
import { formatProblem } from './service.js';
import { clusterView, contextView, deploymentView } from './views.js';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, S.ProblemT]));

export const eventView = (e: DeploymentEvent) => ({
  seq: e.seq,
  deployment: e.deploymentId,
  time: new Date(e.time).toISOString(),
  type: e.type,
  message: e.message,
  ...(e.data !== undefined ? { data: e.data } : {}),
});
const jobView = (j: Job) => ({
  id: j.id,
  kind: j.kind,
  state: j.state,
  ...(j.request !== null && j.request !== undefined ? { request: j.request } : {}),
  ...(j.error ? { error: j.error } : {}),
  created: new Date(j.createdAt).toISOString(),
  updated: new Date(j.updatedAt).toISOString(),
});

export function addResourceRoutes(api: App, d: RouteDeps): void {
  const { service, model, tokens } = d;
  const user = (req: FastifyRequest) => authenticate(req, tokens, req.method !== 'GET').then((p) => p.user);
  const depView = (x: Deployment) => deploymentView(model, x);
  /** Retried POSTs with the same Idempotency-Key get the first answer; concurrent ones wait for it. */
  const inFlight = new Map<string, Promise<{ status: number; body: unknown; location?: string }>>();
  const idempotent = async (
    req: FastifyRequest,
    reply: FastifyReply,
    who: string,
    run: () => Promise<{ status: number; body: unknown; location?: string }>,
  ) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 200))
      throw new HttpProblem(400, 'invalid-field', 'Idempotency-Key: 1..200 characters', { field: 'Idempotency-Key' });
    let r;
    if (key === undefined) r = await run();
    else {
      const k = `${who} ${req.url.split('?')[0]} ${key}`;
      r = tokens.idempotency.get(who, k);
      if (!r) {
        let p = inFlight.get(k);
        if (!p) {
          p = run()
            .then((x) => {
              tokens.idempotency.put(who, k, x.status, x.body, x.location);
              return x;
            })
            .finally(() => inFlight.delete(k));
          inFlight.set(k, p);
        }
        r = await p;
      }
    }
    if (r.location) reply.header('location', r.location);
    return reply.code(r.status).send(r.body);
  };

  // ---- authentication ------------------------------------------------------------------
  api.post(
    '/login',
    {
      schema: {
        summary: 'Log in with the XMPP account (checked by the XMPP server); short access token and a refresh token',
        security: [],
        body: S.LoginBody,
        response: { 200: S.TokensAnswer, ...problems(400, 401, 429, 503) },
      },
    },
    async (req) => {
      const jid = req.body.username.toLowerCase();
      const wait = d.login.retryAfter(req.ip, jid);
      if (wait > 0)
        throw new HttpProblem(429, 'rate-limited', `too many failed logins; try again in ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      const r = await d.login.check(req.ip, jid, req.body.password);
      if (r === 'unavailable')
        throw new HttpProblem(503, 'xmpp-unavailable', 'the XMPP server did not answer; try again');
      if (r !== 'ok') throw new HttpProblem(401, 'bad-credentials', 'wrong user name or password');
      const a = await tokens.accessToken(jid, 'full');
      return {
        access_token: a.token,
        token_type: 'Bearer' as const,
        expires_in: a.expiresIn,
        refresh_token: tokens.refreshToken(jid),
      };
    },
  );
  api.post(
    '/refresh',
    {
      schema: {
        summary: 'Trade a refresh token for new tokens (each refresh token is used once)',
        security: [],
        body: S.RefreshBody,
        response: { 200: S.TokensAnswer, ...problems(400, 401) },
      },
    },
    async (req) => {
      const who = tokens.rotate(req.body.refresh_token);
      if (!who) throw new HttpProblem(401, 'invalid-token', 'the refresh token is unknown, used, expired or revoked');
      const a = await tokens.accessToken(who, 'full');
      return {
        access_token: a.token,
        token_type: 'Bearer' as const,
        expires_in: a.expiresIn,
        refresh_token: tokens.refreshToken(who),
      };
    },
  );
  api.post(
    '/logout',
    { schema: { summary: 'End every refresh token of the caller', response: { 204: Type.Null(), ...problems(401) } } },
    async (req, reply) => {
      tokens.logout(await user(req));
      return reply.code(204).send(null);
    },
  );
  api.get(
    '/whoami',
    { schema: { summary: 'Who the token is', response: { 200: S.WhoAmIT, ...problems(401) } } },
    async (req) => {
      const p = await authenticate(req, tokens, false);
      return { ...service.users.whoami(p.user), scope: p.scope };
    },
  );

  // ---- API tokens ----------------------------------------------------------------------
  api.get(
    '/tokens',
    {
      schema: {
        summary: 'Your API tokens (never their secret)',
        response: { 200: Type.Object({ tokens: Type.Array(S.TokenT) }), ...problems(401) },
      },
    },
    async (req) => ({ tokens: tokens.list(service.authorize(await user(req))) }),
  );
  api.post(
    '/tokens',
    {
      schema: {
        summary: 'A long-lived API token, read-only or full; the secret is shown once',
        body: S.TokenBody,
        response: { 201: Type.Object({ token: Type.String(), info: S.TokenT }), ...problems(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const p = await authenticate(req, tokens, true);
      // An API token cannot mint more tokens: a leaked script token must not outlive its revocation.
      if (p.via !== 'access')
        throw new HttpProblem(403, 'insufficient-scope', 'log in (POST /api/v1/login) to create API tokens');
      const t = tokens.apiToken(service.authorize(p.user), req.body.name, req.body.scope, req.body.ttl_s);
      return reply.code(201).send(t);
    },
  );
  api.delete(
    '/tokens/:id',
    {
      schema: {
        summary: 'Revoke an API token (refused at once from then on)',
        params: S.IdParam,
        response: { 204: Type.Null(), ...problems(401, 404) },
      },
    },
    async (req, reply) => {
      if (!tokens.revoke(await user(req), req.params.id))
        throw new HttpProblem(404, 'not-found', `token '${req.params.id}' not found`);
      return reply.code(204).send(null);
    },
  );

  // ---- contexts ------------------------------------------------------------------------
  api.get(
    '/contexts',
    {
      schema: {
        summary: 'Contexts you may use',
        response: { 200: Type.Object({ contexts: Type.Array(S.ContextT) }), ...problems(401, 403) },
      },
    },
    async (req) => ({ contexts: service.contexts.list(await user(req)).map((c) => contextView(model, c)) }),
  );
  api.post(
    '/contexts',
    {
      schema: {
        summary: 'Store a context (checked as an instance agent would), or a new version of yours of that name',
        body: S.ContextBody,
        response: { 201: S.ContextStored, ...problems(400, 401, 403, 422) },
      },
    },
    async (req, reply) => {
      const r = await service.contexts.put(await user(req), req.body);
      reply.header('location', `/api/v1/contexts/${r.context.id}`);
      return reply.code(201).send({ context: contextView(model, r.context), warnings: r.warnings.map(formatProblem) });
    },
  );
  api.get(
    '/contexts/:id',
    {
      schema: {
        summary: 'A context (metadata)',
        params: S.IdParam,
        response: { 200: S.ContextT, ...problems(401, 404) },
      },
    },
    async (req) => contextView(model, service.contexts.get(await user(req), req.params.id)),
  );
  api.post(
    '/contexts/:id/versions',
    {
      schema: {
        summary: 'A new version of your context',
        params: S.IdParam,
        body: S.ContextVersionBody,
        response: { 201: S.ContextStored, ...problems(400, 401, 404, 422) },
      },
    },
    async (req, reply) => {
      const me = await user(req);
      const c = service.contexts.get(me, req.params.id);
      if (c.owner !== me) throw new HttpProblem(404, 'not-found', `context '${req.params.id}' not found`);
      const r = await service.contexts.put(me, {
        name: c.name,
        body: req.body.body,
        ...(req.body.passphrase ? { passphrase: req.body.passphrase } : {}),
      });
      return reply.code(201).send({ context: contextView(model, r.context), warnings: r.warnings.map(formatProblem) });
    },
  );
  api.get(
    '/contexts/:id/versions/:version',
    {
      schema: {
        summary: 'The text of one version (X-Passphrase header for an encrypted one)',
        params: Type.Object({ id: S.Id, version: Type.Integer({ minimum: 1 }) }),
        response: { 200: S.ContextRead, ...problems(401, 403, 404, 422) },
      },
    },
    async (req) => {
      const pass = req.headers['x-passphrase'];
      const t = await service.contexts.read(await user(req), {
        ref: req.params.id,
        version: req.params.version,
        ...(typeof pass === 'string' ? { passphrase: pass } : {}),
      });
      return { context: contextView(model, t.context), version: t.version, body: t.body };
    },
  );
  api.post(
    '/contexts/:id/clone',
    {
      schema: {
        summary: 'Copy a context you may read into one of yours',
        params: S.IdParam,
        body: Type.Object({ name: Type.Optional(S.Name) }, { additionalProperties: false }),
        response: { 201: S.ContextT, ...problems(400, 401, 404, 409) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(
        contextView(
          model,
          service.contexts.clone(await user(req), {
            ref: req.params.id,
            ...(req.body.name ? { name: req.body.name } : {}),
          }),
        ),
      ),
  );
  api.put(
    '/contexts/:id/visibility',
    {
      schema: {
        summary: 'Make your context public or private',
        params: S.IdParam,
        body: Type.Object({ visibility: S.Visibility }, { additionalProperties: false }),
        response: { 200: S.ContextT, ...problems(400, 401, 404) },
      },
    },
    async (req) =>
      contextView(
        model,
        service.contexts.setVisibility(await user(req), { ref: req.params.id, visibility: req.body.visibility }),
      ),
  );

  // ---- cluster definitions -------------------------------------------------------------
  api.get(
    '/clusters',
    {
      schema: {
        summary: 'Your cluster definitions',
        response: { 200: Type.Object({ clusters: Type.Array(S.ClusterT) }), ...problems(401, 403) },
      },
    },
    async (req) => ({ clusters: service.clusters.list(await user(req)).map(clusterView) }),
  );
  api.put(
    '/clusters',
    {
      schema: {
        summary: 'Store a cluster definition (INI text in `definition`, or the INI as text/plain)',
        body: Type.Union([S.ClusterBody, Type.String({ minLength: 1, maxLength: 256 * 1024 })]),
        response: { 200: S.ClusterT, ...problems(400, 401, 422) },
      },
    },
    async (req) => {
      const ini = typeof req.body === 'string' ? req.body : req.body.definition;
      const rec = service.clusters.put(await user(req), ini);
      return { ...clusterView(rec), definition: rec.ini };
    },
  );
  api.get(
    '/clusters/:id',
    {
      schema: {
        summary:
          'One definition: JSON with its INI text and `spec`, the definition as parsed (the INI alone with Accept: text/plain)',
        params: S.IdParam,
        response: { 200: S.ClusterT, ...problems(401, 404) },
      },
    },
    async (req, reply) => {
      const rec = service.clusters.get(await user(req), req.params.id);
      const accept = req.headers.accept ?? '';
      if (/\btext\/plain\b/.test(accept) && !/\bapplication\/(json|\*)|\*\/\*/.test(accept)) {
        return reply
          .type('text/plain; charset=utf-8')
          .serializer(String)
          .send(rec.ini as never);
      }
      return {
        ...clusterView(rec),
        definition: rec.ini,
        spec: rec.definition as unknown as { name: string; services: Array<{ name: string; type: string }> },
      };
    },
  );

  // ---- deployments ---------------------------------------------------------------------
  api.post(
    '/deployments',
    {
      schema: {
        summary:
          'Deploy a cluster: 202 with the Location of the deployment (Idempotency-Key: a retry gets the first answer)',
        body: S.DeployBody,
        response: { 202: S.DeploymentT, ...problems(400, 401, 403, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const me = await user(req);
      return idempotent(req, reply, me, async () => {
        const dep = await service.deployments.deploy(me, req.body);
        return { status: 202, body: depView(dep), location: `/api/v1/deployments/${dep.id}` };
      });
    },
  );
  api.get(
    '/deployments',
    {
      schema: {
        summary: 'Your deployments, oldest first; `next` is the cursor of the following page',
        querystring: S.ListQuery,
        response: { 200: S.DeploymentList, ...problems(400, 401, 403) },
      },
    },
    async (req) => {
      const q = req.query;
      let all = service.deployments.status(await user(req));
      if (q.state) all = all.filter((x) => x.state === q.state);
      if (q.cluster) all = all.filter((x) => x.cluster === q.cluster);
      let from = 0;
      if (q.cursor) {
        const after = Buffer.from(q.cursor, 'base64url').toString('utf8');
        const i = all.findIndex((x) => x.id === after);
        if (i < 0)
          throw new HttpProblem(400, 'invalid-field', 'cursor: not a cursor of this list', { field: 'cursor' });
        from = i + 1;
      }
      const limit = q.limit ?? 50;
      const page = all.slice(from, from + limit);
      const more = from + limit < all.length;
      return {
        deployments: page.map(depView),
        ...(more ? { next: Buffer.from(page[page.length - 1]!.id).toString('base64url') } : {}),
      };
    },
  );
  api.get(
    '/deployments/:id',
    {
      schema: {
        summary: 'One deployment, with the state of its autoscaling policies',
        params: S.IdParam,
        response: { 200: S.DeploymentT, ...problems(401, 404) },
      },
    },
    async (req) => {
      const me = await user(req);
      const dep = service.deployments.get(me, req.params.id);
      return { ...depView(dep), autoscale: service.autoscale.show(me, dep.id) };
    },
  );
  api.post(
    '/deployments/:id/scale',
    {
      schema: {
        summary: 'Scale a scalable service: 202, follow the deployment',
        params: S.IdParam,
        body: S.ScaleBody,
        response: { 202: S.DeploymentT, ...problems(400, 401, 404, 409, 422) },
      },
    },
    async (req, reply) => {
      const me = await user(req);
      return idempotent(req, reply, me, async () => {
        const dep = service.deployments.scale(me, {
          deployment: req.params.id,
          service: req.body.service,
          count: req.body.count,
        });
        return { status: 202, body: depView(dep), location: `/api/v1/deployments/${dep.id}` };
      });
    },
  );
  api.delete(
    '/deployments/:id',
    {
      schema: {
        summary: 'Destroy a deployment: 202, follow it to destroyed',
        params: S.IdParam,
        response: { 202: S.DeploymentT, ...problems(401, 404) },
      },
    },
    async (req, reply) => {
      const dep = service.deployments.destroy(await user(req), { deployment: req.params.id });
      return reply.code(202).header('location', `/api/v1/deployments/${dep.id}`).send(depView(dep));
    },
  );
  api.get(
    '/deployments/:id/jobs',
    {
      schema: {
        summary: 'The jobs of a deployment',
        params: S.IdParam,
        response: { 200: Type.Object({ jobs: Type.Array(S.JobT) }), ...problems(401, 404) },
      },
    },
    async (req) => ({ jobs: service.deployments.jobs(await user(req), req.params.id).map(jobView) }),
  );
  api.get(
    '/jobs/:id',
    {
      schema: {
        summary: 'One job (deploy, scale, replace, destroy) of your deployments',
        params: S.IdParam,
        response: { 200: S.JobT, ...problems(401, 404) },
      },
    },
    async (req) => jobView(service.jobs.get(await user(req), req.params.id)),
  );
  api.get(
    '/deployments/:id/events',
    {
      schema: {
        summary: 'Events after `since` (polling; the stream is /events/stream)',
        params: S.IdParam,
        querystring: S.EventsQuery,
        response: { 200: Type.Object({ events: Type.Array(S.EventT) }), ...problems(400, 401, 404) },
      },
    },
    async (req) => ({
      events: service.deployments
        .events(await user(req), req.params.id, { afterSeq: req.query.since ?? 0, limit: req.query.limit ?? 1000 })
        .map(eventView),
    }),
  );

  addAutoscaleRoutes(api, d, user);
  addMarketRoutes(api, d, user, idempotent);
  addImageRoutes(api, d, user);

  // ---- clouds and pairing --------------------------------------------------------------
  api.get(
    '/clouds',
    {
      schema: {
        summary: 'The clouds and what they can still host',
        response: { 200: Type.Object({ clouds: Type.Array(S.CloudT) }), ...problems(401, 403) },
      },
    },
    async (req) => ({ clouds: service.clouds.list(await user(req)) }),
  );
  api.post(
    '/pairing-codes',
    {
      schema: {
        summary: 'A code that gives a running machine your context',
        body: S.PairingBody,
        response: {
          201: Type.Object({ code: Type.String(), expires: Type.Integer() }),
          ...problems(400, 401, 404, 422, 429),
        },
      },
    },
    async (req, reply) => {
      const me = await user(req);
      if (!service.pairing) throw new HttpProblem(404, 'not-found', 'pairing is not enabled on this gateway');
      return reply.code(201).send(
        service.pairing.code(me, {
          context: req.body.context,
          ...(req.body.version ? { version: req.body.version } : {}),
          ...(req.body.ttl_s ? { ttlS: req.body.ttl_s } : {}),
        }),
      );
    },
  );
}

/**
 * The three calls of the CERN Cloud Gateway's API server, as its CLI and Taverna workflow
 * made them, kept with their names and query parameters over the same service layer:
 *   POST /api/login.json      username, password (form or JSON) → { access_token, ... }
 *   POST /api/alloc.json      access_token, cluster[, count.<service>=N] → { id, status }
 *   GET  /api/jobstatus.json?id=61&access_token=...  → { id, status, ... }
 * `id` is the deployment id. Errors are problem+json like the rest of the API.
 */
import { Type } from 'typebox';
import { HttpProblem } from './http-problems.js';
import * as S from './http-schemas.js';
import { authenticate, type App, type RouteDeps } from './http.js';
import { deploymentView } from './views.js';

const Loose = Type.Object({}, { additionalProperties: Type.Union([Type.String({ maxLength: 4096 }), Type.Integer()]) });

export function addSeedRoutes(api: App, d: RouteDeps): void {
  const { service, tokens, model } = d;
  api.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const field = (o: unknown, k: string): string | undefined => {
    const v = (o as Record<string, unknown> | undefined)?.[k];
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  };
  const status = (id: string, user: string) => {
    const v = deploymentView(model, service.deployments.get(user, id));
    return {
      id: v.id,
      status: v.destroyed ?? v.state,
      cluster: v.cluster,
      services: v.services,
      instances: v.instances.map((i) => ({ name: i.name, state: i.state, ready: i.ready })),
    };
  };

  api.post(
    '/login.json',
    {
      schema: {
        summary: 'Seed compatibility: log in (username, password)',
        security: [],
        body: Loose,
        response: {
          200: Type.Object({ access_token: Type.String(), token_type: Type.String(), expires_in: Type.Integer() }),
          400: S.ProblemT,
          401: S.ProblemT,
          429: S.ProblemT,
          503: S.ProblemT,
        },
      },
    },
    async (req) => {
      const username = field(req.body, 'username')?.toLowerCase();
      const password = field(req.body, 'password');
      if (!username || !password)
        throw new HttpProblem(400, 'invalid-field', 'username and password are needed', {
          field: username ? 'password' : 'username',
        });
      const wait = d.login.retryAfter(req.ip, username);
      if (wait > 0)
        throw new HttpProblem(429, 'rate-limited', `too many failed logins; try again in ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      const r = await d.login.check(req.ip, username, password);
      if (r === 'unavailable')
        throw new HttpProblem(503, 'xmpp-unavailable', 'the XMPP server did not answer; try again');
      if (r !== 'ok') throw new HttpProblem(401, 'bad-credentials', 'wrong user name or password');
      const a = await tokens.accessToken(username, 'full');
      return { access_token: a.token, token_type: 'Bearer', expires_in: a.expiresIn };
    },
  );

  api.post(
    '/alloc.json',
    {
      schema: {
        summary: 'Seed compatibility: deploy a cluster (cluster, count.<service>)',
        body: Loose,
        querystring: Loose,
        response: {
          202: Type.Object({ id: Type.String(), status: Type.String() }),
          400: S.ProblemT,
          401: S.ProblemT,
          403: S.ProblemT,
          404: S.ProblemT,
          409: S.ProblemT,
          422: S.ProblemT,
        },
      },
    },
    async (req, reply) => {
      if (!req.headers.authorization && !field(req.query, 'access_token') && field(req.body, 'access_token')) {
        (req.query as Record<string, unknown>).access_token = field(req.body, 'access_token');
      }
      const p = await authenticate(req, tokens, true, true);
      const cluster = field(req.body, 'cluster') ?? field(req.query, 'cluster');
      if (!cluster)
        throw new HttpProblem(400, 'invalid-field', 'cluster: name the cluster definition to deploy', {
          field: 'cluster',
        });
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries({ ...(req.query as object), ...(req.body as object) })) {
        if (!k.startsWith('count.')) continue;
        const n = typeof v === 'number' ? v : /^\d{1,9}$/.test(String(v)) ? Number(v) : NaN;
        if (!Number.isSafeInteger(n)) throw new HttpProblem(400, 'invalid-field', `${k}: an integer`, { field: k });
        counts[k.slice(6)] = n;
      }
      const dep = await service.deployments.deploy(p.user, { cluster, counts });
      return reply
        .code(202)
        .header('location', `/api/jobstatus.json?id=${dep.id}`)
        .send({ id: dep.id, status: dep.state });
    },
  );

  api.get(
    '/jobstatus.json',
    {
      schema: {
        summary: "Seed compatibility: a deployment's state (id, access_token)",
        querystring: Type.Object(
          { id: S.Id, access_token: Type.Optional(Type.String({ maxLength: 4096 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            id: Type.String(),
            status: Type.String(),
            cluster: Type.String(),
            services: Type.Array(Type.Unknown()),
            instances: Type.Array(Type.Unknown()),
          }),
          400: S.ProblemT,
          401: S.ProblemT,
          404: S.ProblemT,
        },
      },
    },
    async (req) => status(req.query.id, (await authenticate(req, tokens, false, true)).user),
  );
}

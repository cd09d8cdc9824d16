/**
 * The HTTP API: a thin front over the service layer (service.ts), served from the
 * gateway's own process so it calls the same use cases IQ and chat call, with the same
 * authorization and no second copy of any rule (README "HTTP API" says why in-process).
 * fastify 5 with TypeBox schemas: requests are validated against them (unknown fields
 * refused), and @fastify/swagger makes the OpenAPI 3.1 document of the same schemas.
 *
 * TLS with the operator's certificate; plain HTTP is refused unless the address is loopback.
 */
import type { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ConfigError, type Logger } from '../../core/index.js';
import type { LoginCheck } from './http-login.js';
import { HttpProblem, toProblem } from './http-problems.js';
import { addResourceRoutes } from './http-routes.js';
import { addSeedRoutes } from './http-seed.js';
import { addStreamRoutes } from './http-stream.js';
import { createHttpTokens, type HttpTokens, type Principal } from './http-tokens.js';
import type { GatewayModel } from './model/index.js';
import type { Service } from './service.js';
import { assetUrl } from './web-assets.js';
import { addWebRoutes, CSP } from './web-routes.js';
import { cookies, createSessions, SESSION_COOKIE, type WebSessions } from './web-session.js';

export interface HttpOptions {
  host: string;
  port: number;
  /** PEM certificate and key; without them only a loopback address may be served. */
  tls?: { cert: string; key: string };
  accessTtlS?: number;
  refreshTtlS?: number;
  /** Largest request body in bytes. */
  bodyLimit?: number;
  /** Failed logins allowed per address and per account per minute. */
  loginFailures?: number;
}

export interface HttpFront {
  readonly app: App;
  /** https://host:port or http://127.0.0.1:port, once listening. */
  readonly url: string;
  /** The web pages: `${url}/web/`, once listening. */
  readonly webUrl: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;
export interface RouteDeps {
  service: Service;
  model: GatewayModel;
  tokens: HttpTokens;
  login: LoginCheck;
  events: EventEmitter;
  log: Logger;
  /** The web pages' sessions: a GET (the pages' event streams) may use one instead of a token. */
  sessions: WebSessions;
}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

/**
 * The principal of a request, or 401; `write` needs a full-scope token. Only the seed's
 * calls take the token from the query (`queryToken`): URLs end up in logs and histories.
 */
export async function authenticate(
  req: FastifyRequest,
  tokens: HttpTokens,
  write: boolean,
  queryToken = false,
  sessions?: WebSessions,
): Promise<Principal> {
  const h = req.headers.authorization;
  const q = queryToken ? (req.query as { access_token?: unknown } | undefined)?.access_token : undefined;
  const bearer = h?.startsWith('Bearer ') ? h.slice(7).trim() : typeof q === 'string' ? q : undefined;
  // A web session reads only: its writes go through the pages' forms, which check CSRF.
  const web =
    !bearer && !write && req.method === 'GET'
      ? sessions?.get(cookies(req.headers.cookie).get(SESSION_COOKIE))
      : undefined;
  if (web) {
    req.principal = { user: web.user, scope: 'read', via: 'access' };
    return req.principal;
  }
  if (!bearer)
    throw new HttpProblem(401, 'unauthenticated', 'an Authorization: Bearer token is needed (POST /api/v1/login)');
  const p = await tokens.verify(bearer);
  if (!p) throw new HttpProblem(401, 'invalid-token', 'the token is malformed, expired or revoked');
  if (write && p.scope !== 'full') throw new HttpProblem(403, 'insufficient-scope', 'this token is read-only');
  req.principal = p;
  return p;
}

export function createHttpFront(
  o: HttpOptions & { service: Service; model: GatewayModel; login: LoginCheck; events: EventEmitter; log: Logger },
): HttpFront {
  if (!o.tls && !isLoopback(o.host)) {
    throw new ConfigError(
      `[http] host ${o.host}: plain HTTP is served on loopback only; give cert and key for any other address`,
    );
  }
  const app = Fastify({
    // fastify logs every request at info; the gateway's log keeps warnings and errors of this front.
    loggerInstance: o.log.child({}, { level: (o.log.levels.values[o.log.level] ?? 30) > 40 ? o.log.level : 'warn' }),
    bodyLimit: o.bodyLimit ?? 512 * 1024,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key } } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  const tokens = createHttpTokens({
    model: o.model,
    accessTtlS: o.accessTtlS ?? 900,
    refreshTtlS: o.refreshTtlS ?? 30 * 86400,
    issuer: 'cloudgate-gateway',
  });
  const sessions = createSessions({ db: o.model.db });
  const deps: RouteDeps = {
    service: o.service,
    model: o.model,
    tokens,
    login: o.login,
    events: o.events,
    log: o.log,
    sessions,
  };

  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cloudgate gateway API',
        version: '1.0.0',
        description: 'Deploy and manage clusters over HTTP; the same use cases as the XMPP API.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err, (e) => req.log.error({ err: e, url: req.url.split('?')[0] }, 'HTTP request failed'));
    const headers = err instanceof HttpProblem ? err.extra.headers : undefined;
    if (headers) reply.headers(headers);
    return reply.code(p.status).type('application/problem+json').send(JSON.stringify(p));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .type('application/problem+json')
      .send(
        JSON.stringify(
          toProblem(new HttpProblem(404, 'not-found', `no route ${req.method} ${req.url.split('?')[0]}`), () => {}),
        ),
      ),
  );

  app.register(
    async (api) => {
      addResourceRoutes(api as unknown as App, deps);
      addStreamRoutes(api as unknown as App, deps);
    },
    { prefix: '/api/v1' },
  );
  app.register(async (seed) => addSeedRoutes(seed as unknown as App, deps), { prefix: '/api' });
  app.register(async (web) => addWebRoutes(web as unknown as App, { ...deps, secure: !!o.tls }), { prefix: '/web' });
  app.get('/', { schema: { hide: true } }, async (_req, reply: FastifyReply) => reply.redirect('/web/', 302));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api/docs', { schema: { hide: true } }, async (_req, reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(DOCS_PAGE),
  );

  let url = '';
  return {
    app,
    get url() {
      return url;
    },
    get webUrl() {
      return url && `${url}/web/`;
    },
    async start() {
      await app.listen({ host: o.host, port: o.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.port;
      url = `${o.tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
    },
    async stop() {
      await app.close();
    },
  };
}

/** A small browsable page over the OpenAPI document (no assets from elsewhere, no inline script). */
const DOCS_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cloudgate API</title>
<link rel="stylesheet" href="${assetUrl('web.css')}"><script src="${assetUrl('docs.js')}" defer></script></head>
<body><main><h1>cloudgate API</h1><p>The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a></p><div id="ops"></div></main></body></html>`;

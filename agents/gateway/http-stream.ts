/**
 * Server-Sent Events: one stream per deployment and one for all of a user's deployments.
 * Each event's id is its sequence number (they only grow), so a client that reconnects
 * with Last-Event-ID (or ?since=) gets exactly the events after the last one it saw: the
 * stored ones first, then live ones, none twice (live events at or below what was sent
 * are skipped). A comment line every 15 s keeps proxies from closing an idle stream.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { HttpProblem } from './http-problems.js';
import * as S from './http-schemas.js';
import { eventView } from './http-routes.js';
import { authenticate, type App, type RouteDeps } from './http.js';
import type { DeploymentEvent } from './model/index.js';

const KEEPALIVE_MS = 15_000;

function resumeFrom(req: FastifyRequest, since: number | undefined): number {
  const h = req.headers['last-event-id'];
  if (typeof h === 'string' && h !== '') {
    if (!/^\d{1,15}$/.test(h))
      throw new HttpProblem(400, 'invalid-field', 'Last-Event-ID: an event sequence number', {
        field: 'Last-Event-ID',
      });
    return Number(h);
  }
  return since ?? 0;
}

export function addStreamRoutes(api: App, d: RouteDeps): void {
  const { service, events, model } = d;

  /** Streams `backlog()` then live events passing `wanted`, from after `from`. */
  const stream = (
    req: FastifyRequest,
    reply: FastifyReply,
    from: number,
    backlog: (after: number) => DeploymentEvent[],
    wanted: (e: DeploymentEvent) => boolean,
  ) => {
    let last = from;
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (e: DeploymentEvent) => {
      if (e.seq <= last) return;
      last = e.seq;
      raw.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(eventView(e))}\n\n`);
    };
    const live = (e: DeploymentEvent) => {
      if (wanted(e)) send(e);
    };
    // Subscribed before the backlog is read: an event appended meanwhile comes through one
    // of the two, and `last` drops the second copy.
    events.on('event', live);
    raw.write(': cloudgate event stream\nretry: 2000\n\n');
    for (const e of backlog(last)) send(e);
    const ping = setInterval(() => raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
    ping.unref();
    const end = () => {
      clearInterval(ping);
      events.off('event', live);
    };
    req.raw.on('close', end);
    raw.on('error', end);
  };

  api.get(
    '/deployments/:id/events/stream',
    {
      schema: {
        summary:
          "The deployment's events as Server-Sent Events (ids are sequence numbers; reconnect with Last-Event-ID)",
        params: S.IdParam,
        querystring: Type.Object(
          { since: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), 401: S.ProblemT, 404: S.ProblemT },
      },
    },
    async (req, reply) => {
      const p = await authenticate(req, d.tokens, false, false, d.sessions);
      const id = req.params.id;
      service.deployments.get(p.user, id);
      stream(
        req,
        reply,
        resumeFrom(req, req.query.since),
        (after) => service.deployments.events(p.user, id, { afterSeq: after, limit: 100_000 }),
        (e) => e.deploymentId === id,
      );
    },
  );

  api.get(
    '/events/stream',
    {
      schema: {
        summary: 'The events of all your deployments as Server-Sent Events (reconnect with Last-Event-ID)',
        querystring: Type.Object(
          { since: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        produces: ['text/event-stream'],
        response: { 200: Type.String({ description: 'text/event-stream' }), 401: S.ProblemT, 403: S.ProblemT },
      },
    },
    async (req, reply) => {
      const p = await authenticate(req, d.tokens, false, false, d.sessions);
      const mine = service.deployments.status(p.user).map((x) => x.id);
      stream(
        req,
        reply,
        resumeFrom(req, req.query.since),
        (after) =>
          mine
            .flatMap((id) => model.events.list(id, { afterSeq: after, limit: 100_000 }))
            .sort((a, b) => a.seq - b.seq),
        (e) => service.deployments.canSee(p.user, e.deploymentId),
      );
    },
  );
}

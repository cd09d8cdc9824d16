/**
 * The web pages under /web: server-rendered HTML over the same service layer as the HTTP
 * API, a session cookie from a login checked by the XMPP server (http-login.ts), a CSRF
 * token on every state-changing form, and two static files (web/live.js, web/web.css).
 * The Content-Security-Policy allows scripts and styles from the gateway only, so no
 * inline script can run even if some text escaped escaping.
 * The live parts read the API's own event streams, which take the session cookie for GET.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CloudgateError } from '../../core/index.js';
import { toProblem } from './http-problems.js';
import type { App, RouteDeps } from './http.js';
import { ContextRejectedError } from './model/index.js';
import { contextView, deploymentView } from './views.js';
import { html, page, type Html } from './web-html.js';
import { contextsPage, dashboardPage, deployPage, deploymentPage, destroyPage, loginPage } from './web-pages.js';
import { addMarketPages } from './web-market.js';
import {
  cookies,
  LOGIN_COOKIE,
  newSecret,
  sameSecret,
  SESSION_COOKIE,
  setCookie,
  type WebSession,
  type WebSessions,
} from './web-session.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const assetsDir = fileURLToPath(new URL('../../../agents/gateway/web/', import.meta.url));
const ASSETS: Record<string, string> = {
  'live.js': 'text/javascript; charset=utf-8',
  'web.css': 'text/css; charset=utf-8',
};

type Form = Record<string, string>;
const field = (f: Form, k: string) => (typeof f[k] === 'string' ? f[k]! : '');

/** `worker=2, web=3` as counts; an Error naming the bad part otherwise. */
export function parseCounts(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,128})=(\d{1,6})$/.exec(part);
    if (!m) throw new Error(`counts: "${part}" is not service=number`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function addWebRoutes(web: App, d: RouteDeps & { sessions: WebSessions; secure: boolean }): void {
  const { service, model, sessions } = d;
  const assets = new Map(Object.keys(ASSETS).map((f) => [f, readFileSync(`${assetsDir}${f}`, 'utf8')]));

  // The pages are not part of the API's OpenAPI document.
  web.addHook('onRoute', (r) => {
    r.schema = { ...r.schema, hide: true };
  });
  web.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  web.addHook('onSend', async (_req, reply, payload) => {
    reply
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-store');
    return payload;
  });

  const send = (reply: FastifyReply, title: string, body: Html, s?: WebSession, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(page(title, body, s ? { jid: s.user, csrf: s.csrf } : undefined));
  const session = (req: FastifyRequest) => sessions.get(cookies(req.headers.cookie).get(SESSION_COOKIE));
  /** The session of a page, or a redirect to the login page (undefined then). */
  const need = (req: FastifyRequest, reply: FastifyReply): WebSession | undefined => {
    const s = session(req);
    if (!s) void reply.redirect('/web/login', 303);
    return s;
  };
  /** The session of a form post whose CSRF token matches; a 403 page otherwise. */
  const needPost = (req: FastifyRequest, reply: FastifyReply): { s: WebSession; f: Form } | undefined => {
    const s = need(req, reply);
    if (!s) return undefined;
    const f = (req.body ?? {}) as Form;
    if (!sameSecret(f.csrf, s.csrf)) {
      void send(reply, 'Refused', page403(), s, 403);
      return undefined;
    }
    return { s, f };
  };
  const page403 = () =>
    html`<p class="error" role="alert">This form is out of date or did not come from this site (its CSRF token does not match). Go back, reload and try again.</p>`;
  /** A use case's error as a message for the page, and its HTTP status. */
  const failure = (err: unknown): { status: number; message: string } => {
    if (err instanceof CloudgateError || (err instanceof Error && err.message.startsWith('counts:'))) {
      const p = toProblem(err, () => {});
      return { status: p.status >= 500 ? 422 : p.status, message: err.message };
    }
    throw err;
  };

  web.get('/assets/:file', async (req, reply) => {
    const f = (req.params as { file: string }).file;
    const body = assets.get(f);
    if (body === undefined) return reply.code(404).type('text/plain').send('no such file');
    return reply.type(ASSETS[f]!).send(body);
  });

  // ---- login and logout ----------------------------------------------------------------
  web.get('/login', async (_req, reply) => {
    const token = newSecret();
    reply.header('set-cookie', setCookie(LOGIN_COOKIE, token, { secure: d.secure, maxAgeS: 3600 }));
    return send(reply, 'Log in', loginPage(token));
  });
  web.post('/login', async (req, reply) => {
    const f = (req.body ?? {}) as Form;
    const again = (status: number, message: string) => {
      const token = newSecret();
      reply.header('set-cookie', setCookie(LOGIN_COOKIE, token, { secure: d.secure, maxAgeS: 3600 }));
      return send(reply, 'Log in', loginPage(token, message), undefined, status);
    };
    if (!sameSecret(f.csrf, cookies(req.headers.cookie).get(LOGIN_COOKIE)))
      return again(403, 'The login form was out of date; please try again.');
    const jid = field(f, 'username').trim().toLowerCase();
    const wait = d.login.retryAfter(req.ip, jid);
    if (wait > 0) return again(429, `Too many failed logins; try again in ${wait} s.`);
    const r = await d.login.check(req.ip, jid, field(f, 'password'));
    if (r === 'unavailable') return again(503, 'The XMPP server did not answer; try again.');
    if (r !== 'ok') return again(401, 'Wrong user name or password.');
    const s = sessions.open(jid);
    reply.header('set-cookie', [
      setCookie(SESSION_COOKIE, s.id, { secure: d.secure, maxAgeS: sessions.ttlS }),
      setCookie(LOGIN_COOKIE, '', { secure: d.secure, maxAgeS: 0 }),
    ]);
    return reply.redirect('/web/', 303);
  });
  web.post('/logout', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    sessions.close(ok.s.id);
    reply.header('set-cookie', setCookie(SESSION_COOKIE, '', { secure: d.secure, maxAgeS: 0 }));
    return reply.redirect('/web/login', 303);
  });

  // ---- deployments ---------------------------------------------------------------------
  web.get('/', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      return send(
        reply,
        'Deployments',
        dashboardPage(
          service.deployments
            .status(s.user)
            .map((x) => deploymentView(model, x))
            .reverse(),
        ),
        s,
      );
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  const showDeployment = (reply: FastifyReply, s: WebSession, id: string, error?: string, status = 200) => {
    const dep = service.deployments.get(s.user, id);
    const events = service.deployments.events(s.user, id, { afterSeq: 0, limit: 100_000 });
    return send(
      reply,
      `Deployment ${dep.cluster}`,
      deploymentPage(deploymentView(model, dep), dep, events, s.csrf, error),
      s,
      status,
    );
  };
  const pageError = (reply: FastifyReply, s: WebSession, err: unknown) => {
    const e = failure(err);
    return send(reply, 'Not possible', errorPage(e.message), s, e.status);
  };
  web.get('/deployments/:id', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      return showDeployment(reply, s, (req.params as { id: string }).id);
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  web.post('/deployments/:id/scale', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    const id = (req.params as { id: string }).id;
    try {
      const count = field(ok.f, 'count');
      if (!/^\d{1,6}$/.test(count)) throw new Error(`counts: "${count}" is not a number of instances`);
      service.deployments.scale(ok.s.user, { deployment: id, service: field(ok.f, 'service'), count: Number(count) });
      return reply.redirect(`/web/deployments/${encodeURIComponent(id)}`, 303);
    } catch (err) {
      const e = failure(err);
      try {
        return showDeployment(reply, ok.s, id, e.message, e.status);
      } catch (again) {
        return pageError(reply, ok.s, again);
      }
    }
  });
  web.get('/deployments/:id/destroy', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      const dep = service.deployments.get(s.user, (req.params as { id: string }).id);
      return send(reply, `Destroy ${dep.cluster}?`, destroyPage(deploymentView(model, dep), s.csrf), s);
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  web.post('/deployments/:id/destroy', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    const id = (req.params as { id: string }).id;
    try {
      service.deployments.destroy(ok.s.user, { deployment: id });
      return reply.redirect(`/web/deployments/${encodeURIComponent(id)}`, 303);
    } catch (err) {
      return pageError(reply, ok.s, err);
    }
  });
  web.get('/deploy', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      return send(reply, 'Deploy', deployPage(service.clusters.list(s.user), s.csrf), s);
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  web.post('/deploy', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    const pass = field(ok.f, 'passphrase');
    try {
      const dep = await service.deployments.deploy(ok.s.user, {
        cluster: field(ok.f, 'cluster'),
        counts: parseCounts(field(ok.f, 'counts')),
        ...(pass ? { passphrase: pass } : {}),
      });
      return reply.redirect(`/web/deployments/${encodeURIComponent(dep.id)}`, 303);
    } catch (err) {
      const e = failure(err);
      try {
        return send(
          reply,
          'Deploy',
          deployPage(service.clusters.list(ok.s.user), ok.s.csrf, e.message, {
            cluster: field(ok.f, 'cluster'),
            counts: field(ok.f, 'counts'),
          }),
          ok.s,
          e.status,
        );
      } catch (again) {
        return pageError(reply, ok.s, again);
      }
    }
  });

  addMarketPages(web, { service, send, need, needPost, failure, parseCounts });

  // ---- contexts ------------------------------------------------------------------------
  const contextList = (s: WebSession) => service.contexts.list(s.user).map((c) => contextView(model, c));
  web.get('/contexts', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      return send(reply, 'Contexts', contextsPage(contextList(s), s.csrf), s);
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  web.post('/contexts', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    const name = field(ok.f, 'name').trim();
    const body = field(ok.f, 'body').replace(/\r\n/g, '\n');
    const pass = field(ok.f, 'passphrase');
    try {
      if (!name) throw new InvalidName('name: give the context a name');
      if (name.length > 128) throw new InvalidName('name: at most 128 characters');
      const r = await service.contexts.put(ok.s.user, { name, body, ...(pass ? { passphrase: pass } : {}) });
      return send(
        reply,
        'Contexts',
        contextsPage(contextList(ok.s), ok.s.csrf, { saved: `${r.context.name} version ${r.context.latest}` }),
        ok.s,
      );
    } catch (err) {
      const problems = err instanceof ContextRejectedError ? err.problems : undefined;
      const e = err instanceof InvalidName ? { status: 422, message: err.message } : failure(err);
      try {
        return send(
          reply,
          'Contexts',
          contextsPage(contextList(ok.s), ok.s.csrf, {
            error: problems ? `The context has ${problems.length} problem(s); nothing was saved.` : e.message,
            ...(problems ? { problems } : {}),
            name,
            body,
          }),
          ok.s,
          e.status,
        );
      } catch (again) {
        return pageError(reply, ok.s, again);
      }
    }
  });
}

class InvalidName extends Error {}

function errorPage(message: string): Html {
  return html`<p class="error" role="alert">${message}</p><p><a href="/web/">Back to your deployments</a></p>`;
}

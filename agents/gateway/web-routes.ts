/**
 * The web pages under /web: server-rendered HTML over the same service layer as the HTTP
 * API, a session cookie from a login checked by the XMPP server (http-login.ts), a CSRF
 * token on every state-changing form, and static files from web/ (live.js, web.css, and
 * docs.js for /api/docs). Clouds, pairing and the admin view are in their own web-*.ts files.
 * The Content-Security-Policy allows scripts and styles from the gateway only, so no
 * inline script can run even if some text escaped escaping.
 * The live parts read the API's own event streams, which take the session cookie for GET.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CloudgateError } from '../../core/index.js';
import { toProblem } from './http-problems.js';
import type { App, RouteDeps } from './http.js';
import type { Deployment } from './model/index.js';
import { deploymentView } from './views.js';
import { addAdminPages } from './web-admin.js';
import { asset, assetCaching } from './web-assets.js';
import { addCloudPages } from './web-clouds.js';
import { addClusterPages } from './web-clusters.js';
import { addContextPages } from './web-contexts.js';
import { countsFromForm, deployForm, needsPassphrase, parseCounts } from './web-deploy.js';
import { addWebAutoscaleRoutes, autoscaleSection } from './web-autoscale.js';
import { html, page, type Html } from './web-html.js';
import type { WebKit } from './web-kit.js';
import { addPairingPages } from './web-pairing.js';
import { dashboardPage, deploymentPage, destroyPage, loginPage } from './web-pages.js';
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

/** Scripts, styles and everything else from the gateway only: no inline script runs. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

type Form = Record<string, string>;
const field = (f: Form, k: string) => (typeof f[k] === 'string' ? f[k]! : '');

export function addWebRoutes(web: App, d: RouteDeps & { sessions: WebSessions; secure: boolean }): void {
  const { service, model, sessions } = d;

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
      .header('referrer-policy', 'same-origin');
    // Pages are never stored (they show a session's data); static files say how long they keep.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  const send = (reply: FastifyReply, title: string, body: Html, s?: WebSession, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(
        page(title, body, s ? { jid: s.user, csrf: s.csrf, admin: service.users.whoami(s.user).admin } : undefined),
      );
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
    const a = asset((req.params as { file: string }).file);
    if (a === undefined) return reply.code(404).type('text/plain').send('no such file');
    return reply
      .header('cache-control', assetCaching(a, (req.query as { v?: unknown }).v))
      .type(a.type)
      .send(a.body);
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
  /** The autoscaling part of a live deployment's page (an ended one has no decisions to show or change). */
  const liveAutoscale = (s: WebSession, dep: Deployment) =>
    dep.destroyedAt !== undefined || dep.state === 'failed' || dep.state === 'aborted'
      ? undefined
      : autoscaleSection(dep.id, service.autoscale.show(s.user, dep.id), s.csrf);
  const showDeployment = async (
    reply: FastifyReply,
    s: WebSession,
    id: string,
    error?: string,
    status = 200,
    allEvents = false,
  ) => {
    const dep = service.deployments.get(s.user, id);
    const events = service.deployments.events(s.user, id, { afterSeq: 0, limit: 100_000 });
    const addresses = await service.clouds.addresses(s.user, id);
    return send(
      reply,
      `Deployment ${dep.cluster}`,
      deploymentPage(deploymentView(model, dep), dep, events, s.csrf, error, {
        addresses,
        allEvents,
        autoscale: liveAutoscale(s, dep),
      }),
      s,
      status,
    );
  };
  const pageError = (reply: FastifyReply, s: WebSession, err: unknown) => {
    const e = failure(err);
    return send(reply, 'Not possible', errorPage(e.message), s, e.status);
  };
  /** A form's use case refused: the deployment's page again, saying why (or an error page if it cannot be shown). */
  const refused = async (reply: FastifyReply, s: WebSession, id: string, err: unknown) => {
    const e = failure(err);
    try {
      return await showDeployment(reply, s, id, e.message, e.status);
    } catch (again) {
      return pageError(reply, s, again);
    }
  };
  web.get('/deployments/:id', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      const all = (req.query as { events?: unknown } | undefined)?.events === 'all';
      return await showDeployment(reply, s, (req.params as { id: string }).id, undefined, 200, all);
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
      return refused(reply, ok.s, id, err);
    }
  });
  addWebAutoscaleRoutes(web, { service, needPost, refused });
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
  const deployPage = (s: WebSession, name: string | undefined, o: { error?: string; sticky?: Form } = {}) => {
    const clusters = service.clusters.list(s.user);
    const chosen = clusters.find((c) => c.name === name) ?? (name === undefined ? clusters[0] : undefined);
    const error = o.error ?? (name !== undefined && !chosen ? `no cluster definition '${name}'` : undefined);
    const encrypted = chosen ? needsPassphrase(model, s.user, chosen) : false;
    return deployForm(clusters, chosen, {
      csrf: s.csrf,
      encrypted,
      ...(error ? { error } : {}),
      sticky: o.sticky ?? {},
    });
  };
  web.get('/deploy', async (req, reply) => {
    const s = need(req, reply);
    if (!s) return reply;
    try {
      const q = (req.query ?? {}) as { cluster?: unknown };
      return send(reply, 'Deploy', deployPage(s, typeof q.cluster === 'string' ? q.cluster : undefined), s);
    } catch (err) {
      return pageError(reply, s, err);
    }
  });
  web.post('/deploy', async (req, reply) => {
    const ok = needPost(req, reply);
    if (!ok) return reply;
    const pass = field(ok.f, 'passphrase');
    const cluster = field(ok.f, 'cluster');
    try {
      const rec = service.clusters.list(ok.s.user).find((c) => c.name === cluster);
      const dep = await service.deployments.deploy(ok.s.user, {
        cluster,
        counts: countsFromForm(rec, ok.f),
        ...(pass ? { passphrase: pass } : {}),
      });
      return reply.redirect(`/web/deployments/${encodeURIComponent(dep.id)}`, 303);
    } catch (err) {
      const e = failure(err);
      try {
        return send(reply, 'Deploy', deployPage(ok.s, cluster, { error: e.message, sticky: ok.f }), ok.s, e.status);
      } catch (again) {
        return pageError(reply, ok.s, again);
      }
    }
  });

  // ---- pages in their own files --------------------------------------------------------
  const kit: WebKit = { send, need, needPost, failure, pageError };
  for (const pages of [addContextPages, addClusterPages, addCloudPages, addPairingPages, addAdminPages])
    pages(web, d, kit);
  addMarketPages(web, { service, send, need, needPost, failure, parseCounts });
}

function errorPage(message: string): Html {
  return html`<p class="error" role="alert">${message}</p><p><a href="/web/">Back to your deployments</a></p>`;
}

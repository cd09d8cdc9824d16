/**
 * The autoscaling part of a deployment's web page: each policy, whether it is in force
 * (and why not), the reason of its latest decision, and a pause or resume button (a form
 * with the session's CSRF token, posted to the route below).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AutoscaleView } from './autoscale/index.js';
import type { App } from './http.js';
import type { Service } from './service.js';
import { html, type Html } from './web-html.js';
import type { WebSession } from './web-session.js';

const AUTOSCALE_ACTIONS = ['pause', 'resume'] as const;

export function autoscaleSection(deployment: string, views: readonly AutoscaleView[], csrf: string): Html {
  if (!views.length) return html``;
  const rows = views.map((v) => {
    const action = v.paused ? 'resume' : 'pause';
    return html`<tr data-policy="${v.service}"><td>${v.service}</td><td>${v.paused ? 'PAUSED' : 'active'}${v.note ? html`<br><small>${v.note}</small>` : html``}</td>
<td>${v.policy}</td><td>${v.last ?? 'none yet'}</td>
<td><form method="post" action="/web/deployments/${deployment}/autoscale/${v.service}/${action}" class="inline"><input type="hidden" name="csrf" value="${csrf}"><button>${v.paused ? 'Resume' : 'Pause'}</button></form></td></tr>`;
  });
  return html`<h2>Autoscaling</h2><div class="scroll"><table id="autoscale"><thead><tr><th>Service</th><th>State</th><th>Policy</th><th>Latest decision</th><th></th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * POST /web/deployments/:id/autoscale/:service/pause|resume: the session's user pauses or
 * resumes a policy (the service layer checks the deployment is theirs and live), then sees
 * the deployment again; a refusal is shown on the deployment's page.
 */
export function addWebAutoscaleRoutes(
  web: App,
  d: {
    service: Service;
    /** The session of a form post whose CSRF token matches (a 403 page was sent otherwise). */
    needPost: (req: FastifyRequest, reply: FastifyReply) => { s: WebSession } | undefined;
    /** The deployment's page again, with what went wrong. */
    refused: (reply: FastifyReply, s: WebSession, id: string, err: unknown) => unknown;
  },
): void {
  for (const action of AUTOSCALE_ACTIONS)
    web.post(`/deployments/:id/autoscale/:service/${action}`, async (req, reply) => {
      const ok = d.needPost(req, reply);
      if (!ok) return reply;
      const { id, service } = req.params as { id: string; service: string };
      try {
        d.service.autoscale[action](ok.s.user, id, service);
        return reply.redirect(`/web/deployments/${encodeURIComponent(id)}`, 303);
      } catch (err) {
        return d.refused(reply, ok.s, id, err);
      }
    });
}

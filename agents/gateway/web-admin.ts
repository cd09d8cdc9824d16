/**
 * The admin view: every user's deployments and each cloud's quota use. Only the gateway's
 * admins (its [access] admins) see it; the service layer refuses anyone else (403 page).
 */
import type { CloudQuota } from './cloud-reads.js';
import type { App, RouteDeps } from './http.js';
import { ForbiddenError } from './model/index.js';
import { deploymentView } from './views.js';
import { html, type Html } from './web-html.js';
import type { WebKit } from './web-kit.js';
import type { DeploymentView } from './wire.js';

const troubled = (v: DeploymentView) =>
  v.state === 'failed' || v.state === 'aborted' || v.instances.some((i) => i.state === 'failed');

export function adminPage(deployments: DeploymentView[], quota: CloudQuota[]): Html {
  const owners = [...new Set(deployments.map((v) => v.owner))].sort();
  const perOwner = owners.map((o) => {
    const rows = deployments
      .filter((v) => v.owner === o)
      .map(
        (
          v,
        ) => html`<tr data-deployment="${v.id}"><td data-label="Deployment"><a href="/web/deployments/${v.id}">${v.cluster}</a> <small>${v.id}</small></td>
<td data-label="State" class="state state-${v.destroyed ?? v.state}${troubled(v) ? ' badge-bad' : ''}">${v.destroyed ?? v.state}</td>
<td data-label="Instances">${v.instances.filter((i) => i.state !== 'terminated').length}</td>
<td data-label="Clouds">${[...new Set(v.instances.map((i) => i.cloud).filter((c) => c))].join(', ')}</td></tr>`,
      );
    return html`<h3 class="owner">${o}</h3><div class="scroll"><table class="cards" data-owner="${o}"><thead><tr><th>Deployment</th><th>State</th><th>Instances</th><th>Clouds</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  });
  const clouds = quota.map(
    (c) => html`<tr data-cloud="${c.name}"><td data-label="Cloud">${c.name}<br><small>${c.jid}</small></td>
<td data-label="Status">${c.online ? 'online' : html`<span class="badge-bad">offline</span>`}</td>
<td data-label="Used" class="used">${c.online ? `${c.used} of ${c.used + c.free}` : ''}</td>
<td data-label="Free">${c.online ? c.free : ''}</td>
<td data-label="By owner">${Object.entries(c.byOwner)
      .sort()
      .map(([o, n]) => `${o}: ${n}`)
      .join(', ')}</td></tr>`,
  );
  return html`<h2>Clouds' quota use</h2><div class="scroll"><table id="quota" class="cards"><thead><tr><th>Cloud</th><th>Status</th><th>Used</th><th>Free</th><th>By owner (this gateway)</th></tr></thead>
<tbody>${clouds.length ? clouds : html`<tr><td colspan="5">No clouds configured.</td></tr>`}</tbody></table></div>
<h2>Every user's deployments</h2>${perOwner.length ? perOwner : html`<p>No deployments.</p>`}`;
}

export function addAdminPages(web: App, d: RouteDeps, k: WebKit): void {
  web.get('/admin', async (req, reply) => {
    const s = k.need(req, reply);
    if (!s) return reply;
    try {
      const quota = d.service.admin.quota(s.user);
      const all = d.service.deployments
        .status(s.user)
        .map((x) => deploymentView(d.model, x))
        .reverse();
      return k.send(reply, 'Admin', adminPage(all, quota), s);
    } catch (err) {
      if (err instanceof ForbiddenError)
        return k.send(
          reply,
          'Forbidden',
          html`<p class="error" role="alert">Only the gateway's admins see this page.</p><p><a href="/web/">Back to your deployments</a></p>`,
          s,
          403,
        );
      return k.pageError(reply, s, err);
    }
  });
}

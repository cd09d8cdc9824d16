/**
 * The clouds page: which clouds are online, their free room, and whether each lets this
 * user deploy (the cloud agent's own ACL and quota answer, through the service layer).
 */
import type { App, RouteDeps } from './http.js';
import type { CloudUse } from './cloud-reads.js';
import { html, type Html } from './web-html.js';
import type { WebKit } from './web-kit.js';

export function cloudsPage(clouds: CloudUse[]): Html {
  const rows = clouds.map(
    (c) => html`<tr data-cloud="${c.name}"><td data-label="Cloud">${c.name}<br><small>${c.jid}</small></td>
<td data-label="Status" class="${c.online ? 'online' : 'offline badge-bad'}">${c.online ? 'online' : 'offline'}</td>
<td data-label="Free instances">${c.online ? c.free : ''}</td>
<td data-label="You may use it" class="use">${
      c.allowed
        ? html`yes, up to ${c.max} instance(s) now`
        : html`<span class="badge-bad">no</span>${c.reason ? `: ${c.reason}` : ''}`
    }</td></tr>`,
  );
  return html`<div class="scroll"><table id="clouds" class="cards"><thead><tr><th>Cloud</th><th>Status</th><th>Free instances</th><th>You may use it</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">This gateway has no clouds configured.</td></tr>`}</tbody></table></div>`;
}

export function addCloudPages(web: App, d: RouteDeps, k: WebKit): void {
  web.get('/clouds', async (req, reply) => {
    const s = k.need(req, reply);
    if (!s) return reply;
    try {
      return k.send(reply, 'Clouds', cloudsPage(await d.service.clouds.usable(s.user)), s);
    } catch (err) {
      return k.pageError(reply, s, err);
    }
  });
}

/** The web pages' bodies: plain functions from views to escaped HTML (web-html.ts). */
import type { Deployment, DeploymentEvent } from './model/index.js';
import type { DeploymentView } from './wire.js';
import { html, type Html } from './web-html.js';
import { eventList, instancesTable } from './web-instances.js';

export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;
export const errorBox = (message?: string) => (message ? html`<p class="error" role="alert">${message}</p>` : html``);

export function loginPage(csrf: string, error?: string): Html {
  return html`${errorBox(error)}<form method="post" action="/web/login">${csrfField(csrf)}
<label for="username">XMPP account (user@domain)</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button>Log in</button></p></form>`;
}

const progress = (s: { name: string; ready: number; wanted: number }) =>
  html`<span class="svc">${s.name} <progress max="${Math.max(s.wanted, 1)}" value="${s.ready}" aria-label="${s.name} ready"></progress> ${s.ready}/${s.wanted}</span> `;

const stateText = (v: DeploymentView) => v.destroyed ?? v.state;

/** What needs a person's eye in a deployment, in words (not colour alone); empty when all is well. */
export function attention(v: DeploymentView): string[] {
  if (v.destroyed) return [];
  const out: string[] = [];
  if (v.state === 'failed' || v.state === 'aborted') out.push(`deployment ${v.state}`);
  const failed = v.instances.filter((i) => i.state === 'failed' || i.reason?.startsWith('lost'));
  if (failed.length) out.push(`${failed.length} instance(s) failed or lost: ${failed.map((i) => i.name).join(', ')}`);
  // Once completed, every wanted instance was ready: fewer now, with none on its way, means one was lost.
  const coming = (s: string) =>
    v.instances.some((i) => i.service === s && (i.state === 'requested' || i.state === 'booting'));
  if (v.state === 'completed')
    for (const s of v.services)
      if (s.ready < s.wanted && !coming(s.name)) out.push(`${s.name} only ${s.ready}/${s.wanted} ready`);
  return out;
}

export function dashboardPage(views: DeploymentView[]): Html {
  const rows = views.map((v) => {
    const clouds = [...new Set(v.instances.map((i) => i.cloud).filter((c) => c))].join(', ');
    const trouble = attention(v);
    return html`<tr data-deployment="${v.id}"${trouble.length ? html` data-attention="yes"` : html``}><td data-label="Cluster"><a href="/web/deployments/${v.id}">${v.cluster}</a><br><small>${v.id}</small></td>
<td data-label="State" class="state state-${stateText(v)}">${stateText(v)}${trouble.length ? html` <span class="error attention">⚠ ${trouble.join('; ')}</span>` : html``}</td>
<td data-label="Services">${v.services.map(progress)}</td><td data-label="Clouds">${clouds}</td></tr>`;
  });
  return html`<p><a href="/web/deploy">Deploy a cluster</a></p>
<div id="live" data-stream="/api/v1/events/stream"><div class="scroll"><table class="cards"><thead><tr><th>Cluster</th><th>State</th><th>Services ready/wanted</th><th>Clouds</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No deployments yet.</td></tr>`}</tbody></table></div></div>`;
}

export function deploymentPage(
  v: DeploymentView,
  dep: Deployment,
  events: DeploymentEvent[],
  csrf: string,
  error?: string,
  more: { addresses?: ReadonlyMap<string, readonly string[]>; allEvents?: boolean; autoscale?: Html } = {},
): Html {
  const ended = v.destroyed !== undefined || v.state === 'failed' || v.state === 'aborted';
  const defs = new Map(dep.definition.services.map((s) => [s.name, s]));
  const services = v.services.map((s) => {
    const d = defs.get(s.name);
    const scale =
      d && d.type === 'scalable' && !ended
        ? html`<form method="post" action="/web/deployments/${v.id}/scale" class="inline">${csrfField(csrf)}<input type="hidden" name="service" value="${s.name}">
<label for="count-${s.name}" class="inline">count (${d.min}..${d.max})</label> <input id="count-${s.name}" name="count" type="number" min="${d.min}" max="${d.max}" value="${s.wanted}" required> <button>Scale</button></form>`
        : html`<small>fixed size</small>`;
    return html`<tr><td data-label="Service">${s.name}</td><td data-label="Type">${s.type}</td><td data-label="Ready">${progress(s)}</td><td data-label="Scale">${scale}</td></tr>`;
  });
  const destroy =
    v.destroyed === undefined
      ? html`<p><a href="/web/deployments/${v.id}/destroy">Destroy this deployment…</a></p>`
      : html``;
  return html`${errorBox(error)}<p>Cluster <strong>${v.cluster}</strong>, owner ${v.owner}, id <code>${v.id}</code></p>
<div id="live" data-stream="/api/v1/deployments/${v.id}/events/stream">
<p>State: <strong class="state state-${stateText(v)}" id="state">${stateText(v)}</strong></p>
<h2>Services</h2><div class="scroll"><table class="cards"><thead><tr><th>Service</th><th>Type</th><th>Ready/wanted</th><th>Scale</th></tr></thead><tbody>${services}</tbody></table></div>${more.autoscale ?? html``}
<h2>Instances</h2>${instancesTable(v.instances, more.addresses ?? new Map())}
${destroy}<h2>Events</h2>${eventList(events, more.allEvents ?? false, `/web/deployments/${encodeURIComponent(v.id)}?events=all`)}</div>`;
}

export function destroyPage(v: DeploymentView, csrf: string): Html {
  const doomed = v.instances.filter((i) => i.state !== 'terminated');
  return html`<p>This terminates deployment <code>${v.id}</code> of cluster <strong>${v.cluster}</strong> and its ${doomed.length} instance(s):</p>
<ul id="doomed">${doomed.map((i) => html`<li>${i.name} (${i.service} on ${i.cloud || 'no cloud yet'})</li>`)}</ul>
<form method="post" action="/web/deployments/${v.id}/destroy">${csrfField(csrf)}<button>Destroy ${v.cluster} and terminate ${doomed.length} instance(s)</button>
<a href="/web/deployments/${v.id}">Cancel</a></form>`;
}

/** The web pages' bodies: plain functions from views to escaped HTML (web-html.ts). */
import type { ContextProblem, ClusterRecord, Deployment, DeploymentEvent } from './model/index.js';
import type { ContextView, DeploymentView } from './wire.js';
import { html, type Html } from './web-html.js';

const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;
const errorBox = (message?: string) => (message ? html`<p class="error" role="alert">${message}</p>` : html``);

export function loginPage(csrf: string, error?: string): Html {
  return html`${errorBox(error)}<form method="post" action="/web/login">${csrfField(csrf)}
<label for="username">XMPP account (user@domain)</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button>Log in</button></p></form>`;
}

const progress = (s: { name: string; ready: number; wanted: number }) =>
  html`<span class="svc">${s.name} <progress max="${Math.max(s.wanted, 1)}" value="${s.ready}" aria-label="${s.name} ready"></progress> ${s.ready}/${s.wanted}</span> `;

const stateText = (v: DeploymentView) => v.destroyed ?? v.state;

export function dashboardPage(views: DeploymentView[]): Html {
  const rows = views.map((v) => {
    const clouds = [...new Set(v.instances.map((i) => i.cloud).filter((c) => c))].join(', ');
    const lost = v.instances.filter((i) => i.state === 'lost' || i.state === 'failed').length;
    return html`<tr data-deployment="${v.id}"><td><a href="/web/deployments/${v.id}">${v.cluster}</a><br><small>${v.id}</small></td>
<td class="state state-${stateText(v)}">${stateText(v)}${lost ? html` <span class="error">(${lost} instance(s) lost or failed)</span>` : html``}</td>
<td>${v.services.map(progress)}</td><td>${clouds}</td></tr>`;
  });
  return html`<p><a href="/web/deploy">Deploy a cluster</a></p>
<div id="live" data-stream="/api/v1/events/stream"><div class="scroll"><table><thead><tr><th>Cluster</th><th>State</th><th>Services ready/wanted</th><th>Clouds</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No deployments yet.</td></tr>`}</tbody></table></div></div>`;
}

export function deploymentPage(
  v: DeploymentView,
  dep: Deployment,
  events: DeploymentEvent[],
  csrf: string,
  error?: string,
  autoscale: Html = html``,
): Html {
  const ended = v.destroyed !== undefined || v.state === 'failed' || v.state === 'aborted';
  const defs = new Map(dep.definition.services.map((s) => [s.name, s]));
  const services = v.services.map((s) => {
    const d = defs.get(s.name);
    const scale =
      d && d.type === 'scalable' && !ended
        ? html`<form method="post" action="/web/deployments/${v.id}/scale" class="inline">${csrfField(csrf)}<input type="hidden" name="service" value="${s.name}">
<label for="count-${s.name}" class="inline">count (${d.min}..${d.max})</label> <input id="count-${s.name}" name="count" type="number" min="${d.min}" max="${d.max}" value="${s.wanted}" required> <button>Scale</button></form>`
        : html``;
    return html`<tr><td>${s.name}</td><td>${s.type}</td><td>${progress(s)}</td><td>${scale}</td></tr>`;
  });
  const instances = v.instances.map(
    (i) => html`<tr><td>${i.name}</td><td>${i.service}</td><td>${i.cloud}</td><td>${i.cloud_instance_id ?? ''}</td>
<td class="state-${i.state}">${i.state}${i.reason ? html` <small>(${i.reason})</small>` : html``}</td><td>${i.ready ? 'ready' : 'not ready'}</td><td>${i.context_version}</td></tr>`,
  );
  const history = [...events]
    .reverse()
    .map((e) => html`<li>${new Date(e.time).toISOString().slice(11, 19)} ${e.type}: ${e.message}</li>`);
  const destroy =
    v.destroyed === undefined
      ? html`<p><a href="/web/deployments/${v.id}/destroy">Destroy this deployment…</a></p>`
      : html``;
  return html`${errorBox(error)}<p>Cluster <strong>${v.cluster}</strong>, owner ${v.owner}, id <code>${v.id}</code></p>
<div id="live" data-stream="/api/v1/deployments/${v.id}/events/stream">
<p>State: <strong class="state state-${stateText(v)}" id="state">${stateText(v)}</strong></p>
<h2>Services</h2><div class="scroll"><table><thead><tr><th>Service</th><th>Type</th><th>Ready/wanted</th><th>Scale</th></tr></thead><tbody>${services}</tbody></table></div>${autoscale}
<h2>Instances</h2><div class="scroll"><table id="instances"><thead><tr><th>Name</th><th>Service</th><th>Cloud</th><th>Cloud id</th><th>State</th><th>Readiness</th><th>Context version</th></tr></thead>
<tbody>${instances.length ? instances : html`<tr><td colspan="7">No instances.</td></tr>`}</tbody></table></div>
${destroy}<h2>Events</h2><ul class="events">${history}</ul></div>`;
}

export function destroyPage(v: DeploymentView, csrf: string): Html {
  const doomed = v.instances.filter((i) => i.state !== 'terminated');
  return html`<p>This terminates deployment <code>${v.id}</code> of cluster <strong>${v.cluster}</strong> and its ${doomed.length} instance(s):</p>
<ul id="doomed">${doomed.map((i) => html`<li>${i.name} (${i.service} on ${i.cloud || 'no cloud yet'})</li>`)}</ul>
<form method="post" action="/web/deployments/${v.id}/destroy">${csrfField(csrf)}<button>Destroy ${v.cluster} and terminate ${doomed.length} instance(s)</button>
<a href="/web/deployments/${v.id}">Cancel</a></form>`;
}

export function deployPage(
  clusters: ClusterRecord[],
  csrf: string,
  error?: string,
  sticky: Record<string, string> = {},
): Html {
  const options = clusters.map(
    (c) =>
      html`<option value="${c.name}"${sticky.cluster === c.name ? html` selected` : html``}>${c.name} (${c.definition.services.map((s) => (s.type === 'scalable' ? `${s.name} ${s.min}..${s.max}, initially ${s.initial}` : `${s.name} ×${s.count}`)).join('; ')})</option>`,
  );
  if (!clusters.length)
    return html`<p>You have no cluster definitions yet: store one with the CLI, chat or the HTTP API first.</p>`;
  return html`${errorBox(error)}<form method="post" action="/web/deploy">${csrfField(csrf)}
<label for="cluster">Cluster definition</label><select id="cluster" name="cluster" required>${options}</select>
<label for="counts">Counts of scalable services (optional, e.g. <code>worker=2, web=3</code>)</label><input id="counts" name="counts" value="${sticky.counts ?? ''}" placeholder="worker=2">
<label for="passphrase">Passphrase (only for encrypted contexts)</label><input id="passphrase" name="passphrase" type="password" autocomplete="off">
<p><button>Deploy</button></p></form>`;
}

export function contextsPage(
  contexts: ContextView[],
  csrf: string,
  o: { error?: string; problems?: readonly ContextProblem[]; name?: string; body?: string; saved?: string } = {},
): Html {
  const rows = contexts.map(
    (c) =>
      html`<tr><td class="ctx-name">${c.name}</td><td>${c.owner}</td><td>${c.visibility}</td><td>${c.version}</td><td>${c.encrypted ? 'yes' : 'no'}</td></tr>`,
  );
  const bad = new Map<number, string[]>();
  for (const p of o.problems ?? []) if (p.line !== undefined) bad.set(p.line, [...(bad.get(p.line) ?? []), p.message]);
  const lines = o.problems?.length
    ? html`<h3>Where</h3><ol class="lines" id="lines">${(o.body ?? '')
        .split('\n')
        .map((l, i) =>
          bad.has(i + 1)
            ? html`<li class="bad" data-line="${i + 1}">${l || ' '} <span class="error">← ${bad.get(i + 1)!.join('; ')}</span></li>`
            : html`<li>${l || ' '}</li>`,
        )}</ol>
<ul id="problems" class="error">${o.problems.map((p) => html`<li>${p.line !== undefined ? `line ${p.line}: ` : ''}${p.section ? `[${p.section}] ` : ''}${p.key ? `${p.key}: ` : ''}${p.message}</li>`)}</ul>`
    : html``;
  return html`${o.saved ? html`<p role="status">Saved context ${o.saved}.</p>` : html``}
<div class="scroll"><table id="contexts"><thead><tr><th>Name</th><th>Owner</th><th>Visibility</th><th>Version</th><th>Encrypted</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="5">No contexts yet.</td></tr>`}</tbody></table></div>
<h2>New context or new version</h2>${errorBox(o.error)}${lines}
<form method="post" action="/web/contexts">${csrfField(csrf)}
<label for="name">Name (a new version if you already have one of this name)</label><input id="name" name="name" value="${o.name ?? ''}" required>
<label for="body">amiconfig INI</label><textarea id="body" name="body" rows="14" required>${o.body ?? ''}</textarea>
<label for="ctx-passphrase">Encrypt with passphrase (optional)</label><input id="ctx-passphrase" name="passphrase" type="password" autocomplete="new-password">
<p><button>Check and save</button></p></form>`;
}

/**
 * The deploy form: pick a cluster definition (a GET form, so it works without script), then
 * one labelled number field per scalable service (min..max, its initial count filled in),
 * and a passphrase field only when a context the definition names is encrypted.
 */
import type { ClusterRecord, GatewayModel } from './model/index.js';
import { html, type Html } from './web-html.js';

/** The form field of a scalable service's count. */
export const countField = (service: string) => `count-${service}`;

/** Whether a context of `rec` (as `user` resolves it) is encrypted: then deploying needs its passphrase. */
export function needsPassphrase(model: GatewayModel, user: string, rec: ClusterRecord): boolean {
  return rec.definition.services.some((s) => {
    if (!s.context) return false;
    const info = model.contexts.resolve(s.context.ref, user);
    const v = info && model.contexts.version(info.id, s.context.version ?? info.latest);
    return v?.content.type === 'encrypted';
  });
}

/**
 * The counts a deploy form asks for; an Error starting "counts:" naming the field otherwise
 * (the service layer checks each against its service's min..max).
 */
export function countsFromForm(rec: ClusterRecord | undefined, form: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of rec?.definition.services ?? []) {
    if (s.type !== 'scalable') continue;
    const raw = (form[countField(s.name)] ?? '').trim();
    if (raw === '') continue;
    if (!/^\d{1,6}$/.test(raw)) throw new Error(`counts: ${s.name}: "${raw}" is not a whole number of instances`);
    out[s.name] = Number(raw);
  }
  return out;
}

export function deployForm(
  clusters: ClusterRecord[],
  chosen: ClusterRecord | undefined,
  o: { csrf: string; encrypted: boolean; error?: string; sticky?: Record<string, string> },
): Html {
  if (!clusters.length)
    return html`<p>You have no cluster definitions yet: store one with the CLI, chat or the HTTP API first.</p>`;
  const sticky = o.sticky ?? {};
  const options = clusters.map(
    (c) =>
      html`<option value="${c.name}"${chosen?.name === c.name ? html` selected` : html``}>${c.name}${c.definition.description ? ` — ${c.definition.description}` : ''}</option>`,
  );
  const pick = html`<form method="get" action="/web/deploy" class="pick">
<label for="pick-cluster">Cluster definition</label><select id="pick-cluster" name="cluster">${options}</select> <button>Choose</button></form>`;
  const error = o.error ? html`<p class="error" role="alert">${o.error}</p>` : html``;
  if (!chosen) return html`${error}${pick}`;
  const fields = chosen.definition.services.map((s) => {
    if (s.type === 'fixed') return html`<li>${s.name}: fixed, ${s.count} instance(s)</li>`;
    const id = countField(s.name);
    return html`<li><label for="${id}">${s.name} instances (${s.min}..${s.max})</label>
<input id="${id}" name="${id}" type="number" inputmode="numeric" min="${s.min}" max="${s.max}" value="${sticky[id] ?? s.initial}" required></li>`;
  });
  const pass = o.encrypted
    ? html`<label for="passphrase">Passphrase of the encrypted context</label><input id="passphrase" name="passphrase" type="password" autocomplete="off" required>`
    : html``;
  return html`${error}${pick}
<form method="post" action="/web/deploy" id="deploy-form">${html`<input type="hidden" name="csrf" value="${o.csrf}">`}
<input type="hidden" name="cluster" value="${chosen.name}">
<h2>Services of ${chosen.name}</h2><ul class="services">${fields}</ul>${pass}
<p><button>Deploy ${chosen.name}</button></p></form>`;
}

/** `worker=2, web=3` as counts (the marketplace's deploy form); an Error naming the bad part otherwise. */
export function parseCounts(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]{1,128})=(\d{1,6})$/.exec(part);
    if (!m) throw new Error(`counts: "${part}" is not service=number`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

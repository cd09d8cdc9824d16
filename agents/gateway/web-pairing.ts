/**
 * The pairing page: create a single-use code for one of your contexts, see it once (only
 * its hash is stored), and watch your codes' list change live when a machine claims one:
 * /web/pairing/stream sends an event each time, and live.js swaps in the fresh list.
 */
import type { App, RouteDeps } from './http.js';
import type { PairingClaim } from './service.js';
import { contextView } from './views.js';
import { html, type Html } from './web-html.js';
import type { WebKit } from './web-kit.js';
import { compactTime } from './web-instances.js';

const KEEPALIVE_MS = 15_000;

export function pairingPage(
  contexts: { name: string; version: number }[],
  claims: PairingClaim[],
  o: { csrf: string; enabled: boolean; code?: { code: string; context: string; expires: number }; error?: string },
  now = Date.now(),
): Html {
  if (!o.enabled)
    return html`<p>Pairing is not enabled on this gateway (its configuration has no [pairing] section).</p>`;
  const shown = o.code
    ? html`<section aria-live="polite"><p>Your pairing code for <strong>${o.code.context}</strong>, valid until ${compactTime(o.code.expires * 1000, now)} UTC and for one machine only:</p>
<p class="code" id="code">${o.code.code}</p><p>Give it to the machine's instance agent (its <code>pair_code</code>); this page shows when the machine claims it. The code is shown only now.</p></section>`
    : html``;
  const options = contexts.map((c) => html`<option value="${c.name}">${c.name} (version ${c.version})</option>`);
  const form = contexts.length
    ? html`<form method="post" action="/web/pairing"><input type="hidden" name="csrf" value="${o.csrf}">
<label for="pair-context">Context</label><select id="pair-context" name="context" required>${options}</select>
<label for="pair-ttl">Valid for (minutes)</label><input id="pair-ttl" name="minutes" type="number" inputmode="numeric" min="1" max="60" value="10" required>
<p><button>Create pairing code</button></p></form>`
    : html`<p>You have no unencrypted context to pair with (encrypted ones cannot be paired: the gateway never holds their passphrase).</p>`;
  const rows = claims.map((c) => {
    const status =
      c.claimed !== undefined
        ? html`<span class="claimed">claimed</span> at ${compactTime(c.claimed, now)} by <code>${c.jid ?? ''}</code>`
        : c.expires <= now
          ? html`<span class="badge-bad">expired</span>`
          : html`waiting for a machine (until ${compactTime(c.expires, now)})`;
    return html`<tr><td data-label="Issued">${compactTime(c.created, now)}</td><td data-label="Context">${c.context} v${c.version}</td><td data-label="Status" class="status">${status}</td></tr>`;
  });
  return html`${o.error ? html`<p class="error" role="alert">${o.error}</p>` : html``}${shown}${form}
<div id="live" data-stream="/web/pairing/stream"><h2>Your codes of the last day</h2><div class="scroll"><table id="codes" class="cards"><thead><tr><th>Issued</th><th>Context</th><th>Status</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="3">No codes yet.</td></tr>`}</tbody></table></div></div>`;
}

export function addPairingPages(web: App, d: RouteDeps, k: WebKit): void {
  const { service, model } = d;
  const contexts = (user: string) =>
    service.contexts
      .list(user)
      .map((c) => contextView(model, c))
      .filter((c) => !c.encrypted)
      .map((c) => ({ name: c.name, version: c.version }));
  const show = (user: string, csrf: string, o: Pick<Parameters<typeof pairingPage>[2], 'code' | 'error'> = {}) =>
    pairingPage(contexts(user), service.pairing?.claims(user) ?? [], { csrf, enabled: !!service.pairing, ...o });

  web.get('/pairing', async (req, reply) => {
    const s = k.need(req, reply);
    if (!s) return reply;
    try {
      return k.send(reply, 'Pairing', show(s.user, s.csrf), s);
    } catch (err) {
      return k.pageError(reply, s, err);
    }
  });
  web.post('/pairing', async (req, reply) => {
    const ok = k.needPost(req, reply);
    if (!ok) return reply;
    const context = ok.f.context ?? '';
    const minutes = (ok.f.minutes ?? '').trim();
    try {
      if (!service.pairing) return k.send(reply, 'Pairing', show(ok.s.user, ok.s.csrf), ok.s, 404);
      if (!/^\d{1,4}$/.test(minutes) || Number(minutes) < 1)
        return k.send(
          reply,
          'Pairing',
          show(ok.s.user, ok.s.csrf, { error: `valid for: "${minutes}" is not a whole number of minutes (1 or more)` }),
          ok.s,
          422,
        );
      const r = service.pairing.code(ok.s.user, { context, ttlS: Number(minutes) * 60 });
      return k.send(reply, 'Pairing', show(ok.s.user, ok.s.csrf, { code: { ...r, context } }), ok.s);
    } catch (err) {
      const e = err as { message?: string; condition?: string };
      // The pairing module refuses with stanza errors (not found, encrypted, too many codes).
      if (e && typeof e.condition === 'string')
        return k.send(reply, 'Pairing', show(ok.s.user, ok.s.csrf, { error: e.message ?? e.condition }), ok.s, 422);
      return k.pageError(reply, ok.s, err);
    }
  });

  /** An event each time a machine claims one of the user's codes (no data: the page reloads its list). */
  web.get('/pairing/stream', async (req, reply) => {
    const s = k.need(req, reply);
    if (!s) return reply;
    const raw = reply.raw;
    reply.hijack();
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    raw.write(': cloudgate pairing stream\nretry: 2000\n\n');
    let n = 0;
    const claimed = (owner: string) => {
      if (owner === s.user) raw.write(`id: ${++n}\nevent: claimed\ndata: {}\n\n`);
    };
    const events = service.pairing?.events;
    events?.on('claimed', claimed);
    const ping = setInterval(() => raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
    ping.unref();
    const end = () => {
      clearInterval(ping);
      events?.off('claimed', claimed);
    };
    req.raw.on('close', end);
    raw.on('error', end);
  });
}

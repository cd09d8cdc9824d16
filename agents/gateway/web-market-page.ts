/** The marketplace page's body (web-market.ts): a search, the entries with what one can do with each, paging, a publish form. */
import type { MarketEntry, MarketPage } from './market.js';
import { html, type Html } from './web-html.js';

export interface MarketPageInput {
  result: MarketPage;
  q: string;
  me: string;
  csrf: string;
  /** The caller's own contexts and cluster definitions, for the publish form. */
  own: { contexts: readonly string[]; clusters: readonly string[] };
  notice?: string;
  error?: string;
  /** A pairing code just made: shown once, with the entry it pairs. */
  code?: { code: string; context: string; version: number; expires: number };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The query to come back to after a form: the search and page the form was on. */
const backTo = (q: string, page: number) =>
  html`<input type="hidden" name="q" value="${q}"><input type="hidden" name="page" value="${page}">`;

export const marketHref = (q: string, page: number): string => {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return `/web/market${s ? `?${s}` : ''}`;
};

function entryHtml(e: MarketEntry, i: MarketPageInput): Html {
  const csrf = html`<input type="hidden" name="csrf" value="${i.csrf}">${backTo(i.q, i.result.page)}`;
  const act = (what: string) => `/web/market/${encodeURIComponent(e.id)}/${what}`;
  const mine = e.owner === i.me;
  const vote = mine
    ? html``
    : html`<form method="post" action="${act('vote')}" class="inline vote">${csrf}
<button name="value" value="up" aria-label="Vote ${e.name} up">▲ Up</button> <button name="value" value="down" aria-label="Vote ${e.name} down">▼ Down</button> <button name="value" value="clear" aria-label="Clear my vote on ${e.name}">Clear</button></form>`;
  const clone =
    e.kind === 'context'
      ? html`<form method="post" action="${act('clone')}" class="inline">${csrf}<label for="clone-${e.id}" class="inline">name</label> <input id="clone-${e.id}" name="name" placeholder="${e.name}" size="12"> <button aria-label="Clone ${e.name}">Clone</button></form>`
      : html`<form method="post" action="${act('clone')}" class="inline">${csrf}<button aria-label="Clone ${e.name}">Clone</button></form>`;
  const use =
    e.kind === 'cluster'
      ? html`<form method="post" action="${act('deploy')}" class="use">${csrf}
<label for="counts-${e.id}">Counts (optional, e.g. <code>worker=2</code>)</label><input id="counts-${e.id}" name="counts" placeholder="worker=2">
<label for="pass-${e.id}">Passphrase (only for encrypted contexts)</label><input id="pass-${e.id}" name="passphrase" type="password" autocomplete="off">
<button aria-label="Deploy ${e.name}">Deploy</button></form>`
      : e.encrypted
        ? html`<p><small>Encrypted: clone it and deploy with your passphrase; it cannot be paired.</small></p>`
        : html`<form method="post" action="${act('pair')}" class="inline">${csrf}<button aria-label="Pairing code for ${e.name}">Pairing code</button></form>`;
  const unpublish = mine
    ? html` <form method="post" action="${act('unpublish')}" class="inline">${csrf}<button aria-label="Unpublish ${e.name}">Unpublish</button></form>`
    : html``;
  return html`<article class="entry" data-entry="${e.id}">
<h2>${e.name} <small>${e.kind === 'cluster' ? 'cluster' : `context v${e.contextVersion}`}${e.encrypted ? ', encrypted' : ''}</small></h2>
<p class="meta">by ${e.owner} · rank <strong class="rank">${e.rank}</strong> (${plural(e.votes, 'vote', 'votes')})${e.tags.length ? html` · ${e.tags.map((t) => html`<a class="tag" href="${marketHref(`+${t}`, 1)}">${t}</a> `)}` : html``}</p>
<p class="summary">${e.summary}</p>${e.description ? html`<p class="description">${e.description}</p>` : html``}
<p class="actions">${vote} ${clone}${unpublish}</p>${use}</article>`;
}

function publishForm(i: MarketPageInput): Html {
  const options = [
    ...i.own.contexts.map((c) => html`<option value="context:${c}">context ${c}</option>`),
    ...i.own.clusters.map((c) => html`<option value="cluster:${c}">cluster ${c}</option>`),
  ];
  if (!options.length) return html`<p>You have no contexts or cluster definitions to publish yet.</p>`;
  return html`<form method="post" action="/web/market" id="publish"><input type="hidden" name="csrf" value="${i.csrf}">
<label for="what">Context (its newest version) or cluster definition</label><select id="what" name="what" required>${options}</select>
<label for="summary">Summary (one line)</label><input id="summary" name="summary" maxlength="140" required>
<label for="tags">Tags (comma-separated)</label><input id="tags" name="tags" placeholder="batch, htcondor">
<label for="description">Description (optional)</label><textarea id="description" name="description" rows="4" maxlength="4000"></textarea>
<p><button>Publish</button></p></form>`;
}

export function marketPage(i: MarketPageInput): Html {
  const r = i.result;
  const pages =
    r.pages > 1
      ? html`<nav class="pages" aria-label="Result pages">${r.page > 1 ? html`<a href="${marketHref(i.q, r.page - 1)}" rel="prev">← Previous</a> ` : html``}<span>Page ${r.page} of ${r.pages}</span>${r.page < r.pages ? html` <a href="${marketHref(i.q, r.page + 1)}" rel="next">Next →</a>` : html``}</nav>`
      : html``;
  const code = i.code
    ? html`<p role="status" id="pairing">Pairing code for ${i.code.context} v${i.code.version}: <code class="code">${i.code.code}</code> (single use, until ${new Date(i.code.expires * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC). Type it on the machine with <code>cloudgate agent instance</code>.</p>`
    : html``;
  return html`${i.error ? html`<p class="error" role="alert">${i.error}</p>` : html``}${i.notice ? html`<p role="status">${i.notice}</p>` : html``}${code}
<form method="get" action="/web/market" role="search"><label for="q">Search: words, <code>+tag</code> required, <code>-tag</code> excluded</label>
<input id="q" name="q" value="${i.q}" maxlength="1024"> <button>Search</button></form>
<p id="found">${r.total === 0 ? 'Nothing in the marketplace matches.' : `${plural(r.total, 'entry', 'entries')}, by rank then newest.`}</p>
<div id="entries">${r.entries.map((e) => entryHtml(e, i))}</div>${pages}
<h2>Publish</h2>${publishForm(i)}`;
}

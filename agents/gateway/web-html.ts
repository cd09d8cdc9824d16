/** HTML for the web pages: every value goes through `esc`, and `page` wraps a body in the one layout. */
import { assetUrl } from './web-assets.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for element content and quoted attribute values. */
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** A trusted fragment: built only from `html` templates, so its values are already escaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A template whose interpolations are escaped unless they are Html (or arrays of it). */
export function html(parts: TemplateStringsArray, ...values: unknown[]): Html {
  let out = parts[0]!;
  values.forEach((v, i) => {
    out += (Array.isArray(v) ? v : [v]).map((x) => (x instanceof Html ? x.text : esc(x))).join('') + parts[i + 1]!;
  });
  return new Html(out);
}

export interface PageUser {
  jid: string;
  csrf: string;
  /** Shows the admin view's link. */
  admin?: boolean;
}

/** The layout: a header with the user and a logout form, then `body`. */
export function page(title: string, body: Html, user?: PageUser): string {
  const nav = user
    ? html`<nav><a href="/web/">Deployments</a> <a href="/web/deploy">Deploy</a> <a href="/web/contexts">Contexts</a> <a href="/web/clusters">Clusters</a> <a href="/web/market">Marketplace</a> <a href="/web/clouds">Clouds</a> <a href="/web/pairing">Pairing</a>${user.admin ? html` <a href="/web/admin">Admin</a>` : html``}
<form method="post" action="/web/logout" class="inline"><input type="hidden" name="csrf" value="${user.csrf}"><span class="who">${user.jid}</span> <button>Log out</button></form></nav>`
    : html``;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · cloudgate</title><link rel="stylesheet" href="${assetUrl('web.css')}"><script src="${assetUrl('live.js')}" defer></script></head>
<body><header><strong>cloudgate</strong> ${nav}</header><main><h1>${title}</h1>${body}</main></body></html>`}`;
}
